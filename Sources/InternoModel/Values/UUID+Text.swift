import Foundation

extension UUID {
    /// The canonical lowercase text, `8-4-4-4-12` hex digits: how ids are stored and shown.
    ///
    /// Written byte by byte: Foundation's `uuidString` goes through `sprintf` and then needs
    /// `lowercased()`, and the store writes ids on every row (DESIGN §9).
    public var text: String {
        String(unsafeUninitializedCapacity: Self.textLength) { buffer in
            Self.writeText(uuid, into: buffer)
            return Self.textLength
        }
    }

    /// The length of ``text``, in bytes.
    public static let textLength = 36

    /// Calls `body` with the UTF-8 of ``text``, made on the stack: for binding an id to a
    /// statement without allocating a `String` for it.
    public func withText<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        // 36 bytes of room, as five words on the stack.
        var room: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        return try withUnsafeMutableBytes(of: &room) { raw in
            let buffer = UnsafeMutableBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[..<Self.textLength])
            Self.writeText(uuid, into: buffer)
            return try body(UnsafeBufferPointer(buffer))
        }
    }

    /// Writes the 36 bytes of ``text`` to the start of `buffer`, which has room for them.
    private static func writeText(_ uuid: uuid_t, into buffer: UnsafeMutableBufferPointer<UInt8>) {
        withUnsafeBytes(of: uuid) { bytes in
            var position = 0
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    buffer[position] = UInt8(ascii: "-")
                    position += 1
                }
                buffer[position] = digit(byte >> 4)
                buffer[position + 1] = digit(byte & 0x0f)
                position += 2
            }
        }
    }

    /// The lowercase hex digit of a value below 16.
    private static func digit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// Parses the canonical `8-4-4-4-12` form, in either case, as `UUID(uuidString:)` does;
    /// `nil` for anything else. Without `sscanf`, which Foundation uses on Linux.
    public init?(text: String) {
        var utf8 = text.utf8
        guard
            let parsed = utf8.withContiguousStorageIfAvailable({ Self.parse($0) })
                ?? {
                    var copy = text
                    copy.makeContiguousUTF8()
                    utf8 = copy.utf8
                    return utf8.withContiguousStorageIfAvailable { Self.parse($0) } ?? nil
                }()
        else { return nil }
        self.init(uuid: parsed)
    }

    /// ``init(text:)`` over the UTF-8 of the text, such as a database cell's, without making a
    /// `String` of it first.
    public init?(utf8 characters: UnsafeBufferPointer<UInt8>) {
        guard let parsed = Self.parse(characters) else { return nil }
        self.init(uuid: parsed)
    }

    private static func parse(_ characters: UnsafeBufferPointer<UInt8>) -> uuid_t? {
        guard characters.count == 36 else { return nil }
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &uuid) { bytes in
            var position = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    guard characters[position] == UInt8(ascii: "-") else { return false }
                    position += 1
                }
                guard let high = nibble(characters[position]), let low = nibble(characters[position + 1]) else {
                    return false
                }
                bytes[index] = high << 4 | low
                position += 2
            }
            return true
        }
        return parsed ? uuid : nil
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
