import Foundation
import InternoClient
import InternoModel
import InternoServer
import InternoStore
import InternoWire
import NIOCore
import NIOPosix
import NIOSSL
import Testing

/// Who may connect: only certificates from the server's own CA, enrolled and not revoked.
@Suite("Identity and TLS", .serialized)
struct IdentityTests {
    /// A bundle for IT-OPO issued by a second server with its own CA, made in `directory`.
    static func enrollOnAnotherServer(in directory: TemporaryDirectory) async throws -> EnrollmentBundle {
        let server = ServerDirectory(path: directory.path("server"))
        _ = try await server.initialize(name: "localhost", port: 7443)
        let administration = try ServerAdministration(directory: server)
        try await administration.addDepartment(code: "IT", name: "IT")
        return try await administration.enroll(department: "IT", site: "OPO")
    }

    @Test(arguments: Central.all) func aCertificateFromAnotherCAIsRefusedAndTheServerKeepsServing(central: Central)
        async throws
    {
        try await Deployment.with(central) { deployment in
            let good = try await deployment.join("HR", "LIS", user: "ana")
            // A site enrolled on another server, pointed at this one.
            let other = try TemporaryDirectory()
            var bundle = try await Self.enrollOnAnotherServer(in: other)
            bundle.port = deployment.port
            let path = other.path("stranger.bundle")
            try SecureFile.write(try bundle.encoded(), to: path, mode: 0o600)
            let stranger = SiteCLI(home: other.path("site"), user: "eve")
            let joined = try await stranger.run(["join", path])
            #expect(joined.status == 0, "join is offline-tolerant: \(joined.stderr)")
            #expect(joined.stderr.contains("not synced yet"))
            let result = try await stranger.run(["sync"])
            #expect(result.status == 70)
            #expect(result.stderr.contains("secure connection failed"))
            // The server still serves its own sites.
            try await good.ok("request", "new", "--to", "IT", "--title", "Still works")
            try await good.sync()
            #expect(try await deployment.store.requestKeys().count == 1)
        }
    }

    @Test(arguments: Central.all) func aClientCertificateFromAnotherCAIsRefusedByTheServer(central: Central)
        async throws
    {
        try await Deployment.with(central) { deployment in
            let good = try await deployment.join("HR", "LIS", user: "ana")
            // The right CA and address, but a certificate and key issued by another server's CA.
            let other = try TemporaryDirectory()
            let forged = try await Self.enrollOnAnotherServer(in: other)
            var bundle = try await deployment.administration.enroll(department: "IT", site: "OPO")
            bundle.port = deployment.port
            bundle.clientCertificate = forged.clientCertificate
            bundle.clientKey = forged.clientKey
            let path = other.path("forged.bundle")
            try SecureFile.write(try bundle.encoded(), to: path, mode: 0o600)
            let stranger = SiteCLI(home: other.path("site"), user: "eve")
            try await stranger.run(["join", path])
            let result = try await stranger.run(["sync"])
            #expect(result.status == 70, "\(result.stderr)")
            #expect(result.stderr.contains("did not accept this site's certificate"))
            try await good.sync()
        }
    }

    @Test(arguments: Central.all) func aRevokedSiteIsRefusedWithAClearMessage(central: Central) async throws {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            try await hr.ok("request", "new", "--to", "IT", "--title", "Before revocation")
            try await deployment.store.revoke(try #require(ReplicaID(uuidString: try hr.site().settings.replicaID)))
            let seenBefore = try await deployment.store.registry().first { $0.code == "HR-LIS" }?.lastSeenAt
            let result = try await hr.run(["sync"])
            #expect(result.status == 70)
            #expect(result.stderr.contains("HR-LIS was revoked"))
            let seenAfter = try await deployment.store.registry().first { $0.code == "HR-LIS" }?.lastSeenAt
            #expect(seenAfter == seenBefore, "a revoked site's attempt is not 'last seen'")
            #expect(try hr.site().status().pending == 1, "the site keeps its unsent change")
            try await it.sync()
        }
    }

    @Test(arguments: Central.all) func aClientWithoutACertificateIsRefusedAndTheServerKeepsServing(central: Central)
        async throws
    {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv13
            configuration.trustRoots = .certificates(
                try NIOSSLCertificate.fromPEMFile(deployment.data.url.appendingPathComponent("ca.pem").path))
            let context = try NIOSSLContext(configuration: configuration)
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: deployment.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            var failure: (any Error)?
            do {
                try await channel.executeThenClose { inbound, outbound in
                    var hello = Interno_V1_Frame()
                    hello.body = .hello(Interno_V1_Hello())
                    var framed = ByteBuffer()
                    let body = hello.serializedBuffer()
                    framed.writeInteger(UInt32(body.readableBytes))
                    framed.writeImmutableBuffer(body)
                    try await outbound.write(framed)
                    for try await _ in inbound { Issue.record("the server answered a client without a certificate") }
                }
            } catch {
                failure = error
            }
            // The server's alert usually arrives as the client reads; on a loaded machine the
            // server may close before the client's write, which then fails on the closed
            // channel. Either way the server refused without answering.
            if let tlsError = failure as? BoringSSLError {
                #expect("\(tlsError)".contains("CERTIFICATE_REQUIRED"))
            } else {
                let closed = try #require(
                    failure as? ChannelError, "expected a TLS alert, got \(String(describing: failure))")
                #expect(closed == .ioOnClosedChannel)
            }
            try await hr.ok("request", "new", "--to", "IT", "--title", "Still works")
            try await hr.sync()
        }
    }
}
