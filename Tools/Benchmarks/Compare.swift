import Foundation

/// `--against OTHER --pairs N`: this benchmark and another build of it, run in turn with the
/// same options, and every figure compared (DESIGN §9).
///
/// One run on this machine moves by 15–30% with what else runs on it, so a change of 5–10%
/// is only seen in alternating runs of the two builds, compared figure by figure. Each pair
/// runs both binaries once as processes of their own, each writing its figures with
/// `--json`; the pairs alternate which one goes first, so neither always meets a machine the
/// other has just warmed or loaded. The table gives, for each figure both runs wrote, the
/// median of each build, the ratio of the medians (this build over the other), and in how
/// many pairs this build's figure was the better one: for seconds, ratios to raw, ms,
/// megabytes and failures lower is better, for a rate or a count of syncs higher is. `--json FILE` writes every run's figures
/// and the medians.
enum Compare {
    /// One build's figures from one run.
    typealias Figures = [String: Double]

    static func run(against other: String, pairs: Int, passing options: [String], json: String?) throws {
        let this = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let other = URL(fileURLWithPath: other).standardizedFileURL.path
        guard FileManager.default.isExecutableFile(atPath: other) else {
            Benchmark.refuse("--against \(other) is not an executable: give the path of another interno-benchmark")
        }
        guard other != this else {
            Benchmark.refuse("--against names this binary itself: copy the other build elsewhere first")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "interno-bench-compare-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        print("interno-benchmark: \(pairs) alternating pairs of runs with \(options.joined(separator: " "))")
        print("  A (the other build): \(other)")
        print("  B (this build):      \(this)")
        print("  each run's output in \(scratch.path) while it runs")
        fflush(nil)

        var runs: (a: [Figures], b: [Figures]) = ([], [])
        for pair in 0..<pairs {
            // A first in even pairs, B first in odd ones.
            let order = pair % 2 == 0 ? [("A", other), ("B", this)] : [("B", this), ("A", other)]
            for (name, binary) in order {
                let figures = try runOnce(
                    binary, options: options, output: scratch.appendingPathComponent("pair-\(pair + 1)-\(name)"))
                if name == "A" { runs.a.append(figures) } else { runs.b.append(figures) }
                let raw = figures["raw_insert.seconds"].map { String(format: ", raw insert %.3f s", $0) } ?? ""
                print("  pair \(pair + 1): \(name) done (\(figures.count) figures\(raw))")
                // Seen as each run ends, also when the output goes to a file.
                fflush(nil)
            }
        }

        let keys = Set(runs.a.flatMap(\.keys)).intersection(runs.b.flatMap(\.keys)).sorted()
        print(
            "\n"
                + [
                    pad("figure", 44), pad("A median", 12, right: true), pad("B median", 12, right: true),
                    pad("B/A", 7, right: true), "  B better in",
                ].joined())
        var medians: [String: [String: Double]] = [:]
        for key in keys {
            let a = runs.a.compactMap { $0[key] }
            let b = runs.b.compactMap { $0[key] }
            let (medianA, medianB) = (median(a), median(b))
            medians[key] = ["a": medianA, "b": medianB]
            // Rates and counts of work done; everything else (times, ratios, memory, failures) lower.
            let higherIsBetter = ["per_second", ".syncs", ".sets_written", ".sets_acknowledged"].contains {
                key.hasSuffix($0)
            }
            let better = zip(a, b).filter { higherIsBetter ? $1 > $0 : $1 < $0 }.count
            let ratio = medianA == 0 ? "—" : String(format: "%.3f", medianB / medianA)
            print(
                [
                    pad(key, 44), pad(format(medianA), 12, right: true), pad(format(medianB), 12, right: true),
                    pad(ratio, 7, right: true), "  \(better) of \(min(a.count, b.count))",
                ].joined())
        }
        let onlyOne = Set(runs.a.flatMap(\.keys)).symmetricDifference(runs.b.flatMap(\.keys)).sorted()
        if !onlyOne.isEmpty {
            // A case that needs a binary beside the benchmark (`interno`, `interno-server`)
            // skips that part where it is missing.
            print("figures only one build wrote (is a binary missing beside it?): \(onlyOne.joined(separator: ", "))")
        }
        if let json {
            let document: [String: Any] = [
                "options": options, "pairs": pairs, "a": other, "b": this,
                "runs": ["a": runs.a, "b": runs.b], "medians": medians,
            ]
            try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
                .write(to: URL(fileURLWithPath: json))
            print("interno-benchmark: the comparison written to \(json)")
        }
    }

    /// Runs `binary` with `options` and `--json`, its output to `output.log`, and reads back
    /// the figures it wrote; a run that fails stops the comparison with the end of its output.
    private static func runOnce(_ binary: String, options: [String], output: URL) throws -> Figures {
        let figures = output.appendingPathExtension("json")
        let log = output.appendingPathExtension("log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else {
            throw CompareError("cannot create \(log.path): check that the temporary directory can be written")
        }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = options + ["--json", figures.path]
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let data = try? Data(contentsOf: figures),
            let document = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let values = document["figures"] as? [String: Any]
        else {
            // The whole output is kept beside the scratch folder, which goes: a crash's
            // backtrace starts far above its last lines.
            let kept = output.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
                "\(output.deletingLastPathComponent().lastPathComponent)-\(output.lastPathComponent).log")
            try? FileManager.default.copyItem(at: log, to: kept)
            let tail =
                (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").suffix(5)
                .joined(separator: "\n") ?? ""
            let ended =
                process.terminationReason == .uncaughtSignal
                ? "was killed by signal \(process.terminationStatus)\(process.terminationStatus == SIGILL ? " (SIGILL: a Swift runtime trap)" : "")"
                : "exited with \(process.terminationStatus)"
            throw CompareError(
                "\(binary) \(options.joined(separator: " ")) \(ended) and wrote no figures; its whole output is in \(kept.path), which ended:\n\(tail)"
            )
        }
        return values.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }

    struct CompareError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    private static func format(_ value: Double) -> String {
        abs(value) >= 1000 ? String(format: "%.0f", value) : String(format: "%.4g", value)
    }

    private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        guard text.count < width else { return text + " " }
        let fill = String(repeating: " ", count: width - text.count)
        return right ? fill + text : text + fill
    }
}
