import ArgumentParser
import C4CSRCore
import C4CSRNode
import C4CSRStore
import Foundation

struct EraseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase personal data of one of this city's practices, on every node.",
        discussion: """
            For a request under GDPR Art. 17. Signs an erase entry naming the practice and
            the personal fields (by default every one: summary, challenge, outcomes, area,
            contact). This node deletes their content at once — from the store, the search
            index, free pages and the write-ahead log — and so does every node that receives
            the entry; each other city then confirms with an ack entry (`c4csr status`).
            Every signature and the network digest stay valid: the log holds only salted
            commitments to these fields (docs/PROTOCOL.md §14, docs/PRIVACY.md).

            Only sealed fields can be erased: the contact is always sealed, other fields
            when the officer marked them (`add --personal FIELD`). Text signed in clear, by
            c4csr before version 2, cannot be erased. The reason is published in the log:
            give a reference to the request, never the personal data itself. Only the
            publishing city may erase.

            Example:
              c4csr erase 3f2a9c --field contact --reason 'Request DPO-2026-14'
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The practice id (6 or more leading hex digits).", valueName: "practice"))
    var practiceID: String
    @Option(name: .customLong("field"), help: ArgumentHelp(
        "A personal field to erase: summary, challenge, outcomes, area or contact (repeatable; default: every one).", valueName: "name"))
    var fields: [String] = []
    @Option(help: "A reference to the request (published in the log: no personal data).")
    var reason: String
    @Flag(help: "Show the entry that would be signed; write nothing.")
    var dryRun = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        for name in fields where PersonalField(rawValue: name) == nil {
            throw ValidationError("--field \(name): not a personal field (summary, challenge, outcomes, area or contact)")
        }
        if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("--reason must not be empty: give a reference to the request") }
    }

    func run() async throws {
        try Console.run {
            let chosen = Set(fields.compactMap(PersonalField.init(rawValue:)))
            let city = try global.openCity(signing: true)
            let entry = try ValidationErrors.naming(flags: ["payload.reason": "--reason"]) {
                try city.erase(practiceID, fields: chosen, reason: reason.trimmingCharacters(in: .whitespacesAndNewlines), dryRun: dryRun)
            }
            if dryRun {
                reportDryRun("erase", entry, json: output.json)
                return
            }
            let request = try ErasureRequest(entry: entry)
            if output.json {
                Console.json(.object([
                    "practice": .string(request.practice.hex), "entry": .string(entry.id.hex), "origin": .string(entry.origin.rawValue),
                    "seq": .int(entry.seq), "kind": .string("erase"), "fields": .array(request.fields.map { .string($0.rawValue) }),
                    "written": .bool(true),
                ]))
            } else {
                Console.out("erased \(request.fields.map(\.rawValue).joined(separator: ", ")) of practice \(request.practice.short) (entry \(entry.origin)#\(entry.seq) \(entry.id.short))")
                Console.out("every node deletes it when the entry reaches it, and confirms; `c4csr status` lists who has")
            }
        }
    }
}
