import InternoModel

/// A request's priority, as people choose it (`--priority`): the schema's `Schema.priorities`.
public enum RequestPriority: String, CaseIterable, Sendable {
    case low, normal, high, urgent
}

/// Which requests `request list --state` keeps: one state of the lifecycle, or `open` for
/// every state in which work is still owed.
public enum RequestStateFilter: String, CaseIterable, Sendable {
    case open
    case submitted, acknowledged
    case inProgress = "in_progress"
    case waitingOnCustomer = "waiting_on_customer"
    case delivered, closed, declined, cancelled
}

/// How `report watermelon --by` splits the period: not at all, or by month of submission (UTC).
public enum ReportSplit: String, CaseIterable, Sendable {
    case none, month
}
