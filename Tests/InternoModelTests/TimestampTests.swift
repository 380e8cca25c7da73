import Foundation
import InternoTestSupport
import Testing

@testable import InternoModel

@Suite("Timestamps as text")
struct TimestampTests {
    /// The integer arithmetic says what Foundation's ISO 8601 formatter says, to the millisecond.
    @Test func theTextIsWhatTheISO8601FormatterWrites() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var random = SeededGenerator(seed: 20_261_201)
        var instants: [Int64] = [
            0, -1, 1, 86_399_999, 86_400_000, -86_400_000, 951_782_400_000,  // 2000-02-29
            4_107_542_400_000,  // 2100-03-01
            -62_135_596_800_000,  // 0001-01-01
            253_402_300_799_999,  // 9999-12-31T23:59:59.999
            1_796_126_347_971,
        ]
        // Far outside any real time, and at the ends of the type: written, never a crash.
        for extreme in [Int64.min, Int64.min + 1, Int64.max, -1 << 62, 1 << 62] {
            #expect(!Timestamp(millisecondsSince1970: extreme).description.isEmpty)
        }
        for _ in 0..<20_000 {
            instants.append(Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &random))
        }
        for milliseconds in instants {
            let timestamp = Timestamp(millisecondsSince1970: milliseconds)
            #expect(timestamp.description == formatter.string(from: timestamp.date), "\(milliseconds)")
            #expect(Timestamp(iso8601: timestamp.description) == timestamp, "\(milliseconds)")
        }
    }
}
