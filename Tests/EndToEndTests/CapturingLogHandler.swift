import Logging
import NIOConcurrencyHelpers

/// A swift-log handler that keeps every line in memory, for tests that assert what the server
/// logged and at which level.
struct CapturingLogHandler: LogHandler {
    /// One logged line.
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    /// The lines every copy of a handler logged: a logger's copies share it.
    final class Lines: Sendable {
        private let lines = NIOLockedValueBox<[Line]>([])

        var all: [Line] { lines.withLockedValue { $0 } }

        func append(_ line: Line) { lines.withLockedValue { $0.append(line) } }
    }

    let lines: Lines
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(_ lines: Lines) {
        self.lines = lines
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.append(
            Line(
                level: event.level, message: event.message.description,
                metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
    }
}
