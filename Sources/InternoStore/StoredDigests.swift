import Foundation
import GRDB
import GRDBSQLite
import InternoModel

/// The parts of ``RecordDigest`` computed from stored rows, without decoding them: a site and
/// the server hash the same bytes for the same content (Protocol/README.md, 5.9).
///
/// Verify reads every row a site holds, on both ends, so these read each cell's bytes in place
/// through the SQLite C API (``Cells``), and never make a `String`, a `Data` or a `UUID` per
/// cell: those cost several times the hashing.
package enum StoredDigests {
    /// Steps through the rows of `sql`, calling `body` with the cells of each.
    static func scan(
        _ db: Database, _ sql: String, arguments: StatementArguments = [], _ body: (Cells) throws -> Void
    ) throws {
        try db.makeStatement(sql: sql).forEachRow(arguments: arguments, body)
    }

    /// The columns a log row is read with for ``entry(_:using:)``, `record` first, each
    /// qualified with `table` when one is given (`c.record`, for a join).
    static func entryColumns(of table: String? = nil) -> String {
        let prefix = table.map { "\($0)." } ?? ""
        let columns = [
            ChangeLog.Columns.record, ChangeLog.Columns.replica, ChangeLog.Columns.counter, ChangeLog.Columns.kind,
            ChangeLog.Columns.context, ChangeLog.Columns.fields, ChangeLog.Columns.author, ChangeLog.Columns.at,
        ]
        return (columns.map { prefix + $0.name } + ["\(prefix)\(ChangeLog.Columns.refusalCode) IS NOT NULL"])
            .joined(separator: ", ")
    }

    /// The hash of a log row (read with ``entryColumns(of:)``), as ``RecordDigest/entry(_:)``
    /// computes it from the change; `hasher` is scratch space, reused row after row. A replica that is not a record id (a damaged row) hashes
    /// as the zero id: the row still counts, and differs from any real one.
    static func entry(_ cells: Cells, using hasher: inout DigestHasher) -> UInt64 {
        let void = cells.integer(8) != 0
        hasher.reset()
        hasher.combine(void ? 2 : 1)
        let replica = cells.key(1) ?? RecordKey(high: 0, low: 0)
        hasher.combine(fixed: replica.high)
        hasher.combine(fixed: replica.low)
        hasher.combine(varint: UInt64(bitPattern: cells.integer(2)))
        hasher.combine(lengthPrefixed: cells.bytes(3))
        if !void {
            hasher.combine(bytes: cells.bytes(4))
            hasher.combine(bytes: cells.bytes(5))
        }
        hasher.combine(lengthPrefixed: cells.bytes(6))
        hasher.combine(signed: cells.integer(7))
        return hasher.value
    }

    /// The columns a record row is read with for ``state(_:using:)``; `id` first.
    static let stateColumns = RecordTable.all.sql

    /// The hash of a record row (read with ``stateColumns``), as ``RecordDigest/state(_:)``
    /// computes it from the record.
    static func state(_ cells: Cells, using hasher: inout DigestHasher) -> UInt64 {
        hasher.reset()
        hasher.combine(lengthPrefixed: cells.bytes(1))
        hasher.combine(bytes: cells.bytes(2))
        hasher.combine(bytes: cells.bytes(3))
        hasher.combine(cells.integer(4) != 0 ? 1 : 0)
        hasher.combine(cells.integer(5) != 0 ? 1 : 0)
        return hasher.value
    }

    /// The query of `kind`'s table for ``shown(_:kind:using:)``: `id`, then the shown columns.
    static func shownQuery(_ kind: RecordKind) -> String {
        "SELECT \(Projection.id), \(Projection.columns(kind).joined(separator: ", ")) FROM \(kind.rawValue)"
    }

    /// The hash of a query-table row of `kind` (read with ``shownQuery(_:)``), as
    /// ``RecordDigest/shown(kind:values:)`` computes it from its values.
    static func shown(_ cells: Cells, kind: RecordKind, using hasher: inout DigestHasher) -> UInt64 {
        hasher.reset()
        hasher.combine(string: kind.rawValue)
        for index in 1...Int32(Projection.columns(kind).count) {
            switch cells.type(index) {
            case SQLITE_NULL:
                hasher.combine(0)
            case SQLITE_INTEGER:
                hasher.combine(1)
                hasher.combine(signed: cells.integer(index))
            case SQLITE_FLOAT:
                hasher.combine(2)
                hasher.combine(fixed: sqlite3_column_double(cells.statement, index).bitPattern)
            case SQLITE_TEXT:
                hasher.combine(3)
                hasher.combine(lengthPrefixed: cells.bytes(index))
            default:
                hasher.combine(4)
                hasher.combine(lengthPrefixed: cells.bytes(index))
            }
        }
        return hasher.value
    }

    /// `part` with the hash of one more row of it: only a damaged database has two rows of one
    /// record in its query tables, and then the part must differ from any single row's.
    static func adding(_ hash: UInt64, to part: UInt64) -> UInt64 {
        part == 0 ? hash : (part &* 0x0000_0100_0000_01B3) ^ hash
    }

    /// The hash of the row that ``Projection`` would store for `record`; 0 when it stores none.
    package static func shown(of record: RecordState) -> UInt64 {
        guard let values = Projection.values(of: record) else { return 0 }
        return RecordDigest.shown(
            kind: record.kind.rawValue,
            values: values.map { value in
                switch value.storage {
                case .null: .null
                case .int64(let number): .integer(number)
                case .double(let number): .real(number)
                case .string(let text): .text(text)
                case .blob(let data): .blob([UInt8](data))
                }
            })
    }
}

/// A record id as two 64-bit halves, read straight from its stored lowercase text: hashed,
/// compared and sorted as the UUID's bytes are (DESIGN §4 stores ids as lowercase text, whose
/// order is the bytes' order).
struct RecordKey: Hashable, Comparable, Sendable {
    /// The first 8 bytes, most significant first.
    var high: UInt64
    /// The last 8 bytes.
    var low: UInt64

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The key of `uuid`.
    init(_ uuid: UUID) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        withUnsafeBytes(of: uuid.uuid) { bytes in
            for index in 0..<8 { high = high << 8 | UInt64(bytes[index]) }
            for index in 8..<16 { low = low << 8 | UInt64(bytes[index]) }
        }
        self.init(high: high, low: low)
    }

    /// Parses the 36 characters of a UUID in lowercase (`8-4-4-4-12` hex digits); `nil` for
    /// anything else, an uppercase spelling included, so that one record has one key.
    init?(text bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 36, bytes[8] == 0x2D, bytes[13] == 0x2D, bytes[18] == 0x2D, bytes[23] == 0x2D else {
            return nil
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var invalid: UInt8 = 0
        func read(_ offsets: Range<Int>, into value: inout UInt64) {
            for offset in offsets {
                let nibble = Self.nibbles[Int(bytes[offset])]
                invalid |= nibble
                value = value << 4 | UInt64(nibble & 0x0F)
            }
        }
        // The hex digits: 8-4-4 make the first half, 4-12 the second.
        read(0..<8, into: &high)
        read(9..<13, into: &high)
        read(14..<18, into: &high)
        read(19..<23, into: &low)
        read(24..<36, into: &low)
        guard invalid & 0x10 == 0 else { return nil }
        self.init(high: high, low: low)
    }

    /// Each byte's value as a lowercase hex digit, or 0x10 for a byte that is not one.
    private static let nibbles: [UInt8] = (0...255).map { byte in
        switch UInt8(byte) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(byte) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(byte) - UInt8(ascii: "a") + 10
        default: 0x10
        }
    }

    /// The UUID.
    var uuid: UUID {
        let h = high.bigEndian
        let l = low.bigEndian
        return withUnsafeBytes(of: (h, l)) { bytes in
            UUID(
                uuid: (
                    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                    bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
                ))
        }
    }

    static func < (lhs: RecordKey, rhs: RecordKey) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

/// Counter ranges in increasing order, none overlapping, looked up by binary search: a
/// site's outbox, which may hold many sets while it is offline.
struct CounterRanges: Sendable {
    let ranges: [ClosedRange<UInt64>]

    init(_ ranges: [ClosedRange<UInt64>]) {
        self.ranges = ranges.sorted { $0.lowerBound < $1.lowerBound }
    }

    func contains(_ counter: UInt64) -> Bool {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < counter {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low < ranges.count && ranges[low].contains(counter)
    }
}
