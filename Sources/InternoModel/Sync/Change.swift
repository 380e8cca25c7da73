import Foundation

/// One write: a dot, the writer's clock of the record before writing, and the fields written.
///
/// A change whose `refusal` is set is *void* (DESIGN §3.4): the server refused it, so it
/// carries no fields and only makes every clock cover its dot.
public struct Change: Hashable, Sendable {
    /// The identity of the write.
    public var dot: Dot
    /// The kind of record written.
    public var kind: RecordKind
    /// The record written.
    public var recordID: UUID
    /// The writer's clock of the record just before this write.
    public var context: VersionVector
    /// The fields written, with their new values.
    public var fields: [FieldName: FieldValue]
    /// Who made the write: the person's name at the writing site.
    public var author: String
    /// When the event happened, by the writer's wall clock (may be given explicitly).
    public var at: Timestamp
    /// Set when the server refused this write: why. A refused change is applied as a void.
    public var refusal: Refusal?
    /// The writes of *other* records this one was written against: for every record a
    /// reference field of it names (a comment's request, a request's standard), that record's
    /// clock as the writer saw it, as dots, sorted. The server applies the change only once it
    /// holds them all, and defers it until then (DESIGN §3.3): after a restore from a backup,
    /// the record it names may not be back yet.
    public var requires: [Dot]

    /// A change as written by a replica.
    public init(
        dot: Dot,
        kind: RecordKind,
        recordID: UUID,
        context: VersionVector,
        fields: [FieldName: FieldValue],
        author: String,
        at: Timestamp,
        refusal: Refusal? = nil,
        requires: [Dot] = []
    ) {
        self.dot = dot
        self.kind = kind
        self.recordID = recordID
        self.context = context
        self.fields = fields
        self.author = author
        self.at = at
        self.refusal = refusal
        self.requires = Array(Set(requires)).sorted()
    }

    /// `true` when the server refused this write (DESIGN §3.4).
    public var isVoid: Bool { refusal != nil }

    /// The void that stands for this change once refused: same dot, record, author and time;
    /// no fields, no context and nothing required, so it applies everywhere and only advances
    /// clocks.
    public func voided(_ refusal: Refusal) -> Change {
        Change(
            dot: dot,
            kind: kind,
            recordID: recordID,
            context: VersionVector(),
            fields: [:],
            author: author,
            at: at,
            refusal: refusal
        )
    }

    /// `true` if this void stands for `change`: a void keeps the dot, kind, record, author and
    /// time of the change it refuses, and nothing else, so that is all there is to compare.
    public func stands(forVoidOf change: Change) -> Bool {
        dot == change.dot && kind == change.kind && recordID == change.recordID && author == change.author
            && at == change.at
    }

    /// `true` when `other` is the same write: same dot and same content. A dot that comes
    /// back with different content is a protocol violation (DESIGN §6).
    public func hasSameContent(as other: Change) -> Bool {
        dot == other.dot && kind == other.kind && recordID == other.recordID && context == other.context
            && fields == other.fields && author == other.author && at == other.at && requires == other.requires
    }
}

/// The changes of one local transaction, in counter order; applied, refused or acknowledged whole.
public struct ChangeSet: Hashable, Sendable {
    /// The changes, all by one replica, in increasing counter order.
    public var changes: [Change]

    /// A change set of `changes`, which must all be by one replica, in counter order.
    public init(_ changes: [Change]) {
        precondition(!changes.isEmpty, "a change set holds at least one change")
        precondition(
            zip(changes, changes.dropFirst()).allSatisfy {
                $0.dot.replica == $1.dot.replica && $0.dot.counter < $1.dot.counter
            },
            "a change set's changes are by one replica, in increasing counter order"
        )
        self.changes = changes
    }

    /// The replica that wrote the set.
    public var replica: ReplicaID { changes[0].dot.replica }
    /// The counter of the first change.
    public var firstCounter: UInt64 { changes[0].dot.counter }
    /// The counter of the last change.
    public var lastCounter: UInt64 { changes[changes.count - 1].dot.counter }
}

/// Why the server refused a write: a stable code and a sentence for a person.
public struct Refusal: Hashable, Sendable, Error, CustomStringConvertible {
    /// The rule that was broken. Raw values are stable: they travel on the wire and are stored.
    public enum Code: Int, Sendable, CaseIterable {
        /// The writer's department may not write this field of this record now.
        case notPermitted = 1
        /// A value is of the wrong type, out of range, too long, or not a member of its enum.
        case invalidValue = 2
        /// The lifecycle does not allow this state change.
        case invalidTransition = 3
        /// The record, or a record it refers to, does not exist.
        case notFound = 4
        /// A field that is fixed once the record exists was written again.
        case immutable = 5
        /// The field is not part of the record's kind.
        case unknownField = 6
        /// A value must be unique and is not (a department code, say).
        case duplicate = 7
        /// The change itself is malformed: a dot of another replica, a repeated dot with other content.
        case malformed = 8
        /// The record's creation was refused, so later edits of it are refused too.
        case creationRefused = 9
        /// The field is in conflict: a person must resolve it before it can change otherwise.
        case conflictPending = 10
    }

    /// The broken rule.
    public var code: Code
    /// What was wrong and what would be accepted, for a person.
    public var message: String

    /// A refusal for breaking `code`, explained by `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
