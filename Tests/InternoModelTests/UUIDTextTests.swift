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
            #expect(UUID(text: id.text) == id)
            #expect(UUID(text: id.uuidString) == id)
        }
        let fixed = UUID(uuid: (0, 1, 2, 0x0a, 0xff, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xbc))
        #expect(fixed.text == "0001020a-ff10-2030-4050-60708090a0bc")
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
