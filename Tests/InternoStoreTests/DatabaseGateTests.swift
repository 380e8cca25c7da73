import Foundation
import GRDB
import InternoModel
import Testing

@_spi(Database) @testable import InternoStore

/// The reads of a judge beside the writer go through the writer (DESIGN §4): they run on its
/// connection once it serves them, after what it wrote before, and a writer that fails
/// answers them with its failure.
@Suite("Reads beside the writer")
struct DatabaseGateTests {
    /// A source used on one other thread at a time, handed over and taken back.
    private struct Handed: @unchecked Sendable {
        let state: StoredState
    }

    /// A request at the server, and an edit of it that HR wrote but did not push yet.
    private static func requestAndEdit(_ hub: Hub) throws -> (id: UUID, edit: Change) {
        let id = UUID.timeOrdered()
        try hub.hr.write(
            [
                Edit(
                    .request, id,
                    [
                        "customer": hub.department("HR"), "provider": hub.department("IT"),
                        "title": .text("Laptop"), "priority": .text("normal"), "state": .text("submitted"),
                    ])
            ], author: "ana")
        _ = try hub.push(hub.hr)
        let edit = try hub.hr.write([Edit(.request, id, ["title": .text("Laptop, 16 GB")])], author: "ana")
        return (id, try #require(edit.changes.first))
    }

    @Test(arguments: Storage.allCases)
    func aReadBesideTheWriterRunsOnItAfterWhatItWroteBefore(storage: Storage) throws {
        let hub = try Hub(storage)
        let (id, edit) = try Self.requestAndEdit(hub)
        let logged = try hub.server.writer.write { db -> Int in
            let state = StoredState(db)
            let gate = DatabaseGate()
            state.gate = gate
            let handed = Handed(state: state)
            let reading = Prepared { () -> Result<Int, any Error> in
                defer { gate.finish() }
                return Result { try handed.state.log(ofRecord: id).count }
            }
            // Written before the writer serves: the read, whenever it was asked for, sees it.
            try ChangeLog.append(edit, set: edit.dot.counter...edit.dot.counter, db)
            gate.serve()
            state.gate = nil
            return try reading.take().get()
        }
        #expect(logged == 2)
    }

    @Test(arguments: Storage.allCases)
    func aWriterThatFailsAnswersTheReadBesideItWithItsFailure(storage: Storage) throws {
        let hub = try Hub(storage)
        let (id, _) = try Self.requestAndEdit(hub)
        let answer = try hub.server.writer.write { db -> Result<Int, any Error> in
            let gate = DatabaseGate()
            let state = StoredState(db)
            state.gate = gate
            let handed = Handed(state: state)
            let reading = Prepared { () -> Result<Int, any Error> in
                defer { gate.finish() }
                return Result { try handed.state.log(ofRecord: id).count }
            }
            // Returns once the read has ended, whether it was asked for before or after.
            gate.fail(StoreError.io("the disk is full"))
            state.gate = nil
            return reading.take()
        }
        #expect(throws: StoreError.io("the disk is full")) { try answer.get() }
    }
}
