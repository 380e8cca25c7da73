import Foundation
import InternoModel

// Conversions of the messages of `interno verify` (Protocol/README.md, 4.13–4.16 and 5.9).

extension Data {
    /// `VerifyResult.records`: 40 bytes per record, the id, then the log, state and shown
    /// digests, each most significant byte first. Written and read in place: a server lists
    /// every record a site should hold.
    public init(digests: [RecordDigest]) {
        self.init(count: digests.count * 40)
        withUnsafeMutableBytes { out in
            for (index, digest) in digests.enumerated() {
                let start = index * 40
                out.storeBytes(of: digest.id.uuid, toByteOffset: start, as: uuid_t.self)
                out.storeBytes(of: digest.log.bigEndian, toByteOffset: start + 16, as: UInt64.self)
                out.storeBytes(of: digest.state.bigEndian, toByteOffset: start + 24, as: UInt64.self)
                out.storeBytes(of: digest.shown.bigEndian, toByteOffset: start + 32, as: UInt64.self)
            }
        }
    }

    /// The digests of `VerifyResult.records`, validated: whole entries, ids increasing.
    public func digests() throws(WireError) -> [RecordDigest] {
        guard count % 40 == 0 else { throw .malformed("VerifyResult.records is not a whole number of 40-byte entries") }
        let digests: [RecordDigest]? = withUnsafeBytes { bytes in
            var digests: [RecordDigest] = []
            digests.reserveCapacity(bytes.count / 40)
            func part(_ offset: Int) -> UInt64 {
                UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            }
            for start in stride(from: 0, to: bytes.count, by: 40) {
                let id = UUID(uuid: bytes.loadUnaligned(fromByteOffset: start, as: uuid_t.self))
                if let previous = digests.last, !previous.id.lexicographicallyPrecedes(id) { return nil }
                digests.append(
                    RecordDigest(id: id, log: part(start + 16), state: part(start + 24), shown: part(start + 32)))
            }
            return digests
        }
        guard let digests else { throw .malformed("VerifyResult.records must be in increasing id order") }
        return digests
    }
}

extension Interno_V1_LoggedSet {
    /// The wire form of one record's changes of a logged change set spanning `range`.
    public init(_ changes: ChangeSet, range: ClosedRange<UInt64>) {
        self.init()
        self.changes = Interno_V1_ChangeSet(changes)
        firstCounter = range.lowerBound
        lastCounter = range.upperBound
    }

    /// The changes and the set's range, validated: counters increasing, within the range.
    public func model() throws(WireError) -> (changes: ChangeSet, range: ClosedRange<UInt64>) {
        let set = try changes.model(consecutive: false)
        guard firstCounter >= 1, firstCounter <= set.firstCounter, set.lastCounter <= lastCounter else {
            throw .malformed("a logged set's counters \(firstCounter)...\(lastCounter) do not hold its changes")
        }
        return (set, firstCounter...lastCounter)
    }
}

extension Interno_V1_RecordLog {
    /// The wire form of a record's log: consecutive changes of one logged set travel together.
    public init(_ log: RecordLog) {
        self.init()
        recordID = log.id.wire
        var group: [LoggedChange] = []
        var sets: [Interno_V1_LoggedSet] = []
        func flush() {
            guard let first = group.first else { return }
            sets.append(Interno_V1_LoggedSet(ChangeSet(group.map(\.change)), range: first.set))
            group = []
        }
        for entry in log.entries {
            if let last = group.last,
                last.change.dot.replica != entry.change.dot.replica || last.set != entry.set
                    || last.change.dot.counter >= entry.change.dot.counter
            {
                flush()
            }
            group.append(entry)
        }
        flush()
        self.sets = sets
    }

    /// The record's log, validated: a 16-byte id, every set valid, every change of this record.
    public func model() throws(WireError) -> RecordLog {
        let id = try UUID(wire: recordID, field: "RecordLog.record_id")
        var entries: [LoggedChange] = []
        for set in sets {
            let (changes, range) = try set.model()
            for change in changes.changes {
                guard change.recordID == id else { throw .malformed("a record's log holds a change of another record") }
                entries.append(LoggedChange(change: change, set: range))
            }
        }
        return RecordLog(id: id, entries: entries)
    }
}

extension Array where Element == Data {
    /// The record ids, validated: 16 bytes each.
    public func recordIDs(field: String) throws(WireError) -> [UUID] {
        var ids: [UUID] = []
        ids.reserveCapacity(count)
        for bytes in self { ids.append(try UUID(wire: bytes, field: field)) }
        return ids
    }
}
