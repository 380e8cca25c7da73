import Foundation

/// Reads what ``BinaryWriter`` wrote, failing with ``BinaryReader/Error`` on any malformed input.
public struct BinaryReader: Sendable {
    /// Why bytes could not be decoded.
    public enum Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        /// The input ended in the middle of a value.
        case truncated
        /// A varint is longer than 64 bits.
        case overlongVarint
        /// A value tag that no case has.
        case unknownTag(UInt8)
        /// A string that is not UTF-8.
        case invalidUTF8
        /// A count larger than the input could hold.
        case implausibleCount(UInt64)
        /// Bytes left over after the last value.
        case trailingBytes(Int)

        public var description: String {
            switch self {
            case .truncated: "the data ends in the middle of a value"
            case .overlongVarint: "a number is longer than 64 bits"
            case .unknownTag(let tag): "unknown value tag \(tag)"
            case .invalidUTF8: "a string is not valid UTF-8"
            case .implausibleCount(let count): "a count of \(count) is larger than the data"
            case .trailingBytes(let count): "\(count) bytes are left over after the last value"
            }
        }
    }

    private let bytes: [UInt8]
    private var offset = 0

    /// A reader over `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// `true` once every byte has been read.
    public var isAtEnd: Bool { offset == bytes.count }

    /// Throws ``Error/trailingBytes(_:)`` unless every byte has been read.
    public func expectEnd() throws(Error) {
        guard isAtEnd else { throw .trailingBytes(bytes.count - offset) }
    }

    /// Reads an unsigned LEB128 varint.
    public mutating func readVarint() throws(Error) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw .truncated }
            let byte = bytes[offset]
            offset += 1
            guard shift < 64, shift != 63 || byte <= 1 else { throw .overlongVarint }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Reads a zigzag-encoded signed integer.
    public mutating func readSigned() throws(Error) -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Reads a count, checked against the bytes left (each item takes at least `minimumSize`).
    mutating func readCount(minimumSize: Int = 1) throws(Error) -> Int {
        let count = try readVarint()
        guard count <= UInt64(bytes.count - offset) / UInt64(max(minimumSize, 1)) else {
            throw .implausibleCount(count)
        }
        return Int(count)
    }

    /// Reads a length-prefixed UTF-8 string.
    public mutating func readString() throws(Error) -> String {
        let length = try readCount()
        let start = offset
        offset += length
        let string = bytes[start..<start + length].withUnsafeBufferPointer { Self.string(validating: $0) }
        guard let string else { throw .invalidUTF8 }
        return string
    }

    /// `utf8` as a String, or `nil` if it is not valid UTF-8. ASCII (every field name, nearly
    /// every author and value) is valid as it is and is decoded directly: the standard
    /// library's validating initializer is generic and not specialized for a buffer of bytes,
    /// and looked up its type metadata on every string (4% of judging a Push).
    static func string(validating utf8: UnsafeBufferPointer<UInt8>) -> String? {
        var ascii = true
        for byte in utf8 where byte >= 0x80 {
            ascii = false
            break
        }
        return ascii ? String(decoding: utf8, as: UTF8.self) : String(validating: utf8, as: UTF8.self)
    }

    /// Reads 16 bytes as a UUID.
    public mutating func readUUID() throws(Error) -> UUID {
        guard bytes.count - offset >= 16 else { throw .truncated }
        let uuid = UUID(bytes: bytes[offset..<offset + 16])!
        offset += 16
        return uuid
    }

    /// Reads a dot.
    public mutating func readDot() throws(Error) -> Dot {
        let replica = ReplicaID(try readUUID())
        return Dot(replica: replica, counter: try readVarint())
    }

    /// Reads a list of dots.
    public mutating func readDots() throws(Error) -> [Dot] {
        let count = try readCount(minimumSize: 17)
        var dots: [Dot] = []
        dots.reserveCapacity(count)
        for _ in 0..<count { dots.append(try readDot()) }
        return dots
    }

    /// Reads a clock.
    public mutating func readClock() throws(Error) -> VersionVector {
        let count = try readCount(minimumSize: 17)
        var counters: [ReplicaID: UInt64] = [:]
        counters.reserveCapacity(count)
        for _ in 0..<count {
            let replica = ReplicaID(try readUUID())
            counters[replica] = try readVarint()
        }
        return VersionVector(counters)
    }

    /// Reads one tagged value.
    public mutating func readValue() throws(Error) -> FieldValue {
        guard offset < bytes.count else { throw .truncated }
        let tag = bytes[offset]
        offset += 1
        switch tag {
        case 0: return .null
        case 1:
            guard offset < bytes.count else { throw .truncated }
            offset += 1
            return .bool(bytes[offset - 1] != 0)
        case 2: return .integer(try readSigned())
        case 3: return .duration(try readSigned())
        case 4: return .time(Timestamp(millisecondsSince1970: try readSigned()))
        case 5: return .text(try readString())
        case 6: return .id(try readUUID())
        default: throw .unknownTag(tag)
        }
    }

    /// Reads a field map.
    public mutating func readFields() throws(Error) -> [FieldName: FieldValue] {
        let count = try readCount(minimumSize: 2)
        var fields: [FieldName: FieldValue] = [:]
        fields.reserveCapacity(count)
        for _ in 0..<count {
            let name = try readString()
            fields[name] = try readValue()
        }
        return fields
    }

    /// Reads a record's siblings per field.
    public mutating func readSiblings() throws(Error) -> [FieldName: [Sibling]] {
        let count = try readCount(minimumSize: 2)
        // Room for every field at once: a table grown field by field hashes every name again
        // at each doubling.
        var fields: [FieldName: [Sibling]] = [:]
        fields.reserveCapacity(count)
        for _ in 0..<count {
            let name = try readString()
            let siblingCount = try readCount(minimumSize: 20)
            var list: [Sibling] = []
            list.reserveCapacity(siblingCount)
            for _ in 0..<siblingCount {
                let dot = try readDot()
                let value = try readValue()
                let author = try readString()
                let at = Timestamp(millisecondsSince1970: try readSigned())
                list.append(Sibling(dot: dot, value: value, author: author, at: at))
            }
            fields[name] = list
        }
        return fields
    }
}

extension RecordState {
    /// A record's state as both stores keep it: its clock and its fields' siblings, each in the
    /// binary encoding (``BinaryWriter/write(clock:)``, ``BinaryWriter/write(siblings:)``).
    public init(kind: RecordKind, id: UUID, encodedClock clock: [UInt8], encodedFields fields: [UInt8])
        throws(BinaryReader.Error)
    {
        var clockReader = BinaryReader(clock)
        var fieldReader = BinaryReader(fields)
        self.init(kind: kind, id: id, clock: try clockReader.readClock(), fields: try fieldReader.readSiblings())
    }
}
