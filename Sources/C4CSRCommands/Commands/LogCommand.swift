import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print the merged network log in its one deterministic order.",
        discussion: """
            Entries are ordered by the sum of their vector clock, then city, then seq
            (docs/PROTOCOL.md §4): a causal order that every city computes alike, so two
            cities holding the same entries print the same log, byte for byte.

            Example:
              c4csr log | tail
              c4csr log --json > log.jsonl
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Print one JSON object per entry (JSON Lines): id, origin, seq, prev, clock, time, kind, payload.")
    var json = false

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            var n = 0
            var buffer = ""
            try city.store.forEachMerged { e in
                n += 1
                buffer += (json ? CanonicalJSON.string(Render.entryJSON(e)) : Render.logLine(n, e)) + "\n"
                if buffer.utf8.count > 1 << 16 {
                    Console.write(buffer)
                    buffer = ""
                }
            }
            Console.write(buffer)
        }
    }
}
