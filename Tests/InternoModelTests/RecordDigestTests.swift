import Foundation
import InternoModel
import Testing

/// The hash of `interno verify`'s digests is XXH64 with seed 0 (Protocol/README.md, 5.9): the
/// values below come from the reference C library (libxxhash 0.8.1).
@Suite("Record digests")
struct RecordDigestTests {
    @Test(arguments: [
        ("", 0xef46_db37_51d8_e999 as UInt64), ("a", 0xd24e_c4f1_a98c_6e5b), ("abc", 0x44bc_2cf5_ad77_0999),
        ("0123456789abcdef0123456789abcdef", 0x642a_9495_8e71_e6c5),
        ("0123456789abcdef0123456789abcdefXYZ1234567", 0xbbe8_86ee_223c_b526),
    ])
    func theHashIsXXH64(_ text: String, _ expected: UInt64) {
        var hasher = DigestHasher()
        Array(text.utf8).withUnsafeBytes { hasher.combine(bytes: $0) }
        #expect(hasher.value == expected)
    }

    @Test func theHashOfAHundredBytesAcrossEveryPathOfXXH64() {
        // Three 32-byte stripes and a 4-byte word (the vectors above cover 8-byte lanes and
        // single bytes), fed byte by byte; then the same hasher, reset, again.
        var hasher = DigestHasher()
        for index in 0..<100 { hasher.combine(UInt8(truncatingIfNeeded: index * 7 + 3)) }
        #expect(hasher.value == 0xa61f_8d4c_170f_e531)
        hasher.reset()
        Array("abc".utf8).withUnsafeBytes { hasher.combine(bytes: $0) }
        #expect(hasher.value == 0x44bc_2cf5_ad77_0999)
    }

    @Test func aStringIsItsLengthThenItsBytesAsTheBinaryEncodingWritesIt() {
        var writer = BinaryWriter()
        writer.write(string: "ana@HR-LIS")
        writer.write(signed: -1_795_426_200_000)
        writer.write(varint: 300)
        var fromWriter = DigestHasher()
        writer.bytes.withUnsafeBytes { fromWriter.combine(bytes: $0) }
        var direct = DigestHasher()
        direct.combine(string: "ana@HR-LIS")
        direct.combine(signed: -1_795_426_200_000)
        direct.combine(varint: 300)
        #expect(direct.value == fromWriter.value)
    }

    @Test func theLogPartIsASumSoTheOrderOfTheLogDoesNotCount() {
        let id = UUID()
        let first = Change(
            dot: Dot(replica: ReplicaID(UUID()), counter: 1), kind: .request, recordID: id, context: VersionVector(),
            fields: ["title": .text("Laptop")], author: "ana@HR-LIS", at: Timestamp(millisecondsSince1970: 1))
        var second = first
        second.dot = Dot(replica: first.dot.replica, counter: 2)
        second.context = VersionVector(first.dot)
        second.fields = ["title": .text("Laptop, 16 GB")]
        #expect(
            RecordDigest.entry(first) &+ RecordDigest.entry(second) == RecordDigest.entry(second)
                &+ RecordDigest.entry(first))
        #expect(RecordDigest.entry(first) != RecordDigest.entry(second))
        // A void counts what every replica keeps of it, whatever the refused content was.
        let refusal = Refusal(.invalidValue, "no")
        var refusedHere = second
        refusedHere.refusal = refusal
        #expect(RecordDigest.entry(refusedHere) == RecordDigest.entry(second.voided(refusal)))
    }

    @Test func aComparisonFindsWhatDiffersWhatIsMissingAndWhatShouldNotBeThere() {
        let ids = (0..<6).map { _ in UUID() }.sorted { $0.lexicographicallyPrecedes($1) }
        func digest(_ index: Int, _ log: UInt64, _ state: UInt64 = 1, _ shown: UInt64 = 1, pending: Bool = false)
            -> RecordDigest
        {
            RecordDigest(id: ids[index], log: log, state: state, shown: shown, pending: pending)
        }
        let expected = [digest(0, 1), digest(1, 1), digest(2, 1), digest(3, 1)]
        let held = [
            digest(0, 1),  // in step
            digest(1, 1, 2),  // its state differs
            digest(2, 1, 9, 9, pending: true),  // pending: only its log counts, and it is right
            digest(4, 0, 5, 5, pending: true),  // the site's own new work, not sent yet
            digest(5, 1),  // nothing of it should be here
        ]
        #expect(
            RecordDigest.compare(held: held, expected: expected) == [
                .differs(held: held[1], expected: expected[1]), .missing(expected[3]), .unexpected(held[4]),
            ])
        #expect(held[1].differingParts(from: expected[1]) == ["state"])
        #expect(digest(2, 2, 9, 9, pending: true).differingParts(from: expected[2]) == ["log"])
        #expect(RecordDigest.compare(held: [digest(4, 3, pending: true)], expected: []).count == 1)
    }
}
