import ArgumentParser
import Foundation
import InternoModel
import InternoPostgres
import InternoServer
import InternoStore
import Logging

/// `--scope department|all`: a wrong word is a usage error that lists both.
extension Scope.Kind: ExpressibleByArgument {}

/// `--log-level`: a wrong word is a usage error that lists the levels, and completion offers
/// them. swift-log's type, argument-parser's protocol: only this executable parses it.
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// The data directory every server command takes, and where the merged state is when it is
/// not the SQLite file in it.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The server's data directory.")
    var data: String

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The merged state on PostgreSQL, as postgres://USER@HOST:PORT/DB (default: $INTERNO_DATABASE).",
            discussion:
                "Without it, and without INTERNO_DATABASE, the server keeps its data in server.sqlite in --data.",
            valueName: "url"))
    var database: String?

    var directory: ServerDirectory { ServerDirectory(path: data) }

    /// The PostgreSQL database given by `--database` or `INTERNO_DATABASE`, if any.
    func location() throws -> PostgresLocation? {
        guard let url = database ?? ProcessInfo.processInfo.environment["INTERNO_DATABASE"], !url.isEmpty else {
            return nil
        }
        return try PostgresLocation(url: url)
    }

    /// Runs `body` with the server's central store, wherever it is.
    func withStore<T: Sendable>(_ body: @Sendable (any CentralStore) async throws -> T) async throws -> T {
        try await directory.withStore(database: try location(), body)
    }
}

/// The exit codes of `interno-server`; the numbers match `interno`'s (README, "Exit codes").
enum ExitStatus {
    static let failure: Int32 = 1
    static let invalidInput: Int32 = 65
    static let notFound: Int32 = 66
    static let unreachable: Int32 = 69
    static let notJoined: Int32 = 73
}

/// Runs a command body, printing a failure for a person and exiting with its documented code.
func reporting(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ServerError {
        printError(error.description)
        switch error {
        case .alreadyInitialized, .notInitialized: throw ExitCode(ExitStatus.notJoined)
        case .invalidArgument: throw ExitCode(ExitStatus.invalidInput)
        case .notFound: throw ExitCode(ExitStatus.notFound)
        case .cannotListen: throw ExitCode(ExitStatus.unreachable)
        case .io: throw ExitCode(ExitStatus.failure)
        }
    } catch let error as StoreError {
        printError(error.description)
        switch error {
        case .refused: throw ExitCode(ExitStatus.invalidInput)
        case .notFound: throw ExitCode(ExitStatus.notFound)
        default: throw ExitCode(ExitStatus.failure)
        }
    } catch let error as PostgresStoreError {
        printError(error.description)
        switch error {
        case .invalidLocation: throw ExitCode(ExitStatus.invalidInput)
        case .notInitialized, .alreadyInitialized: throw ExitCode(ExitStatus.notJoined)
        case .unavailable: throw ExitCode(ExitStatus.unreachable)
        case .corrupt: throw ExitCode(ExitStatus.failure)
        }
    } catch let error as ExitCode {
        throw error
    } catch {
        printError("\(error)")
        throw ExitCode(ExitStatus.failure)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

func printTable(_ headers: [String], _ rows: [[String]]) {
    let widths = headers.indices.map { column in
        ([headers[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
    }
    func line(_ cells: [String]) -> String {
        zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
            .trimmingCharacters(in: .whitespaces)
    }
    print(line(headers))
    for row in rows { print(line(row)) }
}
