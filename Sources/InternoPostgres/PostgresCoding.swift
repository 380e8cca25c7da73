import Foundation
import InternoModel
import PostgresNIO

/// The stored forms of the log and of record states on PostgreSQL: the same bytes as in the
/// SQLite stores (``BinaryWriter``), in `bytea` columns, with ids as `uuid`.
enum PostgresCoding {
    /// The audience column's value for a change every site receives (the directory).
    static let everyone = "*"

    /// What ``entries(_:)`` decodes, as an SQL list.
    static let changeColumns = ChangeColumn.all.sql

    /// Decodes every row of a query of ``changeColumns``.
    static func entries(_ rows: PostgresRowSequence) async throws -> [StreamEntry] {
        var entries: [StreamEntry] = []
        for try await row in rows {
            let (seq, replica, counter, setStart, setEnd, kind, record, context, fields, author, at) = try row.decode(
                (Int64, UUID, Int64, Int64, Int64, String, UUID, Data, Data, String, Int64).self)
            let columns = row.makeRandomAccess()
            let refusalCode = try columns[11].decode(Int32?.self)
            let refusalReason = try columns[12].decode(String?.self)
            let requires = try columns[13].decode(Data?.self)
            func damaged(_ what: String) -> PostgresStoreError {
                .corrupt("change \(seq) has an unreadable \(what)")
            }
            guard let kind = RecordKind(rawValue: kind) else { throw damaged("kind") }
            guard counter > 0, setStart > 0, setStart <= counter, counter <= setEnd else { throw damaged("counter") }
            do {
                var contextReader = BinaryReader([UInt8](context))
                var fieldReader = BinaryReader([UInt8](fields))
                var dots: [Dot] = []
                if let requires {
                    var reader = BinaryReader([UInt8](requires))
                    dots = try reader.readDots()
                }
                let refusal = refusalCode.map {
                    Refusal(Refusal.Code(rawValue: Int($0)) ?? .malformed, refusalReason ?? "refused")
                }
                let change = Change(
                    dot: Dot(replica: ReplicaID(replica), counter: UInt64(counter)), kind: kind, recordID: record,
                    context: try contextReader.readClock(), fields: try fieldReader.readFields(), author: author,
                    at: Timestamp(millisecondsSince1970: at), refusal: refusal, requires: dots)
                entries.append(StreamEntry(seq: seq, change: change, set: UInt64(setStart)...UInt64(setEnd)))
            } catch {
                throw PostgresStoreError.corrupt("change \(seq): \(error)")
            }
        }
        return entries
    }

    static func record(id: UUID, kind: String, clock: Data, fields: Data) throws -> RecordState {
        guard let kind = RecordKind(rawValue: kind) else {
            throw PostgresStoreError.corrupt("record \(id) of kind \(kind)")
        }
        do {
            return try RecordState(kind: kind, id: id, encodedClock: [UInt8](clock), encodedFields: [UInt8](fields))
        } catch {
            throw PostgresStoreError.corrupt("record \(id): \(error)")
        }
    }

    static func bytes(_ clock: VersionVector) -> Data {
        var writer = BinaryWriter()
        writer.write(clock: clock)
        return Data(writer.bytes)
    }

    static func bytes(_ fields: [FieldName: FieldValue]) -> Data {
        var writer = BinaryWriter()
        writer.write(fields: fields)
        return Data(writer.bytes)
    }

    static func bytes(siblings: [FieldName: [Sibling]]) -> Data {
        var writer = BinaryWriter()
        writer.write(siblings: siblings)
        return Data(writer.bytes)
    }

    /// What a change requires, stored: NULL when nothing, as most changes.
    static func bytes(requires dots: [Dot]) -> Data? {
        guard !dots.isEmpty else { return nil }
        var writer = BinaryWriter()
        writer.write(dots: dots)
        return Data(writer.bytes)
    }
}
