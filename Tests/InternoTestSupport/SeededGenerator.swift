import Foundation

/// SplitMix64: a small, fast generator whose whole state is one seed, so a scenario replays exactly.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    /// A generator that starts from `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A version 4 UUID from the next 16 random bytes: replayable ids for records and replicas.
    public mutating func uuid() -> UUID {
        let high = next()
        let low = next()
        var bytes = withUnsafeBytes(of: high) { Array($0) } + withUnsafeBytes(of: low) { Array($0) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// `true` with the given probability.
    public mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &self) < probability
    }
}

/// Seeds for property tests: `INTERNO_SEED` replays one scenario; otherwise `count` scenarios
/// from `INTERNO_SEED_BASE`, or from a random base printed with any failure.
public enum Seeds {
    /// The seeds of `count` scenarios, or of the one `INTERNO_SEED` names.
    public static func scenarios(count: Int) -> [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["INTERNO_SEED"], let seed = UInt64(text) { return [seed] }
        let base = environment["INTERNO_SEED_BASE"].flatMap(UInt64.init) ?? UInt64.random(in: 0..<(1 << 48))
        return (0..<UInt64(count)).map { base &+ $0 }
    }
}
