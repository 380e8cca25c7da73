import ArgumentParser

/// `completions SHELL`: bash, zsh or fish.
extension CompletionShell: @retroactive ExpressibleByArgument {}

extension Interno {
    struct Completions: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "completions",
            abstract: "Print a completion script for bash, zsh or fish.",
            discussion: """
                The script completes commands, options, and the values of options that take one of a few words (--priority, --state, --by). Install it once per shell, as below, then open a new shell.

                Examples:
                  interno completions bash > /etc/bash_completion.d/interno
                  source <(interno completions bash)
                  interno completions zsh > "${fpath[1]}/_interno"
                  interno completions fish > ~/.config/fish/completions/interno.fish
                """)

        @Argument(help: "The shell.") var shell: CompletionShell

        func run() {
            print(Interno.completionScript(for: shell))
        }
    }
}
