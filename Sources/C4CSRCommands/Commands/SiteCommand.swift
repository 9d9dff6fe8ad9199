import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRPortal
import Foundation

struct SiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site",
        abstract: "Write the read-only portal as static HTML files for the city's own web server.",
        discussion: """
            The pages the daemon's portal serves (web.listen), from this node's store:
            the network overview, the practices page by page, and one page per practice
            with both languages, its versions, a conflict side by side and its adoptions.
            Links are relative, so the directory can be served from anywhere. The filters
            and the full-text search need the daemon's portal; the static list is the
            whole list.

            The site is written to OUTDIR.tmp and then put in OUTDIR's place, so a web
            server never serves half of it. OUTDIR must be new, empty, or a site written
            here before (it holds a .c4csr-site file); any other directory is refused and
            left untouched.

            Examples:
              c4csr site /var/www/practices
              c4csr site public --json | jq .files
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The directory to write.", valueName: "outdir"))
    var outdir: String
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let city = try global.openCity()
            let started = Date()
            let showProgress = !output.json && Console.stderrIsTerminal
            var last = Date.distantPast
            let report = try StaticSite.write(Portal(city: city), to: outdir) { done, total in
                guard showProgress, Date().timeIntervalSince(last) > 0.5 || done == total else { return }
                last = Date()
                FileHandle.standardError.write(Data("\rc4csr: \(done) of \(total) practice pages".utf8))
                if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
            }
            let seconds = Date().timeIntervalSince(started)
            let path = URL(fileURLWithPath: outdir).standardizedFileURL.path
            if output.json {
                Console.json(.object([
                    "directory": .string(path), "files": .int(Int64(report.files)), "practices": .int(Int64(report.practices)),
                    "bytes": .int(Int64(report.bytes)), "milliseconds": .int(Int64(seconds * 1000)),
                ]))
            } else {
                Console.out("wrote \(Format.plural(report.files, "file")) (\(Format.plural(report.practices, "practice page")), \(Format.bytes(report.bytes))) to \(path) in \(String(format: "%.1f", seconds)) s")
            }
        }
    }
}
