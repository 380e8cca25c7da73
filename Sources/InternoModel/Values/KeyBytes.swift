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

    public static func == (lhs: KeyBytes, rhs: KeyBytes) -> Bool { lhs.text.utf8.elementsEqual(rhs.text.utf8) }

    public func hash(into hasher: inout Hasher) {
        for byte in text.utf8 { hasher.combine(byte) }
        hasher.combine(0xFF as UInt8)
    }

    public var description: String { text }
}
