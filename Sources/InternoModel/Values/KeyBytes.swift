/// A text compared and hashed by its UTF-8 bytes, as SQLite and PostgreSQL compare text.
///
/// Swift's `String` compares by canonical equivalence: "Å" (one scalar) equals "A" followed by
/// a combining ring. A database holds them as two keys. Whatever stands in for a database's
/// answer about a unique text (a request's key) keys it by `KeyBytes`, so it never takes two
/// keys for one where the database would not.
public struct KeyBytes: Hashable, Sendable, CustomStringConvertible {
    /// The text.
    public let text: String

    public init(_ text: String) { self.text = text }

    public static func == (lhs: KeyBytes, rhs: KeyBytes) -> Bool {
        var left = lhs.text
        var right = rhs.text
        return left.withUTF8 { left in right.withUTF8 { left.elementsEqual($0) } }
    }

    /// The bytes in one call, not one call per byte: a batch of 20 000 new requests hashes each
    /// key several times as its tables grow.
    public func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(0xFF as UInt8)
    }

    public var description: String { text }
}
