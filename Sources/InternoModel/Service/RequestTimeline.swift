import Foundation

/// What the clocks of a request need from its log (DESIGN §7.3): when it was submitted and the
/// states it entered, with their times, as ``StateEvent/timeline(of:)`` reads them.
///
/// A store keeps it beside the request's query row, in the same transaction as every change
/// to the request's log, so a listing or a report measures thousands of clocks without
/// replaying thousands of logs. It is a projection like the query rows: rebuilt from the log
/// whenever the record is, and equal to ``init(log:)`` of the log at every commit.
public struct RequestTimeline: Hashable, Sendable {
    /// When the request was submitted: the time of the change that gave it its key, or of its
    /// first change if none did.
    public var submittedAt: Timestamp
    /// The states it entered after `submitted`, in the order the clocks take them.
    public var events: [StateEvent]

    /// A timeline.
    public init(submittedAt: Timestamp, events: [StateEvent]) {
        self.submittedAt = submittedAt
        self.events = events
    }

    /// The timeline of a request whose log is `changes`, in log order; `nil` for an empty log.
    public init?(log changes: [Change]) {
        let (submitted, events) = StateEvent.timeline(of: changes)
        guard let submittedAt = submitted ?? changes.first?.at else { return nil }
        self.init(submittedAt: submittedAt, events: events)
    }

    /// The stored form: a format byte, then the submission time and each event's time and
    /// state (``BinaryWriter``).
    public var encoded: [UInt8] {
        var writer = BinaryWriter()
        writer.write(varint: 1)
        writer.write(signed: submittedAt.millisecondsSince1970)
        writer.write(varint: UInt64(events.count))
        for event in events {
            writer.write(signed: event.at.millisecondsSince1970)
            writer.write(string: event.state)
        }
        return writer.bytes
    }

    /// Reads what ``encoded`` wrote; throws on bytes it did not write.
    public init(decoding bytes: [UInt8]) throws(BinaryReader.Error) {
        var reader = BinaryReader(bytes)
        let format = try reader.readVarint()
        guard format == 1 else { throw .unknownTag(UInt8(truncatingIfNeeded: format)) }
        let submittedAt = Timestamp(millisecondsSince1970: try reader.readSigned())
        let count = try reader.readVarint()
        // Every event takes at least two bytes.
        guard count <= UInt64(bytes.count / 2) else { throw .implausibleCount(count) }
        var events: [StateEvent] = []
        events.reserveCapacity(Int(count))
        for _ in 0..<count {
            let at = Timestamp(millisecondsSince1970: try reader.readSigned())
            events.append(StateEvent(at: at, state: try reader.readString()))
        }
        try reader.expectEnd()
        self.init(submittedAt: submittedAt, events: events)
    }
}
