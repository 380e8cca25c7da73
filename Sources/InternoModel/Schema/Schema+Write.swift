import Foundation

extension Schema {
    /// One write under check: the change, what the writer had seen, and how to name things.
    struct Write {
        /// The departments a record is between, and the request it refers to.
        struct Parties {
            var customer: UUID?
            var provider: UUID?
            var request: UUID?
        }

        let change: Change
        let writer: Writer
        let seen: RecordState
        let spec: KindSpec
        let lookup: Lookup

        /// `true` when the writer had seen nothing of the record: this write creates it.
        var creating: Bool { !seen.exists }

        /// The value the writer had seen of `name`, resolved (provisional if in conflict).
        func seenValue(_ name: FieldName) -> FieldValue? {
            seen.resolve(name, policy: spec.policy(name)).displayValue
        }

        /// The value `name` has with this write applied: the written value, or what was seen.
        func value(_ name: FieldName) -> FieldValue? {
            change.fields[name] ?? seenValue(name)
        }

        /// The departments of the record, looked up through the request for comments and feedback.
        func parties() throws(Refusal) -> Parties {
            switch change.kind {
            case .department:
                return Parties()
            case .service, .round:
                let parties = Parties(provider: value("provider")?.id)
                if creating {
                    guard let id = parties.provider, let department = lookup(.department, id), department.exists else {
                        throw Refusal(
                            .notFound,
                            "the provider department \(parties.provider?.text ?? "") does not exist; `interno-server department add` creates it"
                        )
                    }
                }
                return parties
            case .kudos:
                let parties = Parties(customer: value("from")?.id, provider: value("to")?.id)
                if creating {
                    try department(parties.customer, exists: "giving", advice: "")
                    try department(parties.provider, exists: "thanked", advice: "")
                }
                return parties
            case .standard, .request, .need, .action, .answer:
                let parties = Parties(customer: value("customer")?.id, provider: value("provider")?.id)
                if creating {
                    let advice = "; `interno-server department add` creates it"
                    try department(parties.customer, exists: "customer", advice: advice)
                    try department(parties.provider, exists: "provider", advice: advice)
                }
                return parties
            case .comment, .feedback:
                guard let request = value("request")?.id, let record = lookup(.request, request), record.exists else {
                    throw Refusal(.notFound, "the request of this \(change.kind.rawValue) does not exist")
                }
                let requestSpec = Schema.spec(.request)
                return Parties(
                    customer: record.resolve("customer", policy: requestSpec.policy("customer")).displayValue?.id,
                    provider: record.resolve("provider", policy: requestSpec.policy("provider")).displayValue?.id,
                    request: request
                )
            }
        }

        /// Refuses a write whose `label` department (`customer`, `thanked`) does not exist;
        /// `advice` ends the refusal's message.
        private func department(_ id: UUID?, exists label: String, advice: String) throws(Refusal) {
            guard let id, let department = lookup(.department, id), department.exists else {
                throw Refusal(.notFound, "the \(label) department \(id?.text ?? "") does not exist\(advice)")
            }
        }

        /// The roles `writer` holds toward this record.
        func roles(of writer: Writer, parties: Parties) -> Set<Role> {
            switch writer {
            case .admin:
                return [.admin]
            case .department(let id):
                var roles: Set<Role> = []
                if parties.customer == id { roles.insert(.customer) }
                if parties.provider == id { roles.insert(.provider) }
                return roles
            }
        }

        /// The department's code, or its id if it is unknown here.
        func code(_ department: UUID?) -> String {
            guard let department else { return "?" }
            let record = lookup(.department, department)
            return record?.resolve("code", policy: .manual).displayValue?.text ?? department.text
        }

        /// The writer's name, looked up only when a refusal needs it.
        var writerName: String { name(of: writer) }

        /// How to call `writer` in a sentence: `IT`, or `the server administrator`.
        func name(of writer: Writer) -> String {
            switch writer {
            case .admin: "the server administrator"
            case .department(let id): code(id)
            }
        }

        /// Who holds `roles`, in words: `the customer department HR`.
        func who(_ roles: Set<Role>, parties: Parties) -> String {
            roles.sorted().map { role in
                switch role {
                case .customer: "the customer department \(code(parties.customer))"
                case .provider: "the provider department \(code(parties.provider))"
                case .admin: "the server administrator"
                }
            }.joined(separator: " or ")
        }

        /// The record named for a person: `request HR-LIS-42`, `standard 'Laptops'`.
        func describe() -> String {
            switch change.kind {
            case .department:
                return "department \(value("code")?.text ?? change.recordID.text)"
            case .standard:
                return "standard '\(value("service")?.text ?? change.recordID.text)'"
            case .request:
                return "request \(value("key")?.text ?? change.recordID.text)"
            case .comment, .feedback:
                return "this \(change.kind.rawValue) on \(describe(value("request")?.id))"
            case .service:
                return "service '\(value("name")?.text ?? change.recordID.text)'"
            case .need:
                return "\(code(value("customer")?.id))'s need of \(describeService(value("service")?.id))"
            case .action:
                return "action '\(value("title")?.text ?? change.recordID.text)'"
            case .kudos:
                return "kudos from \(code(value("from")?.id)) to \(code(value("to")?.id))"
            case .round:
                return "the survey round of \(describeService(value("service")?.id))"
            case .answer:
                return "this answer to a survey round of \(code(value("provider")?.id))"
            }
        }

        /// A catalogued service named by its name, looked up by id.
        func describeService(_ service: UUID?) -> String {
            guard let service else { return "an unknown service" }
            let name = lookup(.service, service)?.resolve("name", policy: .manual).displayValue?.text
            return "service '\(name ?? service.text)'"
        }

        /// A request named by its key, looked up by id.
        func describe(_ request: UUID?) -> String {
            guard let request else { return "an unknown request" }
            let key = lookup(.request, request)?.resolve("key", policy: .manual).displayValue?.text
            return "request \(key ?? request.text)"
        }
    }
}
