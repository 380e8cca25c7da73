import ArgumentParser

/// `completions SHELL`: bash, zsh or fish.
extension CompletionShell: @retroactive ExpressibleByArgument {}

extension InternoServerCommand {
    struct Completions: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "completions",
            abstract: "Print a completion script for bash, zsh or fish.",
            discussion: """
                The script completes commands, options, and the values of options that take one of a few words (--scope, --log-level). Install it once per shell, as below, then open a new shell.

                Examples:
                  interno-server completions bash > /etc/bash_completion.d/interno-server
                  source <(interno-server completions bash)
                  interno-server completions zsh > "${fpath[1]}/_interno-server"
                  interno-server completions fish \\
                      > ~/.config/fish/completions/interno-server.fish
                """)

        @Argument(help: "The shell.") var shell: CompletionShell

        func run() {
            print(InternoServerCommand.completionScript(for: shell))
        }
    }
}
