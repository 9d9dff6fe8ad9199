import ArgumentParser
import C4CSRCore
import C4CSRNode
import Foundation

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Manage this city's signing key.",
        discussion: """
            A city's first key is the public_key on its peer card. `key rotate` replaces it
            through the log itself (docs/PROTOCOL.md §12): every peer follows, no card is
            edited, and every earlier entry keeps verifying with the key in force when it
            was signed.
            """,
        subcommands: [KeyRotateCommand.self])
}

struct KeyRotateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Replace this city's signing key with a new one, through the log.",
        discussion: """
            Makes a new Ed25519 key and signs a `rotate` entry with the old key, carrying
            the new key and its proof of possession. Once that entry is committed, the new
            key replaces keys/entry-signing.key (the old key is gone from this machine) and
            signs everything after; peers learn it from the log at the next sync. The card
            keeps the founding key: do not edit it.

            For the admin (root or the c4csr user). Interrupted at any point, nothing is
            lost: the next command finishes the swap from what the log says.

            Rotation is not revocation: whoever holds the old key can still sign a fork
            at a position where it was in force, which every city keeps as evidence.

            Example:
              sudo -u c4csr c4csr key rotate
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Sign the rotation as it would be written, and change nothing.")
    var dryRun = false
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try Console.run {
            let city = try global.openCity(signing: true)
            let (entry, key) = try city.rotateKey(dryRun: dryRun)
            if output.json {
                Console.json(.object([
                    "entry": .string(entry.id.hex), "origin": .string(entry.origin.rawValue), "seq": .int(entry.seq),
                    "kind": .string(entry.kind.rawValue), "key": .string(key.base64), "written": .bool(!dryRun),
                ]))
            } else if dryRun {
                Console.out("would rotate \(entry.origin)'s key at seq \(entry.seq) to \(key.base64) (dry run: nothing was written)")
            } else {
                Console.out("rotated \(entry.origin)'s signing key (entry \(entry.origin)#\(entry.seq) \(entry.id.short)); the key in force is now \(key.base64)")
                Console.out("peers learn it at the next sync; the card keeps the founding key")
            }
        }
    }
}
