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
        // The random bits come from the system's generator (`getrandom` on Linux), not from
        // `UUID()`, which on Linux opens and reads `/dev/urandom` for every id: that had been
        // over a third of the time of a raw insert of new rows.
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        let milliseconds = UInt64(max(0, time.millisecondsSince1970))
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<8 {
            bytes[index] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(index)))
            bytes[8 + index] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(index)))
        }
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64(index))) }
        bytes[6] = (bytes[6] & 0x0f) | 0x70  // version 7
        bytes[8] = (bytes[8] & 0x3f) | 0x80  // the RFC's variant
        return UUID(bytes: bytes)!
    }
}
