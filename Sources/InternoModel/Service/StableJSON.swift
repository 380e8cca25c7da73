/// Stable JSON: an absent value is written as `null`, never left out, so every `--json`
/// shape has the same keys whatever the data (the README's promise of stable JSON).
///
/// The encoders that Swift synthesizes for `Codable` types of this module call
/// `encodeIfPresent` for optional properties; this overload, visible only inside the module,
/// takes precedence and writes `null` instead of skipping the key. Decoding is unchanged:
/// `decodeIfPresent` reads `null` as absent. Because the overloads act only within their
/// module, InternoModel (report rows) and InternoClient (views) each hold a copy.
///
/// The standard library has overloads for each basic type besides the generic one, so each
/// is repeated here.
extension KeyedEncodingContainer {
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        try encode(value, forKey: key)
    }

    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws {
        try encode(value, forKey: key)
    }

    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws {
        try encode(value, forKey: key)
    }

    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws {
        try encode(value, forKey: key)
    }

    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws {
        try encode(value, forKey: key)
    }

    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws {
        try encode(value, forKey: key)
    }

    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws {
        try encode(value, forKey: key)
    }
}
