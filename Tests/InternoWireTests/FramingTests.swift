import InternoWire
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite("Framing")
struct FramingTests {
    func framed(_ body: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(body.count))
        buffer.writeBytes(body)
        return buffer
    }

    @Test func theDecoderHandlesAnySplitOfTheStream() throws {
        let bodies: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 7, count: 300), [9]]
        let pairs = bodies.map { (framed($0), [ByteBuffer(bytes: $0)]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            FrameDecoder(maximumFrameBytes: 1024)
        }
    }

    @Test func aFrameOverTheLimitFailsBeforeItsBodyArrives() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumFrameBytes: 16)))
        var header = ByteBuffer()
        header.writeInteger(UInt32(17))
        #expect(throws: WireError.frameTooLarge(17, limit: 16)) { try channel.writeInbound(header) }
        _ = try? channel.finish()
    }

    @Test func aStreamEndingInsideAFrameIsReported() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var partial = ByteBuffer()
        partial.writeInteger(UInt32(10))
        partial.writeBytes([1, 2, 3])
        try channel.writeInbound(partial)
        #expect(throws: WireError.self) { try channel.finish() }
    }

    @Test func theEncoderPrefixesTheLength() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(FrameEncoder()))
        try channel.writeOutbound(ByteBuffer(bytes: [0xAA, 0xBB]))
        let out = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(buffer: out) == [0, 0, 0, 2, 0xAA, 0xBB])
        #expect(try channel.finish().isClean)
    }
}
