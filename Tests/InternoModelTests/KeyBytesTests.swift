import InternoModel
import Testing

/// Keys compared as SQLite and PostgreSQL compare text: by their UTF-8 bytes, never by
/// Swift's canonical equivalence.
@Suite("Keys by their bytes")
struct KeyBytesTests {
    @Test func twoKeysAreOneExactlyWhenTheirBytesAre() {
        let composed = "HR-LIS-\u{C5}"  // Å as one code point
        let decomposed = "HR-LIS-A\u{30A}"  // A and a combining ring
        #expect(composed == decomposed, "Swift takes them for one text")
        #expect(KeyBytes(composed) != KeyBytes(decomposed))
        #expect(Set([KeyBytes(composed), KeyBytes(decomposed)]).count == 2)

        // Equal bytes, however the strings were made: one key, one hash.
        let built = String(decoding: Array("HR-LIS-42".utf8), as: UTF8.self)
        let bridged = "HR-LIS-" + String(42)
        #expect(KeyBytes(built) == KeyBytes(bridged))
        #expect(KeyBytes(built).hashValue == KeyBytes(bridged).hashValue)
        var table: [KeyBytes: Int] = [:]
        for number in 1...5_000 { table[KeyBytes("HR-LIS-\(number)")] = number }
        #expect(table.count == 5_000)
        let found = (1...5_000).filter { (number: Int) in table[KeyBytes("HR-LIS-\(number)")] == number }
        #expect(found.count == 5_000)

        // A prefix, an empty key, a NUL inside: each its own key.
        let keys = ["HR-LIS-4", "HR-LIS-42", "HR-LIS-42\u{0}", "", "\u{0}"].map(KeyBytes.init)
        #expect(Set(keys).count == keys.count)
        for (index, key) in keys.enumerated() {
            #expect(keys.indices.allSatisfy { ($0 == index) == (keys[$0] == key) }, "\(key)")
        }
    }
}
