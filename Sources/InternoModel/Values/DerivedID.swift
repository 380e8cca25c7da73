import Foundation

/// Deterministic ids derived from names, so that two sites creating "the same" record offline
/// (the customer's feedback on one request, say) write to one record and merge.
public enum DerivedID {
    /// A UUID that depends only on `parts`: the same inputs give the same id everywhere.
    ///
    /// Two FNV-1a 64-bit hashes with different offsets over a length-prefixed encoding; the
    /// version nibble is set to 8 (custom), the variant to RFC 4122.
    public static func make(_ parts: String...) -> UUID {
        var bytes: [UInt8] = []
        for part in parts {
            let utf8 = Array(part.utf8)
            bytes += withUnsafeBytes(of: UInt32(utf8.count).bigEndian, Array.init)
            bytes += utf8
        }
        let high = fnv1a(bytes, offset: 0xcbf2_9ce4_8422_2325).bigEndian
        let low = fnv1a(bytes, offset: 0x8422_2325_cbf2_9ce4).bigEndian
        var result = withUnsafeBytes(of: high) { Array($0) } + withUnsafeBytes(of: low) { Array($0) }
        result[6] = (result[6] & 0x0F) | 0x80
        result[8] = (result[8] & 0x3F) | 0x80
        return UUID(bytes: result)!
    }

    /// FNV-1a, 64 bits, from `offset`.
    static func fnv1a(_ bytes: [UInt8], offset: UInt64) -> UInt64 {
        var hash = offset
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// A 16-hex-digit fingerprint of `text`, stable across platforms.
    public static func fingerprint(_ text: String) -> String {
        let hash = fnv1a(Array(text.utf8), offset: 0xcbf2_9ce4_8422_2325)
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
