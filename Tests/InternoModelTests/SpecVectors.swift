import Foundation
import Testing

@testable import InternoModel

/// The data files beside the spec: `Protocol/schema.json` and `Protocol/vectors/*.json`.
enum SpecFiles {
    /// The repository's `Protocol/` folder.
    static let protocolDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Protocol").standardized

    /// `Protocol/<path>`.
    static func url(_ path: String) -> URL {
        protocolDirectory.appendingPathComponent(path)
    }

    /// Decodes `Protocol/<path>`.
    static func load<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
        try JSONDecoder().decode(T.self, from: try Data(contentsOf: url(path)))
    }
}

/// A value as the vectors write it: an object with one member named as in the protobuf
/// `Value` (`null`, `boolean`, `integer`, `duration_seconds`, `time_ms`, `text`, `id`).
struct VectorValue: Decodable, Equatable {
    let value: FieldValue

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not one member"))
        }
        switch key.stringValue {
        case "null": value = .null
        case "boolean": value = .bool(try container.decode(Bool.self, forKey: key))
        case "integer": value = .integer(try container.decode(Int64.self, forKey: key))
        case "duration_seconds": value = .duration(try container.decode(Int64.self, forKey: key))
        case "time_ms": value = .time(Timestamp(millisecondsSince1970: try container.decode(Int64.self, forKey: key)))
        case "text": value = .text(try container.decode(String.self, forKey: key))
        case "id": value = .id(try container.decode(UUID.self, forKey: key))
        default:
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown member \(key.stringValue)"))
        }
    }
}

/// A change as the vectors write it: its replica by name (`HR-LIS`), its context by names.
struct VectorChange: Decodable {
    let replica: String
    let counter: UInt64
    let kind: String
    let record: UUID
    let context: [String: UInt64]
    let fields: [String: VectorValue]
    let author: String
    let atMs: Int64

    enum CodingKeys: String, CodingKey {
        case replica, counter, kind, record, context, fields, author
        case atMs = "at_ms"
    }

    func change(in world: VectorWorld) throws -> Change {
        Change(
            dot: Dot(replica: try world.replica(replica), counter: counter),
            kind: try #require(RecordKind(rawValue: kind)), recordID: record,
            context: VersionVector(
                Dictionary(uniqueKeysWithValues: try context.map { (try world.replica($0.key), $0.value) })),
            fields: fields.mapValues(\.value), author: author, at: Timestamp(millisecondsSince1970: atMs))
    }
}

/// `Protocol/vectors/world.json`: replicas, departments and the changes every vector starts from.
struct VectorWorld: Decodable {
    let replicas: [String: UUID]
    let departments: [String: UUID]
    let records: [String: UUID]
    let setup: [VectorChange]
    let clocks: [String: [String: UInt64]]

    static func load() throws -> VectorWorld {
        try SpecFiles.load(VectorWorld.self, "vectors/world.json")
    }

    func replica(_ name: String) throws -> ReplicaID {
        ReplicaID(try #require(replicas[name], "no replica \(name) in world.json"))
    }

    /// Who writes from `replica`: the server as the administrator, a site as its department.
    func writer(_ replica: String) throws -> Writer {
        if replica == "server" { return .admin }
        let code = String(replica.prefix { $0 != "-" })
        return .department(try #require(departments[code], "no department \(code) in world.json"))
    }
}

/// The records of a world, with the log of each, to judge changes against as the spec says:
/// the writer's view is the replay of exactly the logged changes its context covers.
struct JudgedWorld {
    let world: VectorWorld
    var records: [UUID: RecordState] = [:]
    var logs: [UUID: [Change]] = [:]

    /// The world of world.json, every setup change checked and applied in order.
    init(_ world: VectorWorld) throws {
        self.world = world
        for written in world.setup {
            let change = try written.change(in: world)
            if let refusal = judge(change, by: try world.writer(written.replica), receivedAt: change.at) {
                Issue.record("setup change \(change.dot) of world.json is refused: \(refusal.message)")
            }
            try apply(change)
        }
    }

    /// The record as the writer of `change` saw it.
    func view(of change: Change) throws -> RecordState {
        try RecordState.view(
            kind: records[change.recordID]?.kind ?? change.kind, id: change.recordID,
            log: logs[change.recordID] ?? [], at: change.context)
    }

    /// `nil` if `change` is accepted, else its refusal.
    func judge(_ change: Change, by writer: Writer, receivedAt: Timestamp) -> Refusal? {
        let snapshot = records
        do {
            let seen = try view(of: change)
            try Schema.check(change, by: writer, seen: seen, lookup: { snapshot[$1] }, receivedAt: receivedAt)
            return nil
        } catch let refusal as Refusal {
            return refusal
        } catch {
            Issue.record("judging \(change.dot): \(error)")
            return Refusal(.malformed, "\(error)")
        }
    }

    mutating func apply(_ change: Change) throws {
        var record = records[change.recordID] ?? RecordState(kind: change.kind, id: change.recordID)
        try record.apply(change)
        records[change.recordID] = record
        logs[change.recordID, default: []].append(change)
    }
}
