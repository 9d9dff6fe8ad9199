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

            --since keeps the entries signed at or after a date (by the time their city
            wrote in them), still in merged order.

            Example:
              c4csr log | tail
              c4csr log --since 2026-11-01
              c4csr log --json > log.jsonl
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Only entries signed at or after this date (YYYY-MM-DD, UTC, or an RFC 3339 time).", valueName: "date"))
    var since: String?
    @Flag(name: .long, help: "Print one JSON object per entry (JSON Lines): id, origin, seq, prev, clock, time, kind, payload.")
    var json = false
    @OptionGroup var pager: PagerOptions

    func validate() throws {
        try SinceDate.check(since)
    }

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            Pager.start(pager, json: json)
            let from = since.flatMap(SinceDate.parse) ?? .min
            var n = 0
            var buffer = ""
            // On a terminal, standard output is the log itself: progress only when it goes elsewhere.
            let progress = Progress("log", total: try city.store.count(), enabled: Console.stderrIsTerminal && isatty(STDOUT_FILENO) == 0)
            defer { progress.finish() }
            try city.store.forEachMerged { e in
                n += 1
                if n % 4096 == 0 { progress.update(n) }
                guard e.time >= from else { return }
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
