import Foundation
import InternoModel
import InternoStore
import InternoWire
import Logging

/// `interno verify`: Verify lists the digests of the records a site should hold, Fetch hands it
/// their logs to repair them with (Protocol/README.md, 5.9; DESIGN §3.10).
extension SyncSession {
    func handle(_ verify: Interno_V1_Verify, from peer: Peer, logger: Logger) async throws -> Interno_V1_Frame {
        guard verify.digestVersion == RecordDigest.version else {
            throw WireError.malformed(
                "Verify.digest_version \(verify.digestVersion) is not known here; this server computes version \(RecordDigest.version)"
            )
        }
        guard verify.cursor >= 0 else { throw WireError.malformed("a negative cursor") }
        let after = verify.after.isEmpty ? nil : try UUID(wire: verify.after, field: "Verify.after")
        let expected = try await configuration.store.expectedDigests(
            after: after, limit: WireLimits.maximumVerifyRecords, cursor: verify.cursor,
            cursorEpoch: verify.cursorEpoch, unacknowledged: try verify.unacknowledged.map { try $0.model() },
            from: peer.entry)
        var result = Interno_V1_VerifyResult()
        if let expected {
            result.records = Data(digests: expected.records)
            result.more = expected.more
        } else {
            result.cursorReset = true
        }
        logger.info("verify", metadata: ["records": "\(expected?.records.count ?? 0)"])
        var frame = Interno_V1_Frame()
        frame.body = .verifyResult(result)
        return frame
    }

    func handle(_ fetch: Interno_V1_Fetch, from peer: Peer) async throws -> Interno_V1_Frame {
        guard fetch.recordIds.count <= WireLimits.maximumFetchRecords else {
            throw WireError.remote(
                .batchTooLarge,
                "a Fetch names at most \(WireLimits.maximumFetchRecords) records, not \(fetch.recordIds.count)")
        }
        guard fetch.cursor >= 0 else { throw WireError.malformed("a negative cursor") }
        let ids = try fetch.recordIds.recordIDs(field: "Fetch.record_ids")
        // Whole records within three quarters of the frame limit, as for Changes.
        let logs = try await configuration.store.expectedLogs(
            of: ids, cursor: fetch.cursor, cursorEpoch: fetch.cursorEpoch, unacknowledged: [], from: peer.entry,
            maximumBytes: configuration.maximumFrameBytes / 4 * 3, size: { $0.estimatedWireSize })
        var fetched = Interno_V1_Fetched()
        if let logs {
            fetched.records = logs.map(Interno_V1_RecordLog.init)
        } else {
            fetched.cursorReset = true
        }
        var frame = Interno_V1_Frame()
        frame.body = .fetched(fetched)
        return frame
    }
}
