import Foundation
import Testing

@testable import InternoModel

/// What a Pull leaves out of the pulling site's own sets (Protocol §5.4): a set whose
/// counters all lie within one named range, after overlapping and adjacent ranges merge.
@Suite("Own sets a Pull leaves out")
struct OwnSetsTests {
    let site = ReplicaID(UUID(uuidString: "00000000-0000-0000-0000-00000000000A")!)
    let other = ReplicaID(UUID(uuidString: "00000000-0000-0000-0000-00000000000B")!)

    /// A set of `replica` with the counters `range`.
    func set(_ replica: ReplicaID, _ range: ClosedRange<UInt64>) -> ChangeSet {
        ChangeSet(
            range.map { counter in
                Change(
                    dot: Dot(replica: replica, counter: counter), kind: .request, recordID: UUID(),
                    context: VersionVector(), fields: ["title": .text("t")], author: "a",
                    at: Timestamp(millisecondsSince1970: 0))
            })
    }

    @Test func rangesMergeWhenTheyOverlapOrTouch() {
        let own = OwnSets(of: site, [7...9, 1...2, 3...4, 20...30, 25...26])
        #expect(own.ranges == [1...4, 7...9, 20...30])
        #expect(OwnSets(of: site, []).isEmpty)
    }

    @Test func aSetIsLeftOutOnlyWhenOneRangeHoldsAllItsCounters() {
        let own = OwnSets(of: site, [1...2, 3...4, 7...9])
        #expect(own.covers(set(site, 1...4)), "1...2 and 3...4 touch: one range")
        #expect(own.covers(set(site, 8...9)))
        #expect(!own.covers(set(site, 4...7)), "5 and 6 are not named")
        #expect(!own.covers(set(site, 9...10)))
        #expect(!own.covers(set(site, 5...5)))
        #expect(!own.covers(set(site, 100...100)))
        #expect(!own.covers(set(other, 1...2)), "another replica's counters are not the site's")
        #expect(!OwnSets(of: site, []).covers(set(site, 1...1)))
    }
}
