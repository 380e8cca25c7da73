import Foundation

extension UUID {
    /// The canonical lowercase text, `8-4-4-4-12` hex digits: how ids are stored and shown.
    ///
    /// Written byte by byte: Foundation's `uuidString` goes through `sprintf` and then needs
    /// `lowercased()`, and the store writes ids on every row (DESIGN §9).
    public var text: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        return withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { buffer in
                var position = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        buffer[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    buffer[position] = digits[Int(byte >> 4)]
                    buffer[position + 1] = digits[Int(byte & 0x0f)]
                    position += 2
                }
                return position
            }
        }
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
