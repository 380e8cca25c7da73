import Foundation

/// The domain schema of DESIGN §6–§7, as data: record kinds, their fields, types, merge
/// policies, who may write what, and the request lifecycle.
///
/// Sites and the server check every write against the same schema (``Schema/check(_:by:seen:lookup:receivedAt:)``),
/// so a person gets a refusal at once, offline, and the server never accepts what a site would not.
public enum Schema {
    /// The version of the schema; a site and a server must agree on it to sync. Version 2
    /// added the services catalogue (the kinds `service` and `need`, a standard's
    /// `catalogService` and a request's `service`), improvement actions, kudos, and survey
    /// rounds and their answers (with a standard's `surveyTarget`).
    public static let version: UInt32 = 2

    /// Request priorities, lowest first.
    public static let priorities = ["low", "normal", "high", "urgent"]

    /// Request states, in the order people read them.
    public enum RequestState {
        public static let submitted = "submitted"
        public static let acknowledged = "acknowledged"
        public static let inProgress = "in_progress"
        public static let waitingOnCustomer = "waiting_on_customer"
        public static let delivered = "delivered"
        public static let closed = "closed"
        public static let declined = "declined"
        public static let cancelled = "cancelled"

        /// The states in which a request is open: work is still owed.
        public static let open: Set<String> = [submitted, acknowledged, inProgress, waitingOnCustomer]
    }

    /// The request lifecycle of DESIGN §7.3.
    public static let requestLifecycle: Lifecycle = {
        typealias S = RequestState
        let response = "firstResponseAt"
        let delivery = "firstDeliveredAt"
        return Lifecycle(
            states: [
                S.submitted, S.acknowledged, S.inProgress, S.waitingOnCustomer, S.delivered, S.closed,
                S.declined, S.cancelled,
            ],
            initial: S.submitted,
            // Every provider step is a response: the first one stamps `firstResponseAt`, and the
            // first delivery `firstDeliveredAt` (feedback waits for it).
            steps: [
                .init("ack", from: [S.submitted], to: S.acknowledged, by: .provider, stamps: [response]),
                .init(
                    "start", from: [S.submitted, S.acknowledged], to: S.inProgress, by: .provider, stamps: [response]),
                .init("wait", from: [S.inProgress], to: S.waitingOnCustomer, by: .provider, stamps: [response]),
                .init(
                    "resume", from: [S.waitingOnCustomer], to: S.inProgress, by: .provider, forward: false,
                    stamps: [response]),
                .init("deliver", from: [S.inProgress], to: S.delivered, by: .provider, stamps: [response, delivery]),
                .init(
                    "decline", from: [S.submitted, S.acknowledged], to: S.declined, by: .provider, stamps: [response],
                    needs: ["declineReason"]),
                .init("confirm", from: [S.delivered], to: S.closed, by: .customer),
                .init("reopen", from: [S.delivered], to: S.inProgress, by: .customer, forward: false),
                .init("cancel", from: RequestState.open, to: S.cancelled, by: .customer),
            ]
        )
    }()

    /// The fields of a standard that make up its terms: what a signature signs.
    public static let standardTerms: [FieldName] = [
        "service", "ackTarget", "deliverTarget", "priorityTargets", "noticeRequired", "answerTarget",
        "confirmTarget", "csatTarget", "complianceTarget",
    ]

    /// Terms added after schema version 1. The canonical terms name one only when it is set, so
    /// the fingerprint of a standard that does not use it is the one its signatures signed
    /// before the term existed.
    public static let laterStandardTerms: [FieldName] = ["catalogService", "surveyTarget"]

    /// The states of an improvement action: `open` until its owner marks it `done` or
    /// `dropped`, both final.
    public enum ActionStatus {
        public static let open = "open"
        public static let done = "done"
        public static let dropped = "dropped"
        public static let all = [open, done, dropped]
    }

    /// The five SERVQUAL dimensions a survey round asks about, in the order people read them:
    /// each is an answer's perception score, and `expect` + the capitalised name its
    /// expectation score in the paired form.
    public static let surveyDimensions = ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]

    /// What each dimension asks about, as the questionnaire words it: a statement scored from
    /// 1 (strongly disagree) to 7 (strongly agree).
    public static let surveyStatements: [String: String] = [
        "tangibles": "Its tools, equipment, documents and communications are up to the job.",
        "reliability": "It does what it promised, when it promised, right the first time.",
        "responsiveness": "It is willing to help and answers promptly.",
        "assurance": "Its people know what they are doing, are courteous, and inspire confidence.",
        "empathy": "It gives us individual attention and understands our needs.",
    ]

    /// The internal-NPS question, scored from 0 to 10.
    public static let npsQuestion = "How likely are you to recommend this service to a colleague?"

    /// The field of an answer that holds the expectation score of `dimension`.
    public static func expectationField(_ dimension: String) -> FieldName {
        "expect" + dimension.prefix(1).uppercased() + dimension.dropFirst()
    }

    /// The forms of a survey round: perceptions only (the short form), or expectations and
    /// perceptions paired.
    public static let surveyForms = ["perceptions", "paired"]

    /// The most attributes a catalogued service lists, and the longest one.
    public static let attributeLimits = (items: 20, length: 200)

    private static let parties: Set<Role> = [.customer, .provider]
    private static let week: ClosedRange<Int64> = 0...(366 * 86_400)

    /// Every kind, with its fields.
    public static let kinds: [RecordKind: KindSpec] = [
        .department: KindSpec(
            .department,
            [
                FieldSpec("code", "code", .code(maxLength: 10), required: true, fixed: true, writers: [.admin]),
                FieldSpec("name", "name", .text(minLength: 1, maxLength: 100), required: true, writers: [.admin]),
                FieldSpec("timeZone", "time zone", .timeZone, required: true, writers: [.admin]),
                FieldSpec("hours", "business hours", .weeklyHours, required: true, writers: [.admin]),
                FieldSpec("holidays", "holidays", .dateList, nullable: true, writers: [.admin]),
            ]),
        .standard: KindSpec(
            .standard,
            [
                FieldSpec(
                    "provider", "provider", .reference(.department), required: true, fixed: true, writers: parties),
                FieldSpec(
                    "customer", "customer", .reference(.department), required: true, fixed: true, writers: parties),
                FieldSpec("supersedes", "superseded standard", .reference(.standard), fixed: true, writers: parties),
                FieldSpec(
                    "service", "service", .text(minLength: 1, maxLength: 200), required: true, writers: parties,
                    condition: .whileProposed),
                FieldSpec(
                    "catalogService", "catalogued service", .reference(.service), nullable: true, writers: parties,
                    condition: .whileProposed),
                FieldSpec(
                    "ackTarget", "time to acknowledge", .duration(1...week.upperBound), required: true,
                    writers: parties, condition: .whileProposed),
                FieldSpec(
                    "deliverTarget", "time to deliver", .duration(1...week.upperBound), required: true,
                    writers: parties, condition: .whileProposed),
                FieldSpec(
                    "priorityTargets", "targets per priority", .priorityTargets(1...week.upperBound), nullable: true,
                    writers: parties, condition: .whileProposed),
                FieldSpec(
                    "noticeRequired", "notice before the needed-by date", .duration(week), nullable: true,
                    writers: parties, condition: .whileProposed),
                FieldSpec(
                    "answerTarget", "time to answer while waiting", .duration(week), nullable: true,
                    writers: parties, condition: .whileProposed),
                FieldSpec(
                    "confirmTarget", "time to confirm a delivery", .duration(week), nullable: true,
                    writers: parties, condition: .whileProposed),
                FieldSpec(
                    "csatTarget", "CSAT target (%)", .integer(0...100), required: true, writers: parties,
                    condition: .whileProposed),
                FieldSpec(
                    "complianceTarget", "compliance target (%)", .integer(0...100), required: true,
                    writers: parties, condition: .whileProposed),
                FieldSpec(
                    "surveyTarget", "survey target (lowest dimension score, 1–7)", .integer(1...7), nullable: true,
                    writers: parties, condition: .whileProposed),
                FieldSpec(
                    "providerSignature", "provider's signature", .fingerprint, nullable: true, writers: [.provider]),
                FieldSpec(
                    "customerSignature", "customer's signature", .fingerprint, nullable: true, writers: [.customer]),
                FieldSpec("retired", "retired", .bool, writers: [.admin, .customer, .provider]),
            ]),
        .request: KindSpec(
            .request,
            [
                FieldSpec(
                    "key", "key", .text(minLength: 3, maxLength: 40), required: true, fixed: true, writers: [.customer]),
                FieldSpec(
                    "customer", "customer", .reference(.department), required: true, fixed: true, writers: [.customer]),
                FieldSpec(
                    "provider", "provider", .reference(.department), required: true, fixed: true, writers: [.customer]),
                FieldSpec("standard", "standard", .reference(.standard), fixed: true, writers: [.customer]),
                FieldSpec("service", "service", .reference(.service), fixed: true, writers: [.customer]),
                FieldSpec(
                    "title", "title", .text(minLength: 1, maxLength: 200), required: true, writers: [.customer],
                    condition: .whileOpen),
                FieldSpec(
                    "details", "details", .text(minLength: 0, maxLength: 20_000), writers: [.customer],
                    condition: .whileOpen),
                FieldSpec(
                    "priority", "priority", .enumeration(priorities), required: true, writers: [.customer],
                    condition: .whileOpen),
                FieldSpec(
                    "neededBy", "needed-by date", .time, nullable: true, writers: [.customer], condition: .whileOpen),
                FieldSpec(
                    "state", "state", .state(requestLifecycle), policy: .workflow(requestLifecycle), required: true,
                    writers: parties),
                FieldSpec(
                    "assignee", "assignee", .text(minLength: 1, maxLength: 100), nullable: true, writers: [.provider]),
                FieldSpec(
                    "declineReason", "reason for declining", .text(minLength: 1, maxLength: 2_000), writers: [.provider]
                ),
                FieldSpec("firstResponseAt", "first response", .time, policy: .earliest, writers: [.provider]),
                FieldSpec("firstDeliveredAt", "first delivery", .time, policy: .earliest, writers: [.provider]),
            ]),
        .comment: KindSpec(
            .comment,
            [
                FieldSpec("request", "request", .reference(.request), required: true, fixed: true, writers: parties),
                FieldSpec(
                    "body", "text", .text(minLength: 1, maxLength: 20_000), required: true, fixed: true,
                    writers: parties),
            ]),
        .feedback: KindSpec(
            .feedback,
            [
                FieldSpec("request", "request", .reference(.request), required: true, fixed: true, writers: parties),
                FieldSpec(
                    "by", "side", .enumeration(["customer", "provider"]), required: true, fixed: true, writers: parties),
                FieldSpec("rating", "rating", .integer(1...5), required: true, writers: parties),
                FieldSpec("effort", "effort", .integer(1...7), nullable: true, writers: [.customer]),
                FieldSpec(
                    "comment", "comment", .text(minLength: 0, maxLength: 2_000), nullable: true, writers: parties),
            ]),
        .service: KindSpec(
            .service,
            [
                FieldSpec(
                    "provider", "provider", .reference(.department), required: true, fixed: true,
                    writers: [.provider]),
                FieldSpec("name", "name", .text(minLength: 1, maxLength: 100), required: true, writers: [.provider]),
                FieldSpec(
                    "description", "description", .text(minLength: 0, maxLength: 2_000), nullable: true,
                    writers: [.provider]),
                FieldSpec(
                    "attributes", "attributes",
                    .lines(maxItems: attributeLimits.items, maxLength: attributeLimits.length), nullable: true,
                    writers: [.provider]),
                FieldSpec("retired", "retired", .bool, writers: [.admin, .provider]),
            ]),
        .need: KindSpec(
            .need,
            [
                FieldSpec(
                    "service", "service", .reference(.service), required: true, fixed: true, writers: [.customer]),
                FieldSpec(
                    "customer", "customer", .reference(.department), required: true, fixed: true, writers: [.customer]),
                FieldSpec(
                    "provider", "provider", .reference(.department), required: true, fixed: true, writers: [.customer]),
                FieldSpec(
                    "note", "note", .text(minLength: 0, maxLength: 2_000), nullable: true, writers: [.customer]),
                FieldSpec("dropped", "dropped", .bool, writers: [.customer]),
            ]),
        .action: KindSpec(
            .action,
            [
                FieldSpec(
                    "customer", "customer", .reference(.department), required: true, fixed: true, writers: parties),
                FieldSpec(
                    "provider", "provider", .reference(.department), required: true, fixed: true, writers: parties),
                FieldSpec("owner", "owner", .reference(.department), required: true, fixed: true, writers: parties),
                FieldSpec("request", "request", .reference(.request), fixed: true, writers: parties),
                FieldSpec("standard", "standard", .reference(.standard), fixed: true, writers: parties),
                FieldSpec("round", "survey round", .reference(.round), fixed: true, writers: parties),
                FieldSpec(
                    "title", "title", .text(minLength: 1, maxLength: 200), required: true, writers: parties,
                    condition: .whileOpen),
                FieldSpec(
                    "details", "details", .text(minLength: 0, maxLength: 2_000), nullable: true, writers: parties,
                    condition: .whileOpen),
                FieldSpec("due", "due date", .time, required: true, writers: parties, condition: .whileOpen),
                FieldSpec(
                    "status", "status", .enumeration(ActionStatus.all), required: true, writers: parties),
                FieldSpec(
                    "outcome", "outcome", .text(minLength: 0, maxLength: 2_000), nullable: true, writers: parties),
            ]),
        .kudos: KindSpec(
            .kudos,
            [
                FieldSpec("from", "giver", .reference(.department), required: true, fixed: true, writers: [.customer]),
                FieldSpec("to", "receiver", .reference(.department), required: true, fixed: true, writers: [.customer]),
                FieldSpec(
                    "person", "person thanked", .text(minLength: 1, maxLength: 100), fixed: true, writers: [.customer]),
                FieldSpec(
                    "message", "message", .text(minLength: 1, maxLength: 2_000), required: true, fixed: true,
                    writers: [.customer]),
                FieldSpec("request", "request", .reference(.request), fixed: true, writers: [.customer]),
                FieldSpec("action", "action", .reference(.action), fixed: true, writers: [.customer]),
                FieldSpec("period", "period", .period, fixed: true, writers: [.customer]),
            ]),
        .round: KindSpec(
            .round,
            [
                FieldSpec(
                    "provider", "provider", .reference(.department), required: true, fixed: true,
                    writers: [.provider]),
                FieldSpec(
                    "service", "service", .reference(.service), required: true, fixed: true, writers: [.provider]),
                FieldSpec(
                    "customers", "customer departments", .invitations(maxItems: 50), required: true, fixed: true,
                    writers: [.provider]),
                FieldSpec(
                    "form", "form", .enumeration(surveyForms), required: true, fixed: true, writers: [.provider]),
                FieldSpec("opens", "opening time", .time, required: true, writers: [.provider]),
                FieldSpec("closes", "closing time", .time, required: true, writers: [.provider]),
                FieldSpec("closed", "closed", .bool, writers: [.provider]),
            ]),
        .answer: KindSpec(
            .answer,
            [
                FieldSpec("round", "round", .reference(.round), required: true, fixed: true, writers: [.customer]),
                FieldSpec(
                    "customer", "customer", .reference(.department), required: true, fixed: true, writers: [.customer]),
                FieldSpec(
                    "provider", "provider", .reference(.department), required: true, fixed: true, writers: [.customer]),
            ]
                + surveyDimensions.map { dimension in
                    FieldSpec(dimension, dimension, .integer(1...7), required: true, fixed: true, writers: [.customer])
                }
                + surveyDimensions.map { dimension in
                    FieldSpec(
                        expectationField(dimension), "expected \(dimension)", .integer(1...7), fixed: true,
                        writers: [.customer])
                }
                + [
                    FieldSpec(
                        "nps", "likelihood to recommend", .integer(0...10), required: true, fixed: true,
                        writers: [.customer]),
                    FieldSpec(
                        "comment", "comment", .text(minLength: 1, maxLength: 2_000), fixed: true, writers: [.customer]),
                ]),
    ]

    /// The spec of `kind`.
    public static func spec(_ kind: RecordKind) -> KindSpec {
        kinds[kind]!
    }

    /// The id of the feedback record that `side` gives on `request`: one per request and side,
    /// so two sites of one department that rate offline merge into one record.
    public static func feedbackID(request: UUID, by side: Role) -> UUID {
        DerivedID.make("feedback", request.text, side.rawValue)
    }

    /// The id of what `customer` needs from `service`: one per department and service, so two
    /// sites of one department that write it offline merge into one record.
    public static func needID(service: UUID, customer: UUID) -> UUID {
        DerivedID.make("need", service.text, customer.text)
    }

    /// The fingerprint of a standard's current terms, or `nil` while a term is in conflict
    /// (nothing can be signed until it is resolved): the 64-bit FNV-1a hash of
    /// ``canonicalTerms(of:)``'s UTF-8 bytes, as 16 lowercase hex digits (Protocol §12.10).
    public static func termsFingerprint(of fields: (FieldName) -> FieldResolution) -> String? {
        canonicalTerms(of: fields).map(DerivedID.fingerprint)
    }

    /// The text a terms fingerprint hashes: for each of ``standardTerms`` in order, `name=;`
    /// when unset, else `name=RANK:VALUE;` with the value's rank in the total order of values
    /// and its text (a duration as `1d4h`, a cleared term as `—`); then each of
    /// ``laterStandardTerms`` that is set and not cleared, the same way; `nil` while a term is
    /// in conflict.
    public static func canonicalTerms(of fields: (FieldName) -> FieldResolution) -> String? {
        var canonical = ""
        for name in standardTerms {
            switch fields(name) {
            case .conflict: return nil
            case .unset: canonical += "\(name)=;"
            case .value(let value): canonical += "\(name)=\(value.rank):\(value);"
            }
        }
        for name in laterStandardTerms {
            switch fields(name) {
            case .conflict: return nil
            case .unset, .value(.null): continue
            case .value(let value): canonical += "\(name)=\(value.rank):\(value);"
            }
        }
        return canonical
    }

    /// `true` when both departments have signed the current terms of `standard`.
    public static func isAgreed(_ standard: RecordState) -> Bool {
        let spec = spec(.standard)
        let resolve = { (name: FieldName) in standard.resolve(name, policy: spec.policy(name)) }
        guard let terms = termsFingerprint(of: resolve) else { return false }
        return resolve("providerSignature") == .value(.text(terms))
            && resolve("customerSignature") == .value(.text(terms))
    }
}

extension RecordState {
    /// The value of `field` as people see it, resolved by the field's policy in the schema (a
    /// conflicted field shows its provisional value); `nil` when unset or cleared.
    public func value(of field: FieldName) -> FieldValue? {
        let shown = resolve(field, policy: Schema.spec(kind).policy(field)).displayValue
        return shown == .null ? nil : shown
    }
}

extension RecordState {
    /// `true` while some field's siblings are a conflict its policy cannot reduce (DESIGN §3.5).
    public var isConflicted: Bool {
        let spec = Schema.spec(kind)
        // A conflict takes two siblings at least.
        return fields.contains { name, siblings in siblings.count > 1 && spec.policy(name).reduce(siblings).isConflict }
    }
}
