import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct HeadsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heads",
        abstract: "Print per-city heads and the network digest, without verifying.",
        discussion: """
            Heads are, for each city, its highest seq held and that entry's id. Chains are
            hash-linked, so two cities with equal digests hold the same log. Instant on any
            size of log; `audit` recomputes the same from the bytes.

            Example:
              c4csr heads --json | jq -r .digest
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            let s = try city.store.summary()
            if output.json {
                Console.json(.object([
                    "city": .string(city.id.rawValue), "entries": .int(Int64(s.entries)), "heads": Render.headsJSON(s.heads),
                    "forks": Render.headsJSON(s.forks), "digest": .string(s.digest.hex),
                ]))
            } else {
                for line in Render.headsText(s.heads, forks: s.forks, digest: s.digest, entries: s.entries) { Console.out(line) }
            }
        }
    }
}
