import Foundation
import InternoModel
import NIOCore
import SwiftProtobuf

extension Interno_V1_Frame {
    /// Decodes one frame body, as the framing layer delivers it: from the buffer's own bytes,
    /// not from a copy of them. A frame of changes runs to megabytes; the copy into an array
    /// was 0.6% of the simulated sites' CPU in the many-sites benchmark (much of it malloc
    /// consolidating its free lists for the large allocation) and a second copy of every
    /// frame in memory while it was decoded.
    public init(body: ByteBuffer) throws(WireError) {
        self.init()
        do {
            try merge(serializedBytes: body.readableBytesSpan)
        } catch {
            throw .malformed("the frame is not a protobuf interno.v1.Frame (\(error))")
        }
        guard self.body != nil else { throw .malformed("the frame has no message in it") }
    }

    /// The frame body's bytes, ready for ``FrameEncoder``: exactly the bytes of
    /// `serializedBytes()`.
    ///
    /// A frame of change sets (`Push`, `Changes`) is written level by level: SwiftProtobuf
    /// computes a nested message's size again at every level it is nested in, so each change,
    /// four levels down, was sized four times before it was written (12.6% of the server's
    /// CPU samples in the many-sites benchmark). Here each change is serialised once, on its
    /// own, and the levels above are framed around the bytes, in field order, as SwiftProtobuf
    /// does.
    public func serializedBuffer(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var bytes: [UInt8] = []
        // Unknown fields come last in SwiftProtobuf's bytes; frames built here never have any.
        let plain =
            unknownFields.data.isEmpty
            && {
                switch body {
                case .push(let push):
                    push.unknownFields.data.isEmpty && push.sets.allSatisfy(\.unknownFields.data.isEmpty)
                case .changes(let changes):
                    changes.unknownFields.data.isEmpty && changes.sets.allSatisfy(\.unknownFields.data.isEmpty)
                default: false
                }
            }()
        switch plain ? body : nil {
        case .push(let push):
            var rest = push
            rest.sets = []
            Self.appendField(3, Self.serialized(push.sets, setsField: 1, rest: rest), to: &bytes)
        case .changes(let changes):
            var rest = changes
            rest.sets = []
            Self.appendField(6, Self.serialized(changes.sets, setsField: 1, rest: rest), to: &bytes)
        default:
            // Serialising a message built from valid model values cannot fail.
            bytes = try! serializedBytes()
        }
        return allocator.buffer(bytes: bytes)
    }

    /// `sets` as the repeated field `setsField`, then `rest`, the message's other fields (all
    /// numbered after it), as one message's bytes.
    private static func serialized(
        _ sets: [Interno_V1_ChangeSet], setsField: Int, rest: some SwiftProtobuf.Message
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        for set in sets {
            // A set's replica (field 1), then each of its changes (field 2).
            var head = set
            head.changes = []
            var setBytes: [UInt8] = try! head.serializedBytes()
            for change in set.changes { appendField(2, try! change.serializedBytes(), to: &setBytes) }
            appendField(setsField, setBytes, to: &bytes)
        }
        bytes += try! rest.serializedBytes() as [UInt8]
        return bytes
    }

    /// Appends field `number` holding length-delimited `value`: its tag, its length, its bytes.
    /// Both are LEB128 varints, protobuf's encoding as the store's (``BinaryWriter``).
    private static func appendField(_ number: Int, _ value: [UInt8], to bytes: inout [UInt8]) {
        var header = BinaryWriter()
        header.write(varint: UInt64(number << 3 | 2))
        header.write(varint: UInt64(value.count))
        bytes += header.bytes
        bytes += value
    }

    /// The frame's message name, for logs and errors.
    public var messageName: String {
        switch body {
        case .hello: "Hello"
        case .welcome: "Welcome"
        case .push: "Push"
        case .pushResult: "PushResult"
        case .pull: "Pull"
        case .changes: "Changes"
        case .error: "Error"
        case .verify: "Verify"
        case .verifyResult: "VerifyResult"
        case .fetch: "Fetch"
        case .fetched: "Fetched"
        case nil: "nothing"
        }
    }

    /// An `Error` frame.
    public static func error(_ code: WireError.Code, _ message: String) -> Interno_V1_Frame {
        var error = Interno_V1_Error()
        error.code = code.rawValue
        error.message = message
        var frame = Interno_V1_Frame()
        frame.body = .error(error)
        return frame
    }
}

// MARK: Identifiers

extension UUID {
    /// The id from 16 wire bytes.
    public init(wire bytes: Data, field: String) throws(WireError) {
        guard let uuid = UUID(bytes: bytes) else {
            throw .malformed("\(field) must be 16 bytes, got \(bytes.count)")
        }
        self = uuid
    }

    /// The 16 bytes on the wire.
    public var wire: Data { Data(bytes) }
}

// MARK: Values

extension Interno_V1_Value {
    /// The wire form of a field value.
    public init(_ value: FieldValue) {
        self.init()
        switch value {
        case .null: kind = .null(true)
        case .bool(let flag): kind = .boolean(flag)
        case .integer(let number): kind = .integer(number)
        case .duration(let seconds): kind = .durationSeconds(seconds)
        case .time(let time): kind = .timeMs(time.millisecondsSince1970)
        case .text(let text): kind = .text(text)
        case .id(let id): kind = .id(id.wire)
        }
    }

    /// The field value, validated.
    public func model(field: String) throws(WireError) -> FieldValue {
        switch kind {
        case .null: return .null
        case .boolean(let flag): return .bool(flag)
        case .integer(let number): return .integer(number)
        case .durationSeconds(let seconds): return .duration(seconds)
        case .timeMs(let milliseconds): return .time(Timestamp(millisecondsSince1970: milliseconds))
        case .text(let text):
            guard text.utf8.count <= WireLimits.maximumTextBytes else {
                throw .malformed(
                    "field \(field) holds \(text.utf8.count) bytes of text; the limit is \(WireLimits.maximumTextBytes)"
                )
            }
            return .text(text)
        case .id(let bytes): return .id(try UUID(wire: bytes, field: "the id in field \(field)"))
        case nil: throw .malformed("field \(field) has no value")
        }
    }
}

// MARK: Scopes

extension Interno_V1_Scope {
    /// The wire form of a scope.
    public init(_ scope: Scope) {
        switch scope {
        case .all: self = .all
        case .department: self = .department
        }
    }

    /// The scope's kind; `nil` when the server did not say (an older server).
    public var model: Scope.Kind? {
        switch self {
        case .all: .all
        case .department: .department
        case .unspecified, .UNRECOGNIZED: nil
        }
    }
}

// MARK: Counter ranges

extension Interno_V1_CounterRange {
    /// The wire form of a range of counters.
    public init(_ range: ClosedRange<UInt64>) {
        self.init()
        first = range.lowerBound
        last = range.upperBound
    }

    /// The range, validated: counters from 1 to 2^63-1, first no higher than last.
    public func model() throws(WireError) -> ClosedRange<UInt64> {
        guard first >= 1, first <= last, last <= UInt64(Int64.max) else {
            throw .malformed("a counter range \(first)...\(last) is not 1...2^63-1 in order")
        }
        return first...last
    }
}

// MARK: Clocks, refusals, changes

extension Interno_V1_Refusal {
    /// The wire form of a refusal.
    public init(_ refusal: Refusal) {
        self.init()
        code = UInt32(refusal.code.rawValue)
        reason = refusal.message
    }

    /// The refusal; an unknown code reads as `malformed`, keeping the reason.
    public var model: Refusal {
        Refusal(Refusal.Code(rawValue: Int(code)) ?? .malformed, reason)
    }
}

extension Array where Element == Interno_V1_ClockEntry {
    /// The wire form of a clock, in replica order.
    public init(_ clock: VersionVector) {
        self = clock.sortedEntries.map { entry in
            var wire = Interno_V1_ClockEntry()
            wire.replica = entry.replica.uuid.wire
            wire.counter = entry.counter
            return wire
        }
    }

    /// The clock, validated: 16-byte replicas, each once, positive counters.
    public func model() throws(WireError) -> VersionVector {
        var counters: [ReplicaID: UInt64] = [:]
        for entry in self {
            let replica = ReplicaID(try UUID(wire: entry.replica, field: "a context replica"))
            guard entry.counter > 0, entry.counter <= UInt64(Int64.max) else {
                throw .malformed("a context entry has counter \(entry.counter); counters are 1 to 2^63-1")
            }
            guard counters[replica] == nil else { throw .malformed("a context names replica \(replica) twice") }
            counters[replica] = entry.counter
        }
        return VersionVector(counters)
    }
}

extension Interno_V1_Change {
    /// The wire form of a change (its replica travels once, in the change set).
    public init(_ change: Change) {
        self.init()
        counter = change.dot.counter
        kind = change.kind.rawValue
        recordID = change.recordID.wire
        context = .init(change.context)
        fields = change.fields.sorted { $0.key < $1.key }.map { name, value in
            var field = Interno_V1_Field()
            field.name = name
            field.value = Interno_V1_Value(value)
            return field
        }
        author = change.author
        atMs = change.at.millisecondsSince1970
        if let refusal = change.refusal { self.refusal = Interno_V1_Refusal(refusal) }
        requires = change.requires.map { dot in
            var entry = Interno_V1_ClockEntry()
            entry.replica = dot.replica.uuid.wire
            entry.counter = dot.counter
            return entry
        }
    }

    /// The change by `replica`, validated.
    public func model(replica: ReplicaID) throws(WireError) -> Change {
        // Counters are stored as SQLite integers: 1 to 2^63-1.
        guard counter > 0, counter <= UInt64(Int64.max) else {
            throw .malformed("a change has counter \(counter); counters are 1 to 2^63-1")
        }
        guard let kind = RecordKind(rawValue: kind) else {
            throw .malformed("change \(counter) has unknown kind '\(self.kind)'")
        }
        var values: [FieldName: FieldValue] = [:]
        values.reserveCapacity(fields.count)
        for field in fields {
            guard !field.name.isEmpty, field.name.utf8.count <= 64 else {
                throw .malformed("change \(counter) has a field with an empty or overlong name")
            }
            let value = try field.value.model(field: field.name)
            guard values.updateValue(value, forKey: field.name) == nil else {
                throw .malformed("change \(counter) writes field \(field.name) twice")
            }
        }
        guard hasRefusal == values.isEmpty else {
            throw .malformed(
                "change \(counter) must either write fields or be void with a refusal, not both or neither")
        }
        guard author.utf8.count <= WireLimits.maximumAuthorBytes else {
            throw .malformed("change \(counter) has an overlong author")
        }
        var required: Set<Dot> = []
        for entry in requires {
            guard entry.counter > 0, entry.counter <= UInt64(Int64.max) else {
                throw .malformed(
                    "change \(counter) requires a dot with counter \(entry.counter); counters are 1 to 2^63-1")
            }
            let dot = Dot(
                replica: ReplicaID(try UUID(wire: entry.replica, field: "a required dot's replica")),
                counter: entry.counter)
            guard required.insert(dot).inserted else { throw .malformed("change \(counter) requires \(dot) twice") }
        }
        guard !hasRefusal || required.isEmpty else {
            throw .malformed("change \(counter) is void, and a void requires nothing")
        }
        return Change(
            dot: Dot(replica: replica, counter: counter), kind: kind,
            recordID: try UUID(wire: recordID, field: "a record id"), context: try context.model(), fields: values,
            author: author, at: Timestamp(millisecondsSince1970: atMs), refusal: hasRefusal ? refusal.model : nil,
            requires: Array(required))
    }
}

extension Interno_V1_ChangeSet {
    /// The wire form of a change set.
    public init(_ set: ChangeSet) {
        self.init()
        replica = set.replica.uuid.wire
        changes = set.changes.map(Interno_V1_Change.init)
    }

    /// The change set, validated: one replica, at least one change, counters increasing and,
    /// unless `consecutive` is false, consecutive. A pushed set is one local transaction, so
    /// its counters are consecutive; a pulled one is the part of a set the site may see
    /// (DESIGN §6.1), so its counters only increase.
    public func model(consecutive: Bool = true) throws(WireError) -> ChangeSet {
        let replica = ReplicaID(try UUID(wire: replica, field: "a change set's replica"))
        guard !changes.isEmpty else { throw .malformed("a change set holds no change") }
        var result: [Change] = []
        result.reserveCapacity(changes.count)
        for change in changes {
            let model = try change.model(replica: replica)
            // One local transaction takes consecutive counters; the stream relies on it to
            // never split a set.
            if let previous = result.last, consecutive, previous.dot.counter + 1 != model.dot.counter {
                throw .malformed("the changes of a set must have consecutive counters")
            }
            if let previous = result.last, previous.dot.counter >= model.dot.counter {
                throw .malformed("the changes of a set must be in increasing counter order")
            }
            result.append(model)
        }
        return ChangeSet(result)
    }
}

extension ChangeSet {
    /// An upper bound of the set's encoded size on the wire, cheap to compute: what a sender
    /// uses to keep a Push under the frame limit without serialising twice.
    public var estimatedWireSize: Int {
        changes.reduce(24) { size, change in
            var bytes = 48 + change.kind.rawValue.utf8.count + change.author.utf8.count
            bytes += (change.context.counters.count + change.requires.count) * 30
            for (name, value) in change.fields {
                bytes += 16 + name.utf8.count
                if case .text(let text) = value { bytes += text.utf8.count }
            }
            bytes += change.refusal?.message.utf8.count ?? 0
            return size + bytes
        }
    }
}
