import Foundation

/// How long a sync waits for each step before it gives up (exit 69; nothing applied is lost).
///
/// Without limits a site waits forever on a server that is stopped, out of file descriptors
/// or behind a link that went silent: the kernel still accepts the TCP connection, and then
/// nothing comes.
public struct SyncTimeouts: Sendable, Equatable {
    /// Opening the TCP connection.
    public var connect: Duration
    /// The TLS handshake, from the connection being open to the handshake being complete.
    public var handshake: Duration
    /// Each request and its whole answer: sending `Hello`, `Push` or `Pull`, and, apart from
    /// the site's own work between (applying a batch, preparing the next `Push`), waiting
    /// until the last byte of `Welcome`, `PushResult` or `Changes` has been read.
    public var request: Duration

    /// The reference site's limits, chosen for a slow link rather than for loopback.
    ///
    /// - connect, 10 s: a reachable server accepts within a few round trips even across the
    ///   world; no SYN-ACK after 10 s means the host or the path is down.
    /// - handshake, 15 s: two round trips, a few kilobytes of certificates and two signatures;
    ///   room for a loaded server on a satellite link, yet a stopped server is noticed soon.
    /// - request, 60 s: the largest answer is a full `Changes` frame of 16 MiB, which arrives
    ///   in 60 s on a link of 2.3 Mbit/s or faster (16 MiB × 8 / 60 s); a largest `Push` is
    ///   half a frame, 1.2 Mbit/s upstream. A slower link raises it with `--timeout`. A
    ///   deadline for the whole exchange, not for silence between bytes, so that a server
    ///   that trickles bytes cannot hold a site forever either.
    public static let standard = SyncTimeouts(connect: .seconds(10), handshake: .seconds(15), request: .seconds(60))

    /// The longest limit `--timeout` takes: a day.
    public static let maximumSeconds = 86_400.0

    /// Explicit limits for each step.
    public init(connect: Duration, handshake: Duration, request: Duration) {
        self.connect = connect
        self.handshake = handshake
        self.request = request
    }

    /// The same limit for every step: what `interno sync --timeout SECONDS` sets.
    public init(every limit: Duration) {
        self.init(connect: limit, handshake: limit, request: limit)
    }

    /// Parses `--timeout SECONDS`: a positive number of seconds, fractions allowed, at most a
    /// day; the same limit for every step.
    public init(seconds text: String) throws {
        guard let seconds = Double(text.trimmingCharacters(in: .whitespaces)), seconds.isFinite, seconds > 0 else {
            throw ClientError.invalidInput(
                "--timeout takes a positive number of seconds, such as 30 or 2.5, not '\(text)'")
        }
        guard seconds <= Self.maximumSeconds else {
            throw ClientError.invalidInput(
                "--timeout takes at most \(Int(Self.maximumSeconds)) seconds (a day), not \(text)")
        }
        self.init(every: .milliseconds(Int64((seconds * 1000).rounded(.up))))
    }
}

extension Duration {
    /// Whole seconds when it is a whole number of seconds, else with a decimal: `60 s`, `2.5 s`.
    var shownInSeconds: String {
        let (seconds, attoseconds) = components
        if attoseconds == 0 { return "\(seconds) s" }
        let value = Double(seconds) + Double(attoseconds) / 1e18
        return "\((value * 1000).rounded() / 1000) s"
    }
}
