import Foundation
import InternoClient
import InternoStore
import Testing

/// A server that stops answering or dies: `interno sync` gives up in bounded time with exit 69,
/// names the server, and keeps what it applied; a broken connection is never a certificate
/// failure (70). Runs the real `interno-server` binary, so that it can be stopped and killed.
@Suite("Timeouts and broken connections", .serialized)
struct TimeoutTests {
    /// Gives HR 300 requests of 20 000 characters each (6 MB) on the server: a pull that takes
    /// long enough to be interrupted.
    func fill(_ hr: SiteCLI) async throws {
        let site = try hr.site()
        let details = String(repeating: "x", count: 20_000)
        for index in 0..<300 { _ = try site.newRequest(to: "IT", title: "Request \(index)", details: details) }
        try await hr.sync()
    }

    /// Runs `interno sync` with `arguments` in the background; returns its result and duration.
    func syncInBackground(_ site: SiteCLI, _ arguments: [String] = [])
        -> Task<(Executable.Result, Duration), any Error>
    {
        Task {
            let start = ContinuousClock.now
            let result = try await site.run(["sync"] + arguments)
            return (result, ContinuousClock.now - start)
        }
    }

    @Test(arguments: Central.all) func aServerStoppedBeforeTheHandshakeTimesOutWith69(central: Central) async throws {
        let deployment = try await BinaryDeployment(central)
        let server = try await deployment.start()
        defer { server.stop() }
        let hr = try await deployment.join("HR", "LIS", user: "ana", server: server)
        try await hr.ok("request", "new", "--to", "IT", "--title", "Waits for the server")

        // Stopped, its kernel still completes TCP handshakes into the backlog; TLS never starts.
        server.send(SIGSTOP)
        let start = ContinuousClock.now
        let result = try await hr.run(["sync", "--timeout", "2"])
        let elapsed = ContinuousClock.now - start
        #expect(result.status == 69, "\(result.stderr)")
        #expect(elapsed >= .seconds(2) && elapsed < .seconds(15), "took \(elapsed)")
        #expect(result.stderr.contains("localhost:\(server.port)"), "\(result.stderr)")
        #expect(result.stderr.contains("TLS handshake within 2 s (timed out)"), "\(result.stderr)")
        #expect(result.stderr.contains("everything applied so far is kept"), "\(result.stderr)")
        #expect(try hr.site().status().pending == 1)

        server.send(SIGCONT)
        try await hr.sync()
        #expect(try hr.site().status().pending == 0)
    }

    @Test(arguments: Central.all) func aServerStoppedMidConversationTimesOutWith69AndKeepsWhatWasApplied(
        central: Central
    ) async throws {
        let deployment = try await BinaryDeployment(central)
        let server = try await deployment.start()
        defer { server.stop() }
        let hr = try await deployment.join("HR", "LIS", user: "ana", server: server)
        let it = try await deployment.join("IT", "OPO", user: "rui", server: server)
        try await fill(hr)

        // Stop the server as soon as it logs IT's session, just after it queued Welcome: the
        // site waits for Welcome, if it had not left yet, or for the answer to its Pull.
        let offset = server.log.count
        // 5 s: a server on a loaded 2-core machine can take 2 s to answer Hello by itself.
        let sync = syncInBackground(it, ["--timeout", "5"])
        let connected = try await server.waitForLog("site connected", after: offset, within: .seconds(20))
        server.send(SIGSTOP)
        let (result, elapsed) = try await sync.value
        #expect(connected)
        #expect(result.status == 69, "\(result.stderr)")
        #expect(elapsed < .seconds(15), "took \(elapsed)")
        #expect(result.stderr.contains("localhost:\(server.port)"), "\(result.stderr)")
        #expect(
            result.stderr.contains("did not answer Pull within 5 s (timed out)")
                || result.stderr.contains("did not answer Hello within 5 s (timed out)"), "\(result.stderr)")
        #expect(result.stderr.contains("everything applied so far is kept"), "\(result.stderr)")

        // Whatever was applied stays; the next sync brings the rest, once.
        server.send(SIGCONT)
        try await it.sync()
        #expect(try it.site().store.requests().count == 300)
    }

    @Test(arguments: Central.all) func aServerKilledInTheMiddleOfAPullIs69NeverACertificateFailure(central: Central)
        async throws
    {
        let deployment = try await BinaryDeployment(central)
        var server = try await deployment.start()
        let hr = try await deployment.join("HR", "LIS", user: "ana", server: server)
        // One fresh site per trial, joined before there is anything to pull.
        var sites: [SiteCLI] = []
        for code in ["OPO", "LIS", "FAR", "BRG"] {
            sites.append(try await deployment.join("IT", code, user: "rui", server: server))
        }
        try await fill(hr)

        // Kill the server at a different moment of each site's pull: before it answers, or
        // while the answer is on its way (a FIN without close_notify, or a reset). A pull can
        // outrun a late kill; every interrupted one must be 69. (`aConnectionCutAtAnyByte...`
        // covers every offset deterministically, through a proxy.)
        var interrupted = 0
        for (trial, (site, delay)) in zip(sites, [0, 10, 25, 50]).enumerated() {
            if trial > 0 {
                server = try await deployment.start()
                try site.setServerPort(server.port)
            }
            let offset = server.log.count
            let sync = syncInBackground(site)
            #expect(try await server.waitForLog("site connected", after: offset, within: .seconds(20)))
            try await Task.sleep(for: .milliseconds(delay))
            server.send(SIGKILL)
            server.stop()
            let (result, elapsed) = try await sync.value
            #expect(elapsed < .seconds(15))
            guard result.status != 0 else { continue }
            interrupted += 1
            #expect(result.status == 69, "trial \(trial): \(result.stderr)")
            #expect(!result.stderr.contains("certificate"), "trial \(trial): \(result.stderr)")
            #expect(result.stderr.contains("localhost:\(server.port)"), "trial \(trial): \(result.stderr)")
        }
        #expect(interrupted >= 2, "the kills came too late to interrupt a pull")

        server = try await deployment.start()
        defer { server.stop() }
        for site in sites {
            try site.setServerPort(server.port)
            try await site.sync()
            #expect(try site.site().store.requests().count == 300)
        }
    }

    @Test(arguments: Central.all) func aConnectionCutAtAnyByteIs69NeverACertificateFailure(central: Central)
        async throws
    {
        try await Deployment.with(central) { deployment in
            let hr = try await deployment.join("HR", "LIS", user: "ana")
            let it = try await deployment.join("IT", "OPO", user: "rui")
            let site = try hr.site()
            for index in 0..<100 {
                _ = try site.newRequest(
                    to: "IT", title: "Request \(index)", details: String(repeating: "x", count: 500))
            }
            // From the first bytes of the TLS handshake to the middle of a push or a pull.
            var cuts = 0
            for (cli, direction) in [(hr, CuttingProxy.Direction.toServer), (it, .toClient)] {
                for bytes in [1, 100, 400, 800, 1_200, 1_600, 2_400, 4_000, 10_000, 30_000] {
                    let proxy = try await CuttingProxy.start(
                        target: deployment.port, cutAfter: bytes, direction: direction)
                    try cli.setServerPort(proxy.port)
                    let result = try await cli.run(["sync", "--timeout", "10"])
                    await proxy.stop()
                    if result.status == 0 { continue }
                    cuts += 1
                    #expect(result.status == 69, "cut after \(bytes) bytes \(direction): \(result.stderr)")
                    #expect(
                        result.stderr.contains("localhost:\(proxy.port)"),
                        "cut after \(bytes) bytes \(direction): \(result.stderr)")
                }
                try cli.setServerPort(deployment.port)
                try await cli.sync()
            }
            #expect(cuts >= 10, "too few cuts interrupted a sync")
            #expect(try it.site().store.requests().count == 100)
        }
    }
}
