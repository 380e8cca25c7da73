import Foundation

/// One record's digest for `interno verify` (Protocol/README.md, 5.9; DESIGN §3.10): the same on
/// a site and on the server exactly when the site holds what it should of the record, but for
/// a chance of 2^-64 per part.
///
/// Three parts, each a 64-bit hash (``DigestHasher``: XXH64), compared one by one so that a
/// difference says where it is:
///
/// - **log**: the wrapping sum of one hash per logged change (``entry(_:)``). A sum, because a
///   site logs changes in another order than the server's stream;
/// - **state**: the record state, its clock and siblings (``state(_:)``);
/// - **shown**: the values people see, the record's query-table row (``shown(kind:values:)``).
///
/// Every part hashes the model's deterministic binary encoding (`BinaryWriter`), which is what
/// the store keeps in its blobs, so a digest is computed from stored bytes without decoding
/// them. It detects damage and edits made behind a replica's back, not a forger: anyone who
/// can write the database can also compute a matching digest.
public struct RecordDigest: Hashable, Sendable {
    /// The record.
    public var id: UUID
    /// The log part: 0 when no change of the record is counted.
    public var log: UInt64
    /// The state part: 0 when there is no record state.
    public var state: UInt64
    /// The shown part: 0 when there is no query-table row.
    public var shown: UInt64
    /// The site holds own changes of the record not yet acknowledged: only the log part, which
    /// leaves them out, is compared, since the server cannot know the state they lead to.
    public var pending: Bool

    /// A digest made of its parts.
    public init(id: UUID, log: UInt64, state: UInt64, shown: UInt64, pending: Bool = false) {
        self.id = id
        self.log = log
        self.state = state
        self.shown = shown
        self.pending = pending
    }

    /// The version of the digest this type computes; `Verify.digest_version`.
    public static let version: UInt32 = 1

    /// The parts of this digest, a site's, that differ from `expected`, the server's, by name:
    /// `log`, `state`, `shown`; only the log of a pending record.
    public func differingParts(from expected: RecordDigest) -> [String] {
        let parts = [
            ("log", log != expected.log), ("state", state != expected.state), ("shown", shown != expected.shown),
        ]
        return parts.prefix(pending ? 1 : 3).filter(\.1).map(\.0)
    }

    /// What a site's record is, compared with what it should be.
    public enum Finding: Equatable, Sendable {
        /// The site holds the record, other than it should: its digest and the server's.
        case differs(held: RecordDigest, expected: RecordDigest)
        /// The site should hold the record and does not.
        case missing(RecordDigest)
        /// The site holds the record and should hold nothing of it.
        case unexpected(RecordDigest)
    }

    /// Compares what a site holds with what it should hold, both in id order (by the ids'
    /// bytes): every record of either that is not in step. A pending record that only the site
    /// holds, with nothing in its log part, is the site's own new work, not yet sent: in step.
    public static func compare(held: [RecordDigest], expected: [RecordDigest]) -> [Finding] {
        var findings: [Finding] = []
        var (h, e) = (0, 0)
        while h < held.count || e < expected.count {
            if e == expected.count || (h < held.count && held[h].id.lexicographicallyPrecedes(expected[e].id)) {
                if !held[h].pending || held[h].log != 0 { findings.append(.unexpected(held[h])) }
                h += 1
            } else if h == held.count || expected[e].id.lexicographicallyPrecedes(held[h].id) {
                findings.append(.missing(expected[e]))
                e += 1
            } else {
                if !held[h].differingParts(from: expected[e]).isEmpty {
                    findings.append(.differs(held: held[h], expected: expected[e]))
                }
                h += 1
                e += 1
            }
        }
        return findings
    }

    // MARK: Parts

    /// The hash of one logged change, from the stored encodings of its context and fields.
    ///
    /// A void counts only what a void keeps everywhere (dot, kind, author, time): the server
    /// keeps the refused content and a site keeps its own, but other sites receive neither.
    public static func entry(
        replica: UUID, counter: UInt64, kind: String, context: UnsafeRawBufferPointer,
        fields: UnsafeRawBufferPointer, author: String, at: Int64, void: Bool
    ) -> UInt64 {
        var hasher = DigestHasher()
        hasher.combine(void ? 2 : 1)
        hasher.combine(uuid: replica)
        hasher.combine(varint: counter)
        hasher.combine(string: kind)
        if !void {
            hasher.combine(bytes: context)
            hasher.combine(bytes: fields)
        }
        hasher.combine(string: author)
        hasher.combine(signed: at)
        return hasher.value
    }

    /// The hash of one change, as ``entry(replica:counter:kind:context:fields:author:at:void:)``
    /// computes it from stored bytes.
    public static func entry(_ change: Change) -> UInt64 {
        var context = BinaryWriter()
        context.write(clock: change.context)
        var fields = BinaryWriter()
        fields.write(fields: change.fields)
        return context.bytes.withUnsafeBytes { context in
            fields.bytes.withUnsafeBytes { fields in
                entry(
                    replica: change.dot.replica.uuid, counter: change.dot.counter, kind: change.kind.rawValue,
                    context: context, fields: fields, author: change.author, at: change.at.millisecondsSince1970,
                    void: change.isVoid)
            }
        }
    }

    /// The hash of a record state, from the stored encodings of its clock and siblings.
    public static func state(
        kind: String, clock: UnsafeRawBufferPointer, siblings: UnsafeRawBufferPointer, exists: Bool, conflicted: Bool
    ) -> UInt64 {
        var hasher = DigestHasher()
        hasher.combine(string: kind)
        hasher.combine(bytes: clock)
        hasher.combine(bytes: siblings)
        hasher.combine(exists ? 1 : 0)
        hasher.combine(conflicted ? 1 : 0)
        return hasher.value
    }

    /// The hash of `record`'s state, as the store's blobs would give it.
    public static func state(_ record: RecordState) -> UInt64 {
        var clock = BinaryWriter()
        clock.write(clock: record.clock)
        var siblings = BinaryWriter()
        siblings.write(siblings: record.fields)
        return clock.bytes.withUnsafeBytes { clock in
            siblings.bytes.withUnsafeBytes { siblings in
                state(
                    kind: record.kind.rawValue, clock: clock, siblings: siblings, exists: record.exists,
                    conflicted: record.isConflicted)
            }
        }
    }

    /// The hash of the values a record shows, its query-table row after the id.
    public static func shown(kind: String, values: [ShownValue]) -> UInt64 {
        var hasher = DigestHasher()
        hasher.combine(string: kind)
        for value in values {
            switch value {
            case .null:
                hasher.combine(0)
            case .integer(let number):
                hasher.combine(1)
                hasher.combine(signed: number)
            case .real(let number):
                hasher.combine(2)
                hasher.combine(fixed: number.bitPattern)
            case .text(let text):
                hasher.combine(3)
                hasher.combine(string: text)
            case .blob(let bytes):
                hasher.combine(4)
                bytes.withUnsafeBytes { hasher.combine(lengthPrefixed: $0) }
            }
        }
        return hasher.value
    }
}

/// One value of a query-table row, as SQLite stores it: what a record shows people.
public enum ShownValue: Hashable, Sendable {
    /// No value.
    case null
    /// A whole number: integers, durations in seconds, times in ms since 1970, flags as 0 or 1.
    case integer(Int64)
    /// A floating-point number (no query column holds one today).
    case real(Double)
    /// Text: names, states, ids in lowercase.
    case text(String)
    /// Bytes (no query column holds any today).
    case blob([UInt8])
}

/// The hash of `interno verify`'s digests: the bytes of a canonical encoding, gathered piece by
/// piece, then XXH64 with seed 0 (xxHash's 64-bit hash, a published algorithm with
/// implementations in every language). It reads 8 bytes a step, where a byte-at-a-time hash
/// (FNV-1a) made hashing the costliest part of verifying 100 000 records.
public struct DigestHasher: Sendable {
    private var bytes: [UInt8] = []

    /// A hasher that has seen nothing.
    public init() {
        bytes.reserveCapacity(256)
    }

    /// Forgets what was added, keeping the storage: one hasher serves a whole table scan.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Adds one byte.
    @inline(__always)
    public mutating func combine(_ byte: UInt8) {
        bytes.append(byte)
    }

    /// Adds bytes as they are.
    public mutating func combine(bytes more: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: more)
    }

    /// Adds an unsigned LEB128 varint, as `BinaryWriter` writes it.
    public mutating func combine(varint value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Adds a zigzag-encoded signed varint, as `BinaryWriter` writes it.
    public mutating func combine(signed value: Int64) {
        combine(varint: UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Adds a length-prefixed UTF-8 string, as `BinaryWriter` writes it.
    public mutating func combine(string: String) {
        var string = string
        string.withUTF8 { utf8 in combine(lengthPrefixed: UnsafeRawBufferPointer(utf8)) }
    }

    /// Adds bytes after their count, as `BinaryWriter` writes a string: a string's UTF-8 read
    /// straight from storage.
    public mutating func combine(lengthPrefixed more: UnsafeRawBufferPointer) {
        combine(varint: UInt64(more.count))
        combine(bytes: more)
    }

    /// Adds the 16 bytes of `uuid`.
    public mutating func combine(uuid: UUID) {
        withUnsafeBytes(of: uuid.uuid) { combine(bytes: $0) }
    }

    /// Adds 8 bytes, most significant first.
    public mutating func combine(fixed value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { combine(bytes: $0) }
    }

    /// XXH64 of everything added.
    public var value: UInt64 {
        bytes.withUnsafeBytes { Self.xxh64($0) }
    }

    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    /// XXH64 of `input` with seed 0, as xxHash 0.8 specifies it.
    static func xxh64(_ input: UnsafeRawBufferPointer) -> UInt64 {
        func round(_ accumulator: UInt64, _ lane: UInt64) -> UInt64 {
            (accumulator &+ lane &* prime2).rotatedLeft(31) &* prime1
        }
        func word(_ offset: Int) -> UInt64 {
            UInt64(littleEndian: input.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
        let count = input.count
        var offset = 0
        var hash: UInt64
        if count >= 32 {
            var v1 = prime1 &+ prime2
            var v2 = prime2
            var v3: UInt64 = 0
            var v4 = 0 &- prime1
            while offset + 32 <= count {
                v1 = round(v1, word(offset))
                v2 = round(v2, word(offset + 8))
                v3 = round(v3, word(offset + 16))
                v4 = round(v4, word(offset + 24))
                offset += 32
            }
            hash = v1.rotatedLeft(1) &+ v2.rotatedLeft(7) &+ v3.rotatedLeft(12) &+ v4.rotatedLeft(18)
            hash = (hash ^ round(0, v1)) &* prime1 &+ prime4
            hash = (hash ^ round(0, v2)) &* prime1 &+ prime4
            hash = (hash ^ round(0, v3)) &* prime1 &+ prime4
            hash = (hash ^ round(0, v4)) &* prime1 &+ prime4
        } else {
            hash = prime5
        }
        hash &+= UInt64(count)
        while offset + 8 <= count {
            hash = (hash ^ round(0, word(offset))).rotatedLeft(27) &* prime1 &+ prime4
            offset += 8
        }
        if offset + 4 <= count {
            let half = UInt64(UInt32(littleEndian: input.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            hash = (hash ^ half &* prime1).rotatedLeft(23) &* prime2 &+ prime3
            offset += 4
        }
        while offset < count {
            hash = (hash ^ UInt64(input[offset]) &* prime5).rotatedLeft(11) &* prime1
            offset += 1
        }
        hash ^= hash >> 33
        hash = hash &* prime2
        hash ^= hash >> 29
        hash = hash &* prime3
        hash ^= hash >> 32
        return hash
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(_ count: UInt64) -> UInt64 {
        (self << count) | (self >> (64 - count))
    }
}

/// Every logged change a site should hold of one record, as the server sends it for a repair
/// (Protocol/README.md, 4.15–4.16).
public struct RecordLog: Equatable, Sendable {
    /// The record.
    public var id: UUID
    /// Its changes in stream order, each with the counters of its whole change set; empty when
    /// the site should hold nothing of it.
    public var entries: [LoggedChange]

    /// The log of `id`.
    public init(id: UUID, entries: [LoggedChange]) {
        self.id = id
        self.entries = entries
    }
}
