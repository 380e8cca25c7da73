extension Schema {
    /// The earliest time a change may carry: 2000-01-01T00:00:00Z. Generous on purpose: sites
    /// work offline for weeks and `--at` records past events, but no event of this system
    /// happened before it, and 0 or −1 are a writer's bug.
    public static let earliestTime = Timestamp(millisecondsSince1970: 946_684_800_000)

    /// How far after its judge's clock a change's time may lie: one hour of clock skew. A site
    /// dates an event when it happens and pushes it later, so an honest time is in the judge's
    /// past; the allowance covers a site clock that runs fast, never an event still to come.
    public static let futureAllowance: Int64 = 3_600_000

    /// Check 2 of ``check(_:by:seen:lookup:receivedAt:)``: `at` lies from ``earliestTime`` to
    /// ``futureAllowance`` after `receivedAt`, both included; otherwise refused with code 2.
    public static func checkTime(_ at: Timestamp, receivedAt: Timestamp) throws(Refusal) {
        guard at >= earliestTime else {
            throw Refusal(
                .invalidValue,
                "the time of a change must not be before \(earliestTime); got \(at.millisecondsSince1970) ms (\(at))")
        }
        let latest = receivedAt.millisecondsSince1970.addingReportingOverflow(futureAllowance)
        guard latest.overflow || at.millisecondsSince1970 <= latest.partialValue else {
            throw Refusal(
                .invalidValue,
                "the time of a change must not be more than an hour after its receipt (\(receivedAt)); got \(at): check the clock of the site that wrote it"
            )
        }
    }
}
