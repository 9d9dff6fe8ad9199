import ArgumentParser
import Foundation

struct CompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completion",
        abstract: "Print a shell completion script (bash, zsh or fish).",
        discussion: """
            `make install` installs the three scripts where each shell looks for them.
            To try one in the current shell:

            Examples:
              source <(c4csr completion bash)
              c4csr completion zsh > "${fpath[1]}/_c4csr"
              c4csr completion fish > ~/.config/fish/completions/c4csr.fish
            """)

    @Argument(help: ArgumentHelp("bash, zsh or fish.", valueName: "shell"))
    var shell: String

    func validate() throws {
        guard CompletionShell(rawValue: shell) != nil else {
            throw ValidationError("the shell must be bash, zsh or fish (got \"\(shell)\")")
        }
    }

    func run() throws {
        print(C4CSR.completionScript(for: CompletionShell(rawValue: shell)!), terminator: "")
    }
}
