import ArgumentParser
import Foundation
import InternoPostgres
import InternoServer
import Logging
import ServiceLifecycle

extension InternoServerCommand {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Serve sites over TLS until SIGTERM or SIGINT, then shut down gracefully.",
            discussion: """
                Logs go to stderr. The first line after start-up says where it listens.

                Examples:
                  interno-server run --data /srv/interno
                  interno-server run --data /srv/interno --listen 127.0.0.1:7443 \\
                      --log-level debug
                """)

        @OptionGroup var data: DataOptions
        @Option(help: "HOST:PORT to listen on (default: all interfaces, the port given at init).") var listen: String?
        @Option(help: "The least severe messages logged.") var logLevel = Logger.Level.info

        func run() async throws {
            try await reporting {
                LoggingSystem.bootstrap { [logLevel] label in
                    var handler = StreamLogHandler.standardError(label: label)
                    handler.logLevel = logLevel
                    return handler
                }
                var host = "0.0.0.0"
                var port: Int?
                if let listen {
                    guard let colon = listen.lastIndex(of: ":"),
                        let number = Int(listen[listen.index(after: colon)...]),
                        (0...65_535).contains(number)
                    else { throw ServerError.invalidArgument("--listen takes HOST:PORT, e.g. 127.0.0.1:7443") }
                    host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                    port = number
                }
                let logger = Logger(label: "interno-server")
                let (directory, listenHost, listenPort) = (data.directory, host, port)
                try await data.withStore { store in
                    if let postgres = store as? PostgresServerStore {
                        let security = try await postgres.connectionSecurity()
                        logger.info(
                            "central store on PostgreSQL",
                            metadata: ["database": "\(postgres.location)", "tls": "\(security)"])
                    }
                    let server = InternoServer(
                        configuration: try ServerConfiguration(
                            directory: directory, store: store, host: listenHost, port: listenPort),
                        logger: logger)
                    let group = ServiceGroup(
                        configuration: .init(
                            services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint],
                            logger: logger))
                    try await group.run()
                }
            }
        }
    }
}
