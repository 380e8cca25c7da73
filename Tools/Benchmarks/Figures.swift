import Foundation

/// Every figure a run prints, kept by name so `--json FILE` can write them all for comparing
/// runs: seconds, rates, ratios against raw SQLite from the same run, megabytes.
final class Figures: @unchecked Sendable {
    static let shared = Figures()

    private let lock = NSLock()
    private var values: [String: Double] = [:]

    /// Records `value` under `name` (`push.seconds`, `push.ratio_to_raw`, ...).
    func record(_ name: String, _ value: Double) {
        lock.withLock { values[name] = value }
    }

    /// The figures as JSON, with the run's arguments and machine, keys sorted.
    func json(arguments: [String]) throws -> Data {
        let figures = lock.withLock { values }
        var name = utsname()
        uname(&name)
        let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let document: [String: Any] = [
            "arguments": arguments,
            "machine": machine,
            "processors": ProcessInfo.processInfo.activeProcessorCount,
            "date": ISO8601DateFormatter().string(from: Date()),
            "figures": figures,
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
    }
}
