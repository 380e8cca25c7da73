import Foundation

extension UUID {
    /// A new record id that begins with the time it was made (RFC 9562 version 7): 48 bits of
    /// milliseconds since 1970, then 74 random bits.
    ///
    /// Ids made one after another sort one after another, so the tables keyed by record id
    /// (the record states, the query tables, the log's record index) grow at their end
    /// instead of touching a random page of every index on every insert: a commit writes
    /// and syncs far fewer pages (DESIGN §9). The id tells no more than the record's own
    /// creation time, which whoever may see the record sees anyway.
    public static func timeOrdered(at time: Timestamp = .now()) -> UUID {
        var bytes = UUID().bytes
        let milliseconds = UInt64(max(0, time.millisecondsSince1970))
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64(index))) }
        bytes[6] = (bytes[6] & 0x0f) | 0x70  // version 7
        bytes[8] = (bytes[8] & 0x3f) | 0x80  // the RFC's variant
        return UUID(bytes: bytes)!
    }
}
