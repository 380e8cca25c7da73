import Foundation
import InternoModel
import InternoStore

extension Site {
    /// Rates a delivered request from this department's side: the customer rates the service
    /// (1–5, effort 1–7, comment), the provider the customer's cooperation (1–5, comment).
    /// Rating again replaces this side's earlier rating. Returns the side rated.
    @discardableResult
    public func feedback(
        _ key: String, rating: Int, effort: Int? = nil, comment: String? = nil, at given: Timestamp? = nil
    ) throws -> Role {
        let record = try request(key)
        let at = try time(given, for: record)
        // The provider rates cooperation; anyone else rates as the customer, so a department
        // that is neither party is refused by the schema in its own words.
        let providing = record.value(of: "provider")?.id == department && record.value(of: "customer")?.id != department
        let side: Role = providing ? .provider : .customer
        let id = Schema.feedbackID(request: record.id, by: side)
        var fields: [FieldName: FieldValue] = ["rating": .integer(Int64(rating))]
        if let effort { fields["effort"] = .integer(Int64(effort)) }
        if let comment { fields["comment"] = comment.isEmpty ? .null : .text(comment) }
        let exists = try perform { try store.record(id) }?.exists ?? false
        if !exists {
            fields["request"] = .id(record.id)
            fields["by"] = .text(side.rawValue)
        }
        try perform { try store.write([Edit(.feedback, id, fields)], author: author, at: at) }
        return side
    }

    /// The feedback on a request, customer's first.
    func feedback(on record: RecordState) throws -> [FeedbackView] {
        try [Role.customer, .provider].compactMap { side in
            let id = Schema.feedbackID(request: record.id, by: side)
            guard let given = try perform({ try store.record(id) }), given.exists
            else { return nil }
            let latest = given.fields.values.flatMap { $0 }.max { $0.dot < $1.dot }
            return FeedbackView(
                side: side.rawValue, rating: given.value(of: "rating")?.integer.map(Int.init),
                effort: given.value(of: "effort")?.integer.map(Int.init), comment: given.value(of: "comment")?.text,
                author: latest?.author ?? "", at: latest?.at.description ?? "",
                conflicted: !SiteStore.conflicts(of: given).fields.isEmpty)
        }
    }

    /// The audit trail of a request: every change to it, its comments and its feedback, in
    /// time order, with the conflicts each change made or resolved and the changes the server
    /// refused.
    public func history(_ key: String) throws -> [HistoryItemView] {
        let record = try request(key)
        var items: [(Timestamp, Int, HistoryItemView)] = []
        func add(_ entries: [HistoryEntry], _ kind: RecordKind, side: Role? = nil) throws {
            // The state each step left, so a step into in_progress reads as start, resume or reopen.
            var state = Schema.RequestState.submitted
            for entry in entries {
                items.append((entry.change.at, items.count, try item(entry, kind, side: side, from: state)))
                if kind == .request, !entry.change.isVoid, let next = entry.change.fields["state"]?.text {
                    state = next
                }
            }
        }
        try add(try perform { try store.history(of: record.id) }, .request)
        for comment in try perform({ try store.comments(ofRequest: record.id) }) {
            guard let id = UUID(text: comment.id) else { continue }
            try add(try perform { try store.history(of: id) }, .comment)
        }
        for side in [Role.customer, .provider] {
            let id = Schema.feedbackID(request: record.id, by: side)
            guard try perform({ try store.record(id) }) != nil else { continue }
            try add(try perform { try store.history(of: id) }, .feedback, side: side)
        }
        return items.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map(\.2)
    }

    private func item(_ entry: HistoryEntry, _ kind: RecordKind, side: Role?, from previous: String)
        throws -> HistoryItemView
    {
        let change = entry.change
        let spec = Schema.spec(kind)
        var shown: [String: String] = [:]
        for (name, value) in change.fields {
            shown[name] = try display(value, field: name) ?? "none"
        }
        let what: String
        switch kind {
        case .comment:
            what = "commented: \(change.fields["body"]?.text ?? "")"
        case .feedback:
            let rating = change.fields["rating"]?.integer.map { " \($0)/5" } ?? ""
            what = side == .provider ? "rated the cooperation\(rating)" : "rated the service\(rating)"
        default:
            if change.fields["key"] != nil {
                what = "raised: \(change.fields["title"]?.text ?? "")"
            } else if let state = change.fields["state"]?.text, entry.resolved.contains("state") {
                what = "kept \(state.replacingOccurrences(of: "_", with: " ")) (resolving the conflict)"
            } else if let state = change.fields["state"]?.text {
                let steps = Schema.requestLifecycle.steps.filter { $0.to == state }
                let verb = (steps.first { $0.from.contains(previous) } ?? steps.first)?.verb
                what = "\(state.replacingOccurrences(of: "_", with: " "))" + (verb.map { " (\($0))" } ?? "")
            } else if change.isVoid {
                what = "refused change"
            } else {
                let labels = try change.fields.keys.sorted().filter { !$0.hasPrefix("first") }.map { name in
                    "\(spec.field(name)?.label ?? name) to \(try self.shown(change.fields[name], field: name) ?? "none")"
                }
                what = "set " + labels.joined(separator: ", ")
            }
        }
        func labels(_ names: [FieldName]) -> [String] { names.map { spec.field($0)?.label ?? $0 } }
        return HistoryItemView(
            at: change.at.description, author: change.author, record: kind.rawValue, what: what, fields: shown,
            conflicted: labels(entry.conflicted), resolved: labels(entry.resolved),
            refused: change.refusal?.message)
    }
}
