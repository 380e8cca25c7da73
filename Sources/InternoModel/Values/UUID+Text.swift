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

    private static func parse(_ characters: UnsafeBufferPointer<UInt8>) -> uuid_t? {
        guard characters.count == 36 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 16)
        var position = 0
        for index in 0..<16 {
            if index == 4 || index == 6 || index == 8 || index == 10 {
                guard characters[position] == UInt8(ascii: "-") else { return nil }
                position += 1
            }
            guard let high = nibble(characters[position]), let low = nibble(characters[position + 1]) else {
                return nil
            }
            bytes[index] = high << 4 | low
            position += 2
        }
        return (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
            bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        )
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
