import Foundation
import InternoTestSupport
import Testing

@testable import InternoModel

@Suite("Ids as text")
struct UUIDTextTests {
    /// The hand-written forms say exactly what Foundation's say.
    @Test func theTextAndTheParserAgreeWithFoundation() {
        for _ in 0..<20_000 {
            let id = UUID()
            #expect(id.text == id.uuidString.lowercased())
            // The text made on the stack, as the store binds ids, is the same bytes.
            #expect(id.withText { String(decoding: $0, as: UTF8.self) } == id.text)
            #expect(UUID(text: id.text) == id)
            #expect(UUID(text: id.uuidString) == id)
        }
        let fixed = UUID(uuid: (0, 1, 2, 0x0a, 0xff, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xbc))
        #expect(fixed.text == "0001020a-ff10-2030-4050-60708090a0bc")
        #expect(fixed.withText { Array($0) } == Array("0001020a-ff10-2030-4050-60708090a0bc".utf8))
    }

    @Test(arguments: [
        "", "not-a-uuid", "00000000-0000-0000-0000-00000000000", "00000000-0000-0000-0000-0000000000000",
        "00000000x0000-0000-0000-000000000000", "0000000g-0000-0000-0000-000000000000",
        "{00000000-0000-0000-0000-000000000000}", " 00000000-0000-0000-0000-00000000000",
        "000000000000-0000-0000-0000-00000000", "00000000-0000-0000-0000-00000000000é",
    ])
    func anythingButTheCanonicalFormIsRefused(text: String) {
        // Foundation's sscanf skips a leading space; the stored and typed forms never have one.
        #expect(UUID(text: text) == nil)
    }
}

@Suite("Time-ordered ids")
struct TimeOrderedIDTests {
    /// RFC 9562 version 7: the time in the first 48 bits, version 7, the RFC's variant, and
    /// ids of later milliseconds sorting after earlier ones, as bytes and as stored text.
    @Test func anIdBeginsWithItsTimeAndSortsByIt() {
        let time = Timestamp(millisecondsSince1970: 1_795_426_200_123)
        let id = UUID.timeOrdered(at: time)
        let bytes = id.bytes
        let milliseconds = bytes.prefix(6).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(milliseconds == 1_795_426_200_123)
        #expect(bytes[6] >> 4 == 7)
        #expect(bytes[8] >> 6 == 0b10)
        var previous = UUID.timeOrdered(at: Timestamp(millisecondsSince1970: 1_000))
        for step in 1...2_000 {
            let next = UUID.timeOrdered(at: Timestamp(millisecondsSince1970: 1_000 + Int64(step) * 37))
            #expect(previous.lexicographicallyPrecedes(next) && previous.text < next.text)
            previous = next
        }
        // Two ids of the same millisecond still differ.
        #expect(UUID.timeOrdered(at: time) != UUID.timeOrdered(at: time))
    }

    /// Every one of the 74 bits after the time, the version and the variant is random: over
    /// 200 ids of one millisecond, each takes both values (the chance that a fair bit does not
    /// is 2^-199).
    @Test func everyBitAfterTheTimeIsRandom() {
        let time = Timestamp(millisecondsSince1970: 1_795_426_200_123)
        var ones = [UInt8](repeating: 0, count: 16)
        var zeros = [UInt8](repeating: 0, count: 16)
        for _ in 0..<200 {
            for (index, byte) in UUID.timeOrdered(at: time).bytes.enumerated() {
                ones[index] |= byte
                zeros[index] |= ~byte
            }
        }
        // The random bits: the low nibble of byte 6, the low six bits of byte 8, bytes 7 and 9–15.
        var random = [UInt8](repeating: 0xff, count: 16)
        for index in 0..<6 { random[index] = 0 }
        random[6] = 0x0f
        random[8] = 0x3f
        for index in 0..<16 {
            #expect(ones[index] & random[index] == random[index], "byte \(index): a bit is never 1")
            #expect(zeros[index] & random[index] == random[index], "byte \(index): a bit is never 0")
        }
    }
}
