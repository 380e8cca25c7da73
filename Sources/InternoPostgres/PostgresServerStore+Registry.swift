import Foundation
import InternoModel
import InternoStore
import PostgresNIO

extension PostgresServerStore {
    // MARK: Registry

    /// What ``registry(_:where:_:)`` decodes, as an SQL list.
    static let registryColumns = RegistryColumn.read.sql

    /// Adds an enrolled site to the registry.
    public func register(_ entry: RegistryRow) async throws {
        try await transaction(.write) { connection in
            for try await taken in try await connection.statement(
                "SELECT EXISTS (SELECT 1 FROM replica_registry WHERE \(RegistryColumn.code) = \(entry.code))",
                logger: Self.quiet
            ).decode(Bool.self) where taken {
                throw StoreError.refused(Refusal(.duplicate, "a site with code \(entry.code) is already enrolled"))
            }
            try await Self.insert(entry, connection)
        }
    }

    static func insert(_ entry: RegistryRow, _ connection: PostgresConnection) async throws {
        guard let replica = UUID(text: entry.replicaID), let department = UUID(text: entry.department) else {
            throw PostgresStoreError.corrupt("registry entry \(entry.replicaID)")
        }
        try await connection.statement(
            """
            INSERT INTO replica_registry (\(unescaped: RegistryColumn.written.sql))
            VALUES (\(replica), \(department), \(entry.departmentCode), \(entry.site), \(entry.code),
                \(entry.fingerprint), \(entry.revoked), \(entry.enrolledAt), \(entry.lastSeenAt),
                \(entry.scope.rawValue))
            """, logger: quiet)
    }

    /// The registry entry whose certificate has `fingerprint`, noting it was seen now, to within
    /// a minute (`RegistryRow.lastSeenResolution`); a revoked site's attempts do not count.
    public func connect(fingerprint: String, at time: Timestamp) async throws -> RegistryRow? {
        // Most connections find their site seen within the last minute and write nothing
        // (`RegistryRow.lastSeenResolution`).
        let found = try await transaction { connection in
            try await Self.registry(connection, where: "\(RegistryColumn.fingerprint) = $1", [fingerprint]).first
        }
        guard var entry = found else { return nil }
        guard !entry.revoked, entry.needsSeen(at: time), let replica = UUID(text: entry.replicaID) else {
            return entry
        }
        let recorded = try await transaction(.write) { connection in
            var recorded = false
            for try await _ in try await connection.statement(
                """
                UPDATE replica_registry SET \(RegistryColumn.lastSeenAt) = \(time.millisecondsSince1970)
                WHERE \(RegistryColumn.replica) = \(replica) AND NOT \(RegistryColumn.revoked)
                RETURNING \(RegistryColumn.replica)
                """,
                logger: Self.quiet
            ) {
                recorded = true
            }
            return recorded
        }
        // Revoked between the read and the write: the caller decides on the entry as it now
        // stands, never on the one read before the revocation.
        guard recorded else {
            return try await transaction { connection in
                try await Self.registry(connection, where: "\(RegistryColumn.fingerprint) = $1", [fingerprint]).first
            }
        }
        entry.lastSeenAt = time.millisecondsSince1970
        return entry
    }

    /// Every enrolled site, by code.
    public func registry() async throws -> [RegistryRow] {
        try await transaction { connection in try await Self.registry(connection, where: "true", []) }
    }

    /// Revokes a site: its certificate is refused from now on. Its changes stay.
    public func revoke(_ replica: ReplicaID) async throws {
        try await transaction(.write) { connection in
            var found = false
            for try await _ in try await connection.statement(
                """
                UPDATE replica_registry SET \(RegistryColumn.revoked) = true WHERE \(RegistryColumn.replica) = \(replica.uuid)
                RETURNING \(RegistryColumn.replica)
                """,
                logger: Self.quiet
            ) {
                found = true
            }
            if !found { throw StoreError.notFound("replica \(replica)") }
        }
    }

    static func registry(_ connection: PostgresConnection, where condition: String, _ values: [String]) async throws
        -> [RegistryRow]
    {
        var bindings = PostgresBindings()
        for value in values { bindings.append(value) }
        let rows = try await connection.statement(
            PostgresQuery(
                unsafeSQL:
                    "SELECT \(registryColumns) FROM replica_registry WHERE \(condition) ORDER BY \(RegistryColumn.code)",
                binds: bindings), logger: quiet)
        var entries: [RegistryRow] = []
        for try await (replica, department, departmentCode, site, fingerprint, revoked, enrolledAt, lastSeenAt, scope)
            in rows.decode((UUID, UUID, String, String, String, Bool, Int64, Int64?, String).self)
        {
            guard let kind = Scope.Kind(rawValue: scope) else {
                throw PostgresStoreError.corrupt("registry entry \(replica) has scope \(scope)")
            }
            var entry = RegistryRow(
                replicaID: replica.text, department: department.text,
                departmentCode: departmentCode, site: site, fingerprint: fingerprint, enrolledAt: enrolledAt,
                scope: kind)
            entry.revoked = revoked
            entry.lastSeenAt = lastSeenAt
            entries.append(entry)
        }
        return entries
    }
}
