import Foundation

/// Appends values in Interno's compact binary form: LEB128 varints, length-prefixed strings.
///
/// Used for the store's blobs (clocks, field maps, siblings). Deterministic: the same value
/// always encodes to the same bytes, so equal states compare equal byte for byte.
public struct BinaryWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty writer.
    public init() {}

    /// Appends an unsigned LEB128 varint.
    public mutating func write(varint value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Appends a signed integer, zigzag-encoded.
    public mutating func write(signed value: Int64) {
        write(varint: UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Appends a length-prefixed UTF-8 string.
    public mutating func write(string: String) {
        // Straight from the string's storage: no array of its bytes in between.
        let utf8 = string.utf8
        write(varint: UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// Appends the 16 bytes of `uuid`.
    public mutating func write(uuid: UUID) {
        withUnsafeBytes(of: uuid.uuid) { bytes += $0 }
    }

    /// Appends a dot: replica, then counter.
    public mutating func write(dot: Dot) {
        write(uuid: dot.replica.uuid)
        write(varint: dot.counter)
    }

    /// Appends a clock: its entries in replica order.
    public mutating func write(clock: VersionVector) {
        let entries = clock.sortedEntries
        write(varint: UInt64(entries.count))
        for entry in entries {
            write(uuid: entry.replica.uuid)
            write(varint: entry.counter)
        }
    }

    /// Appends a list of dots: their count, then each dot.
    public mutating func write(dots: [Dot]) {
        write(varint: UInt64(dots.count))
        for dot in dots { write(dot: dot) }
    }

    /// Appends one value: a tag byte (the case), then its payload.
    public mutating func write(value: FieldValue) {
        bytes.append(UInt8(value.rank))
        switch value {
        case .null: break
        case .bool(let flag): bytes.append(flag ? 1 : 0)
        case .integer(let number): write(signed: number)
        case .duration(let seconds): write(signed: seconds)
        case .time(let timestamp): write(signed: timestamp.millisecondsSince1970)
        case .text(let text): write(string: text)
        case .id(let uuid): write(uuid: uuid)
        }
    }

    /// Appends a field map, in field-name order.
    public mutating func write(fields: [FieldName: FieldValue]) {
        // Room for a typical field at once, rather than growing byte by byte.
        bytes.reserveCapacity(bytes.count + 1 + fields.count * Self.typicalField)
        write(varint: UInt64(fields.count))
        // The table's positions are sorted by name, as in ``write(siblings:)``, not copies of
        // its pairs.
        var order = Array(fields.indices)
        order.sort { fields[$0].key < fields[$1].key }
        for index in order {
            let (name, value) = fields[index]
            write(string: name)
            write(value: value)
        }
    }

    /// About what one field takes, name and value, in a typical record: a reserve, not a limit.
    private static let typicalField = 32
    /// About what one field's siblings take (name, dot, value, author, time) when it has one.
    private static let typicalSiblings = 96

    /// Appends a record's siblings per field, in field-name order.
    public mutating func write(siblings: [FieldName: [Sibling]]) {
        bytes.reserveCapacity(bytes.count + 1 + siblings.count * Self.typicalSiblings)
        write(varint: UInt64(siblings.count))
        // The table's positions are sorted, not copies of its (name, siblings) pairs: a copy
        // retains both, and sorting the copies was a third of this function in a profile.
        var order = Array(siblings.indices)
        order.sort { siblings[$0].key < siblings[$1].key }
        for index in order {
            let (name, list) = siblings[index]
            write(string: name)
            write(varint: UInt64(list.count))
            for sibling in list {
                write(dot: sibling.dot)
                write(value: sibling.value)
                write(string: sibling.author)
                write(signed: sibling.at.millisecondsSince1970)
            }
        }
    }
}
