import Foundation
import GRDB
import InternoModel

extension ReplicaStore {
    /// The one path of every local write (DESIGN §4): in one transaction, for each edit take
    /// the next dot, check it against the schema as this replica's writer, log the change,
    /// apply it, and on a site enqueue the set in the outbox.
    ///
    /// A new request written without a `key` gets this site's next key (`HR-LIS-42`) in the
    /// same transaction, so a refused write does not use a number up.
    ///
    /// - Parameters:
    ///   - edits: the records to write, in order; a later edit sees the earlier ones.
    ///   - author: the person writing.
    ///   - at: when the event happened; defaults to now (`--at` passes an earlier time).
    /// - Returns: the change set written.
    /// - Throws: ``StoreError/refused(_:)`` naming the broken rule; nothing is written.
    @discardableResult
    public func write(_ edits: [Edit], author: String, at: Timestamp = .now()) throws -> ChangeSet {
        try writer.write { db in try Self.write(edits, author: author, at: at, db) }
    }

    /// ``write(_:author:at:)`` inside a transaction the caller holds, so that a site can keep
    /// something of its own with the write, atomically (who has answered a survey round).
    static func write(_ edits: [Edit], author: String, at: Timestamp, _ db: Database) throws -> ChangeSet {
        precondition(!edits.isEmpty, "a write has at least one edit")
        // This replica's clock judges the time of its own writes (check 2 of Schema.check).
        let now = Timestamp.now()
        var replica = try Self.replicaRow(db)
        let first = UInt64(replica.counter) + 1
        let set = first...(first + UInt64(edits.count) - 1)
        // The records the edits name, and the keys their new requests take, read in a few
        // set-based queries, not one lookup per edit.
        let changes = try Self.judging(
            db, expecting: edits.count,
            prefetch: { state in
                try state.prefetch(records: edits.map(\.recordID))
                try state.prefetch(keys: try Self.keys(of: edits, numberedFrom: replica, state))
            }
        ) { judge in
            var changes: [Change] = []
            for edit in edits {
                let seen = try judge.record(edit.recordID) ?? RecordState(kind: edit.kind, id: edit.recordID)
                guard seen.kind == edit.kind else {
                    throw StoreError.refused(
                        Refusal(
                            .malformed,
                            "record \(edit.recordID) is a \(seen.kind.rawValue), not a \(edit.kind.rawValue)"))
                }
                var fields = edit.fields
                if edit.kind == .request, !seen.exists, fields["key"] == nil,
                    let key = replica.requestKey(number: replica.nextRequestNumber)
                {
                    fields["key"] = .text(key)
                    replica.nextRequestNumber += 1
                }
                replica.counter += 1
                // A write to a record that does not exist (never seen, or only refused writes
                // of it) has seen nothing of it: an empty context, so no replica that missed
                // those refused writes ever waits for them (DESIGN §6.1).
                let change = Change(
                    dot: Dot(replica: replica.id, counter: UInt64(replica.counter)), kind: edit.kind,
                    recordID: edit.recordID, context: seen.exists ? seen.clock : VersionVector(), fields: fields,
                    author: author, at: at, requires: try judge.requirements(of: edit.kind, fields))
                try judge.write(
                    change, set: set, by: replica.writer, seen: seen, pusherCode: replica.code, receivedAt: now,
                    audience: Self.role == .server ? .derived : .none, seesAll: replica.scope == .all)
                changes.append(change)
            }
            return changes
        }
        try ReplicaRow.saveCounters(of: replica, db)
        if Self.role == .site {
            try OutboxRow.enqueue(set, at: Timestamp.now(), db)
        }
        return ChangeSet(changes)
    }

    /// The keys of the requests `edits` create, numbered from `replica`'s next request number
    /// as the loop of ``write(_:author:at:_:)`` numbers them: each is checked against the stored
    /// requests, and a prefetch reads them all in a few queries. A key this misses is still
    /// looked up on its own, so this only has to be right to be quick, never to be correct.
    private static func keys(of edits: [Edit], numberedFrom replica: ReplicaRow, _ state: StoredState) throws
        -> [String]
    {
        var number = replica.nextRequestNumber
        var keys: [String] = []
        for edit in edits where edit.kind == .request {
            if let key = edit.fields["key"]?.text {
                keys.append(key)
            } else if let key = replica.requestKey(number: number), try state.record(edit.recordID)?.exists != true {
                keys.append(key)
                number += 1
            }
        }
        return keys
    }
}

extension SiteStore {
    /// Takes the next local request number, for a key like `HR-LIS-42`; in one transaction
    /// with nothing else, so a number is never handed out twice.
    public func nextRequestKey() throws -> String {
        try writer.write { db in
            let replica = try Self.replicaRow(db)
            guard let key = replica.requestKey(number: replica.nextRequestNumber) else {
                throw StoreError.corrupt("this site's identity has no code")
            }
            try ReplicaRow.advanceRequestNumber(db)
            return key
        }
    }
}
