import Foundation

extension Schema {
    /// Finds the current state of another record (a request a comment refers to, a department).
    public typealias Lookup = (RecordKind, UUID) -> RecordState?

    /// Checks a write against the schema: its time, known fields, valid values, required fields
    /// at creation, fixed fields after it, the permission table of DESIGN §6, the lifecycle of
    /// §7.3 and what each step writes besides the state.
    ///
    /// The checks run in a fixed order and the first that fails gives the refusal, so every
    /// implementation refuses a change that breaks several rules with the same code. The order
    /// is normative: `Protocol/README.md` §12.11 numbers it, and `Protocol/vectors/checks.json`
    /// holds a change for each pair of neighbours.
    ///
    /// 1. the change writes a field (8);
    /// 2. its time lies in the window of ``checkTime(_:receivedAt:)``, and its author is at most
    ///    ``maximumAuthorBytes`` long (2);
    /// 3. every field is one of the kind's (6);
    /// 4. every value suits its field (2), fields in name order;
    /// 5. a creation writes a fixed field (4) and every required one (2); an edit no fixed one (5);
    /// 6. the records it names exist (4);
    /// 7. the kind's own rules: who creates, the lifecycle, signatures, feedback (1, 2, 3, 4, 8, 10);
    /// 8. the writer's role may write each field, and now (1), fields in name order;
    /// 9. a lifecycle step writes what it must besides the state, and nothing else does (2).
    ///
    /// - Parameters:
    ///   - change: the write; its `fields` are what is checked.
    ///   - writer: who writes, from the registry on the server, never from the client's claim.
    ///   - seen: the record as the writer saw it: the view at the change's context. Judging
    ///     against this, not the latest state, keeps legal offline work from being refused for
    ///     a race (DESIGN §6).
    ///   - lookup: the current state of other records (departments, the request of a comment).
    ///   - receivedAt: the judge's clock: the server's when it judges a push, the site's when
    ///     it writes. The model reads no clock, so the caller passes it in.
    ///   - seesAll: the writer's site has a whole-organisation scope (a quality office): it may
    ///     open and run a survey round of any department's service (DESIGN §7.8).
    /// - Throws: a ``Refusal`` whose message names the rule and what would be accepted.
    public static func check(
        _ change: Change,
        by writer: Writer,
        seen: RecordState,
        lookup: @escaping Lookup,
        receivedAt: Timestamp,
        seesAll: Bool = false
    ) throws(Refusal) {
        let kind = change.kind
        let spec = spec(kind)
        // 1. Something to write.
        guard !change.isVoid, !change.fields.isEmpty else {
            throw Refusal(.malformed, "a change must write at least one field")
        }
        // 2. A time that can be true, and an author the wire carries.
        try checkTime(change.at, receivedAt: receivedAt)
        guard change.author.utf8.count <= maximumAuthorBytes else {
            throw Refusal(
                .invalidValue,
                "the author of a change may be at most \(maximumAuthorBytes) bytes; this one is \(change.author.utf8.count)"
            )
        }
        // 3. Known fields, all of them before any value, so the code does not depend on names.
        // Each written field with the position of its spec, in name order.
        let written = change.fields.sorted { $0.key < $1.key }
        var positions: [Int] = []
        positions.reserveCapacity(written.count)
        for (name, _) in written {
            guard let position = spec.position(of: name) else {
                let known = spec.fields.map(\.name).joined(separator: ", ")
                throw Refusal(.unknownField, "\(kind.withArticle) has no field '\(name)'; its fields are \(known)")
            }
            positions.append(position)
        }
        // 4. Valid values.
        for (field, position) in zip(written, positions) {
            try validate(field.value, for: spec.fields[position], of: kind)
        }
        // 5. Creation or edit.
        let write = Write(change: change, writer: writer, seen: seen, spec: spec, lookup: lookup)
        if write.creating {
            // A write that sets none of the fields fixed at creation is an edit, and the writer
            // has seen nothing of the record: to it, there is no such record. The same answer
            // for a record that does not exist and one outside the writer's scope (DESIGN §6.1).
            guard positions.contains(where: { spec.fields[$0].fixed }) else {
                throw noSuchRecord(kind, change.recordID, for: write.writerName)
            }
            for field in spec.fields where field.required {
                guard let value = change.fields[field.name], value != .null else {
                    throw Refusal(.invalidValue, "a new \(kind.rawValue) needs its \(field.label)")
                }
            }
        } else {
            for position in positions where spec.fields[position].fixed {
                let what = kind == .comment ? "comments are immutable" : "it is fixed once the record exists"
                throw Refusal(
                    .immutable, "the \(spec.fields[position].label) of \(write.describe()) cannot be changed: \(what)")
            }
        }
        // 6. The records it names.
        let parties = try write.parties()
        var roles = write.roles(of: writer, parties: parties)
        // A whole-organisation site runs survey rounds as the provider would (DESIGN §7.8).
        if kind == .round, seesAll, case .department = writer { roles.insert(.provider) }

        // 7. The kind's own rules.
        switch kind {
        case .department:
            guard roles.contains(.admin) else {
                throw Refusal(
                    .notPermitted,
                    "\(write.writerName) may not write \(write.describe()): departments are set by the server administrator"
                )
            }
        case .standard:
            try checkStandard(write, writer: writer, roles: roles, parties: parties)
        case .request:
            try checkRequest(write, writer: writer, roles: roles, parties: parties)
        case .comment:
            guard !roles.isEmpty else {
                throw Refusal(
                    .notPermitted,
                    "\(write.writerName) may not comment on \(write.describe(parties.request)): only its customer \(write.code(parties.customer)) and provider \(write.code(parties.provider)) may"
                )
            }
        case .feedback:
            roles = try checkFeedback(write, roles: roles, parties: parties)
        case .service:
            try checkService(write, roles: roles, parties: parties)
        case .need:
            try checkNeed(write, writer: writer, parties: parties)
        case .action:
            try checkAction(write, writer: writer, roles: roles, parties: parties)
        case .kudos:
            try checkKudos(write, writer: writer, parties: parties)
        case .round:
            try checkRound(write, roles: roles, parties: parties)
        case .answer:
            try checkAnswer(write, writer: writer, parties: parties)
        }

        // 8. Who may write each field, and when.
        for ((name, _), position) in zip(written, positions) where !(kind == .request && name == "state") {
            let field = spec.fields[position]
            guard !field.writers.isDisjoint(with: roles) else {
                throw Refusal(
                    .notPermitted,
                    "\(write.writerName) may not set the \(field.label) of \(write.describe()): only \(write.who(field.writers, parties: parties)) may"
                )
            }
            guard !write.creating else { continue }
            switch field.condition {
            case .always:
                break
            case .whileOpen:
                let (state, open) = openness(of: write)
                guard open else {
                    throw Refusal(
                        .notPermitted,
                        "the \(field.label) of \(write.describe()) can only change while it is open; it is \(state)")
                }
            case .whileProposed:
                guard !isAgreed(seen) else {
                    throw Refusal(
                        .notPermitted,
                        "\(write.describe()) is agreed, and agreed standards are never edited in place: propose a new standard that supersedes it"
                    )
                }
            }
        }

        // 9. What a lifecycle step writes besides the state.
        if kind == .request {
            try checkStepWrites(write)
        }
    }

    /// The state a request or an action was in as the writer saw it, and whether that state is
    /// open (the condition ``FieldSpec/Condition/whileOpen``).
    static func openness(of write: Write) -> (state: String, open: Bool) {
        if write.change.kind == .action {
            let status = write.seenValue("status")?.text ?? ActionStatus.open
            return (status, status == ActionStatus.open)
        }
        let state = write.seenValue("state")?.text ?? RequestState.submitted
        return (state, RequestState.open.contains(state))
    }

    /// The refusal for a write to a record the writer cannot see: one that does not exist, or
    /// one outside its scope. It never tells the two apart.
    public static func noSuchRecord(_ kind: RecordKind, _ id: UUID, for writerName: String) -> Refusal {
        Refusal(
            .notFound,
            "there is no \(kind.rawValue) \(id.text) that \(writerName) can see; `interno sync` fetches what others wrote"
        )
    }

    private static func checkRequest(
        _ write: Write,
        writer: Writer,
        roles: Set<Role>,
        parties: Write.Parties
    ) throws(Refusal) {
        let fields = write.change.fields
        if write.creating {
            guard case .department(let department) = writer, parties.customer == department else {
                throw Refusal(
                    .notPermitted,
                    "\(write.writerName) may not raise a request on behalf of \(write.code(parties.customer)): a request is raised by its customer department"
                )
            }
            guard parties.customer != parties.provider else {
                throw Refusal(.invalidValue, "a department cannot raise a request to itself")
            }
            guard fields["state"] == .text(requestLifecycle.initial) else {
                throw Refusal(.invalidTransition, "a new request starts as \(requestLifecycle.initial)")
            }
            var covered: UUID?
            if let standard = fields["standard"]?.id {
                guard let record = write.lookup(.standard, standard), record.exists else {
                    throw Refusal(.notFound, "the standard \(standard.text) does not exist")
                }
                let spec = spec(.standard)
                guard
                    record.resolve("customer", policy: spec.policy("customer")).displayValue == .id(parties.customer!),
                    record.resolve("provider", policy: spec.policy("provider")).displayValue == .id(parties.provider!)
                else {
                    throw Refusal(
                        .invalidValue, "the standard of a request must be between its customer and its provider")
                }
                covered = record.value(of: "catalogService")?.id
            }
            if let service = fields["service"]?.id {
                try checkCatalogued(write, service: service, provider: parties.provider, what: "a request")
                if let covered, covered != service {
                    throw Refusal(
                        .invalidValue,
                        "the standard of this request covers \(write.describeService(covered)), not \(write.describeService(service)): pick the standard of the service, or no service"
                    )
                }
            }
        } else if let newState = fields["state"]?.text {
            try checkTransition(write, to: newState, roles: roles, parties: parties)
        }
    }

    private static func checkTransition(
        _ write: Write,
        to newState: String,
        roles: Set<Role>,
        parties: Write.Parties
    ) throws(Refusal) {
        let lifecycle = requestLifecycle
        let name = write.describe()
        switch write.seen.resolve("state", policy: .workflow(lifecycle)) {
        case .unset:
            throw Refusal(.notFound, "\(name) has no state")
        case .conflict(_, let siblings):
            let values = siblings.compactMap(\.value.text)
            guard values.contains(newState) else {
                throw Refusal(
                    .conflictPending,
                    "the state of \(name) is in conflict (\(Set(values).sorted().joined(separator: " / "))): resolve it first with `interno conflicts resolve`"
                )
            }
            guard !roles.isDisjoint(with: [.customer, .provider]) else {
                throw Refusal(
                    .notPermitted, "\(write.writerName) is not a party to \(name) and may not resolve its state")
            }
        case .value(let value):
            let current = value.text ?? ""
            guard current != newState else {
                throw Refusal(.invalidTransition, "\(name) is already \(current)")
            }
            let steps = lifecycle.steps(from: current, to: newState)
            guard !steps.isEmpty else {
                let allowed = lifecycle.steps(from: current).map { "\($0.verb) (to \($0.to))" }
                let options = allowed.isEmpty ? "nothing: \(current) is final" : allowed.joined(separator: ", ")
                throw Refusal(
                    .invalidTransition,
                    "\(name) cannot go from \(current) to \(newState); from \(current) it can \(options)")
            }
            guard steps.contains(where: { roles.contains($0.by) }) else {
                let step = steps[0]
                throw Refusal(
                    .notPermitted,
                    "\(write.writerName) may not \(step.verb) \(name): only \(write.who([step.by], parties: parties)) may"
                )
            }
        }
    }

    private static func checkStandard(
        _ write: Write,
        writer: Writer,
        roles: Set<Role>,
        parties: Write.Parties
    ) throws(Refusal) {
        if write.creating {
            guard !roles.isDisjoint(with: [.customer, .provider]) else {
                throw Refusal(
                    .notPermitted, "\(write.writerName) may not propose a standard between two other departments")
            }
            guard parties.customer != parties.provider else {
                throw Refusal(.invalidValue, "a standard is agreed between two different departments")
            }
            if let superseded = write.change.fields["supersedes"]?.id {
                guard let record = write.lookup(.standard, superseded), record.exists else {
                    throw Refusal(
                        .notFound, "the standard to supersede, \(superseded.text), does not exist")
                }
                let spec = spec(.standard)
                let sameParties = ["provider", "customer"].allSatisfy { name in
                    record.resolve(name, policy: spec.policy(name)).displayValue == write.change.fields[name]
                }
                guard sameParties else {
                    throw Refusal(
                        .invalidValue,
                        "a standard supersedes only a standard between the same provider and customer")
                }
            }
        }
        try checkRetirement(write, roles: roles, instead: "propose a new standard")
        if let service = write.change.fields["catalogService"]?.id {
            try checkCatalogued(write, service: service, provider: parties.provider, what: "a standard")
        }
        let fingerprint = termsFingerprint { name in
            if let value = write.change.fields[name] { return .value(value) }
            return write.seen.resolve(name, policy: spec(.standard).policy(name))
        }
        for side in ["providerSignature", "customerSignature"] {
            guard let signature = write.change.fields[side], signature != .null else { continue }
            guard let fingerprint else {
                throw Refusal(
                    .conflictPending, "\(write.describe()) has terms in conflict: resolve them before signing")
            }
            guard signature == .text(fingerprint) else {
                throw Refusal(
                    .invalidValue,
                    "this signature is for other terms than the current terms of \(write.describe()) (\(fingerprint)); review them and sign again"
                )
            }
        }
    }

    /// A catalogued service that `what` (a standard, a request, a need, a round) names: it
    /// exists and it is the provider's. Retirement is not judged here: a writer offline may not
    /// have seen it, and legal offline work is never refused for a race (DESIGN §6); a site
    /// refuses new references to a service it knows is retired.
    private static func checkCatalogued(
        _ write: Write, service: UUID, provider: UUID?, what: String
    ) throws(Refusal) {
        guard let record = write.lookup(.service, service), record.exists, record.kind == .service else {
            throw Refusal(
                .notFound,
                "the service \(service.text) is not in the catalogue here; `interno service list` shows the services, `interno sync` fetches new ones"
            )
        }
        guard let provider, record.value(of: "provider") == .id(provider) else {
            throw Refusal(
                .invalidValue,
                "\(write.describeService(service)) is provided by \(write.code(record.value(of: "provider")?.id)), not \(write.code(provider)): \(what) names a service of its own provider"
            )
        }
    }

    private static func checkService(_ write: Write, roles: Set<Role>, parties: Write.Parties) throws(Refusal) {
        if write.creating, !roles.contains(.provider) {
            throw Refusal(
                .notPermitted,
                "\(write.writerName) may not add a service to the catalogue of \(write.code(parties.provider)): a department lists only its own services"
            )
        }
        try checkRetirement(write, roles: roles, instead: "add a new service")
    }

    /// The rules of a kind that is retired rather than deleted (standards, services):
    /// `retired` is only ever written `true`, and the administrator writes nothing else.
    private static func checkRetirement(_ write: Write, roles: Set<Role>, instead: String) throws(Refusal) {
        if let retired = write.change.fields["retired"], retired != .bool(true) {
            throw Refusal(
                .invalidValue,
                "a retired \(write.change.kind.rawValue) stays retired: \(instead) instead of bringing \(write.describe()) back"
            )
        }
        guard roles != [.admin] || write.change.fields.keys.allSatisfy({ $0 == "retired" }) else {
            throw Refusal(.notPermitted, "the server administrator may only retire \(write.describe())")
        }
    }

    private static func checkNeed(_ write: Write, writer: Writer, parties: Write.Parties) throws(Refusal) {
        guard write.creating else { return }
        guard case .department(let department) = writer, parties.customer == department else {
            throw Refusal(
                .notPermitted,
                "\(write.writerName) may not say what \(write.code(parties.customer)) needs: a department says what it needs itself"
            )
        }
        guard parties.customer != parties.provider else {
            throw Refusal(.invalidValue, "a department does not need its own services from itself")
        }
        guard let service = write.change.fields["service"]?.id, let customer = parties.customer,
            write.change.recordID == needID(service: service, customer: customer)
        else {
            throw Refusal(.malformed, "the id of a need is derived from its service and customer; this one is not")
        }
        try checkCatalogued(write, service: service, provider: parties.provider, what: "a need")
    }

    private static func checkAction(
        _ write: Write, writer: Writer, roles: Set<Role>, parties: Write.Parties
    ) throws(Refusal) {
        let fields = write.change.fields
        guard !roles.isDisjoint(with: [.customer, .provider]) else {
            throw Refusal(
                .notPermitted,
                write.creating
                    ? "\(write.writerName) may not set an action between two other departments: an action is agreed between a provider and its customer"
                    : "\(write.writerName) may not write \(write.describe()): only its departments \(write.code(parties.customer)) and \(write.code(parties.provider)) may"
            )
        }
        let owner = write.value("owner")?.id
        if write.creating {
            guard parties.customer != parties.provider else {
                throw Refusal(.invalidValue, "an action is agreed between two different departments")
            }
            guard let owner, owner == parties.customer || owner == parties.provider else {
                throw Refusal(
                    .invalidValue,
                    "the owner of an action is one of its two departments, \(write.code(parties.customer)) or \(write.code(parties.provider)); \(write.code(owner)) is neither"
                )
            }
            guard fields["status"] == .text(ActionStatus.open) else {
                throw Refusal(.invalidTransition, "a new action starts \(ActionStatus.open)")
            }
            if let id = fields["round"]?.id {
                guard let round = write.lookup(.round, id), round.exists, round.kind == .round else {
                    throw Refusal(.notFound, "the survey round \(id.text) of this action does not exist")
                }
                guard round.value(of: "provider")?.id == parties.provider, let customer = parties.customer,
                    askedDepartments(of: round).contains(customer)
                else {
                    throw Refusal(
                        .invalidValue,
                        "an action about a survey round is between its provider, \(write.code(round.value(of: "provider")?.id)), and a department it asked"
                    )
                }
            }
            for (name, kind) in [("request", RecordKind.request), ("standard", .standard)] {
                guard let id = fields[name]?.id else { continue }
                guard let record = write.lookup(kind, id), record.exists, record.kind == kind else {
                    throw Refusal(.notFound, "the \(name) \(id.text) of this action does not exist")
                }
                guard record.value(of: "customer")?.id == parties.customer,
                    record.value(of: "provider")?.id == parties.provider
                else {
                    throw Refusal(
                        .invalidValue,
                        "an action about a \(name) is between its customer and its provider, \(write.code(record.value(of: "customer")?.id)) and \(write.code(record.value(of: "provider")?.id))"
                    )
                }
            }
            return
        }
        guard fields["status"] != nil || fields["outcome"] != nil else { return }
        guard case .department(let department) = writer, department == owner else {
            throw Refusal(
                .notPermitted,
                "\(write.writerName) may not close \(write.describe()) or record its outcome: only its owner \(write.code(owner)) may"
            )
        }
        if let status = fields["status"]?.text {
            let seen = write.seenValue("status")?.text ?? ActionStatus.open
            guard seen == ActionStatus.open else {
                throw Refusal(
                    .invalidTransition, "\(write.describe()) is already \(seen): done and dropped are final")
            }
            guard status != ActionStatus.open else {
                throw Refusal(.invalidTransition, "\(write.describe()) is already open")
            }
        }
    }

    private static func checkKudos(_ write: Write, writer: Writer, parties: Write.Parties) throws(Refusal) {
        guard write.creating else { return }
        guard case .department(let department) = writer, department == parties.customer else {
            throw Refusal(
                .notPermitted,
                "\(write.writerName) may not send kudos on behalf of \(write.code(parties.customer)): kudos come from the department that gives them"
            )
        }
        guard parties.customer != parties.provider else {
            throw Refusal(
                .invalidValue, "a department cannot send kudos to itself: thank another department for its service")
        }
        let fields = write.change.fields
        let reasons = ["request", "action", "period"].filter { fields[$0] != nil && fields[$0] != .null }
        guard reasons.count == 1 else {
            throw Refusal(
                .invalidValue,
                "kudos are for one thing: a request, an action done or a period of service; \(reasons.isEmpty ? "none is given" : "these are several: " + reasons.joined(separator: ", "))"
            )
        }
        let pair: Set<UUID?> = [parties.customer, parties.provider]
        for (name, kind) in [("request", RecordKind.request), ("action", .action)] {
            guard let id = fields[name]?.id else { continue }
            guard let record = write.lookup(kind, id), record.exists, record.kind == kind else {
                throw Refusal(.notFound, "the \(name) \(id.text) these kudos are for does not exist")
            }
            guard Set([record.value(of: "customer")?.id, record.value(of: "provider")?.id]) == pair else {
                throw Refusal(
                    .invalidValue,
                    "kudos for a \(name) go between its two departments, \(write.code(record.value(of: "customer")?.id)) and \(write.code(record.value(of: "provider")?.id))"
                )
            }
            if kind == .action, let status = record.value(of: "status")?.text, status != ActionStatus.done {
                throw Refusal(.notPermitted, "kudos for an action come once it is done; it is \(status)")
            }
        }
    }

    private static func checkRound(_ write: Write, roles: Set<Role>, parties: Write.Parties) throws(Refusal) {
        let fields = write.change.fields
        if write.creating {
            guard roles.contains(.provider) else {
                throw Refusal(
                    .notPermitted,
                    "\(write.writerName) may not open a survey round for \(write.code(parties.provider)): a provider surveys the customers of its own services, or a whole-organisation (quality) site does"
                )
            }
            guard let service = fields["service"]?.id else { return }
            try checkCatalogued(write, service: service, provider: parties.provider, what: "a survey round")
            for invitation in fields["customers"]?.text.flatMap(parseInvitations) ?? [] {
                guard let department = write.lookup(.department, invitation.department), department.exists else {
                    throw Refusal(.notFound, "the customer department \(invitation.department.text) does not exist")
                }
                guard invitation.department != parties.provider else {
                    throw Refusal(.invalidValue, "a provider does not survey itself: ask its customer departments")
                }
            }
        } else if write.seenValue("closed") == .bool(true) {
            throw Refusal(.notPermitted, "\(write.describe()) is closed: a closed round stays as it is")
        }
        if let closed = fields["closed"], closed != .bool(true) {
            throw Refusal(.invalidValue, "a closed round stays closed: open a new round instead")
        }
        if let opens = write.value("opens")?.time, let closes = write.value("closes")?.time, closes <= opens {
            throw Refusal(
                .invalidValue, "a survey round closes after it opens; this one opens \(opens) and closes \(closes)")
        }
    }

    private static func checkAnswer(_ write: Write, writer: Writer, parties: Write.Parties) throws(Refusal) {
        guard write.creating else { return }
        let change = write.change
        guard case .department(let department) = writer, department == parties.customer else {
            throw Refusal(
                .notPermitted,
                "\(write.writerName) may not answer for \(write.code(parties.customer)): each department answers for itself"
            )
        }
        guard !change.author.contains("@") else {
            throw Refusal(
                .invalidValue, "an answer is anonymous: its author is the site that sends it, never a person")
        }
        guard let roundID = change.fields["round"]?.id, let round = write.lookup(.round, roundID), round.exists,
            round.kind == .round
        else {
            throw Refusal(.notFound, "the survey round of this answer does not exist")
        }
        guard round.value(of: "provider")?.id == parties.provider else {
            throw Refusal(.invalidValue, "the provider of an answer is the provider of its round")
        }
        let asked = askedDepartments(of: round)
        guard let customer = parties.customer, asked.contains(customer) else {
            let codes = asked.map { write.code($0) }.sorted().joined(separator: ", ")
            throw Refusal(
                .notPermitted, "\(write.code(parties.customer)) is not asked in this survey round; it asks \(codes)")
        }
        // Closed: answers written after the closing stand refused; one written before it, offline,
        // stands (the time of the closing is that of the write that closed it).
        if let closedAt = round.siblings("closed").filter({ $0.value == .bool(true) }).map(\.at).min(),
            change.at > closedAt
        {
            throw Refusal(.notPermitted, "this survey round is closed: it takes no more answers")
        }
        if let opens = round.value(of: "opens")?.time, change.at < opens {
            throw Refusal(
                .notPermitted,
                "this survey round opens at \(opens): an answer before it is refused; answer from then on")
        }
        if let closes = round.value(of: "closes")?.time, change.at > closes {
            throw Refusal(
                .notPermitted, "this survey round closed at \(closes): answers after it are refused")
        }
        let expectations = surveyDimensions.map(expectationField)
        if round.value(of: "form") == .text("paired") {
            guard let missing = expectations.first(where: { change.fields[$0] == nil }) else { return }
            throw Refusal(
                .invalidValue,
                "this round asks for the expected score of each dimension too; \(missing) is missing")
        } else if let extra = expectations.first(where: { change.fields[$0] != nil }) {
            throw Refusal(
                .invalidValue, "this round asks for perceptions only; leave out the expected scores (\(extra))")
        }
    }

    private static func checkFeedback(
        _ write: Write,
        roles: Set<Role>,
        parties: Write.Parties
    ) throws(Refusal) -> Set<Role> {
        guard let request = parties.request, let sideText = write.value("by")?.text,
            let side = Role(rawValue: sideText)
        else { throw Refusal(.invalidValue, "feedback needs its request and side") }
        guard write.change.recordID == feedbackID(request: request, by: side) else {
            throw Refusal(.malformed, "the id of feedback is derived from its request and side; this one is not")
        }
        guard roles.contains(side) else {
            let what = side == .customer ? "rate the service of" : "rate the cooperation on"
            throw Refusal(
                .notPermitted,
                "\(write.writerName) may not \(what) \(write.describe(request)): only \(write.who([side], parties: parties)) may"
            )
        }
        let requestSpec = spec(.request)
        let requestRecord = write.lookup(.request, request)
        let delivered = requestRecord?.resolve("firstDeliveredAt", policy: requestSpec.policy("firstDeliveredAt"))
        guard let delivered, delivered != .unset else {
            let state =
                requestRecord?.resolve("state", policy: requestSpec.policy("state")).displayValue?.text ?? "unknown"
            throw Refusal(
                .notPermitted, "feedback on \(write.describe(request)) comes after delivery; it is \(state) now")
        }
        return [side]
    }
}
