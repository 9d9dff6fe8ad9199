import C4CSRCore
import C4CSRNode
import Foundation
import Testing

@testable import C4CSRStore

/// Sealed fields and their erasure in the store (docs/PROTOCOL.md §14).
@Suite struct ErasureStoreTests {
    static func key(of city: City) throws -> CitySigningKey {
        let text = try String(contentsOf: city.directory.signingKeyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return try #require(Data(base64Encoded: text).flatMap { CitySigningKey(rawRepresentation: Array($0)) })
    }

    static func sign(_ city: City, _ key: CitySigningKey, seq: Int64, prev: Entry?, kind: EntryKind, _ payload: [String: JSONValue]) throws -> Entry {
        try EntryDraft(
            origin: city.id, seq: seq, prev: prev?.id, clock: VectorClock([city.id: seq]), time: 1_764_000_000_000 + seq,
            kind: kind, payload: payload
        ).sign(with: key)
    }

    /// Every file of the store, as bytes: the database and its write-ahead log.
    static func storeBytes(_ city: City) -> [UInt8] {
        let path = city.directory.storeFile.path
        return ["", "-wal"].flatMap { Array(FileManager.default.contents(atPath: path + $0) ?? Data()) }
    }

    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard haystack.count >= n.count else { return false }
        return (0...(haystack.count - n.count)).contains { i in haystack[i] == n[0] && Array(haystack[i..<(i + n.count)]) == n }
    }

    /// Content is checked against its seal, searchable while held; after the publisher's
    /// erasure it is gone from the content table, from search and from every byte of the
    /// store files (database and WAL), it is never stored again, and the log, its audit and
    /// its digest are as they were without it.
    @Test func anErasureLeavesNoTraceInTheStoreFiles() throws {
        try withTemporaryDirectory { root in
            let sofia = try makeCity("sofia", in: root)
            let vratsa = try makeCity("vratsa", in: root, peers: [sofia])
            let milano = try makeCity("milano", in: root, peers: [sofia, vratsa])
            let key = try Self.key(of: sofia)
            let name = "Zdravka Marinova-Kostadinova"
            var p = practice("Sealed contact")
            p.contact = "\(name), +359 88 765 4321"
            p.outcomes = "Forty schools, thanks to \(name)."
            let (sealed, values) = p.sealing([.contact, .outcomes])
            let publish = try Self.sign(sofia, key, seq: 1, prev: nil, kind: .publish, PracticeAction.publish(sealed).payload)
            let inBody = Self.contains(publish.body, name)
            #expect(publish.format == .v2 && !inBody)
            let contents = values.keys.sorted().map { PersonalContent(entry: publish.id, field: $0, salt: values[$0]!.salt, value: values[$0]!.value) }

            // Content before its entry: not stored, nothing changes.
            #expect(try milano.store.storeContent(contents) == [.entryNotHeld, .entryNotHeld])
            #expect(try milano.receive([(publish.body, publish.signature)]).inserted == 1)
            #expect(try vratsa.receive([(publish.body, publish.signature)]).inserted == 1)
            #expect(try milano.store.storeContent(contents) == [.stored, .stored])
            #expect(try milano.store.storeContent(contents) == [.alreadyHeld, .alreadyHeld])
            let forged = PersonalContent(entry: publish.id, field: .contact, salt: PersonalContent.freshSalt(), value: .string("Someone else"))
            guard case .refused(let why)? = try milano.store.storeContent([forged]).first else { Issue.record("forged content stored"); return }
            #expect(why.code == "content_invalid")
            #expect(try milano.store.search("Marinova").map(\.id) == [publish.id])
            #expect(try vratsa.store.search("Marinova").isEmpty, "vratsa holds the entry, not the content")
            #expect(try milano.store.contents(of: [publish.id]) == contents)
            // Another practice's content stays beside it (the pages are not emptied), and
            // everything is folded into store.sqlite: the erased bytes are in the file itself.
            var other = practice("Kept contact")
            other.contact = "Kept Person, +359 2 999 9999"
            other.outcomes = "Kept outcomes of the kept practice."
            let (otherSealed, otherValues) = other.sealing([.contact, .outcomes])
            let otherPublish = try EntryDraft(
                origin: vratsa.id, seq: 1, prev: nil, clock: VectorClock([vratsa.id: 1]), time: 1, kind: .publish,
                payload: PracticeAction.publish(otherSealed).payload
            ).sign(with: try Self.key(of: vratsa))
            #expect(try milano.receive([(otherPublish.body, otherPublish.signature)]).inserted == 1)
            let kept = otherValues.keys.sorted().map { PersonalContent(entry: otherPublish.id, field: $0, salt: otherValues[$0]!.salt, value: otherValues[$0]!.value) }
            #expect(try milano.store.storeContent(kept) == [.stored, .stored])
            #expect(milano.store.checkpointCompletely())
            let file = Array(FileManager.default.contents(atPath: milano.directory.storeFile.path) ?? Data())
            let present = Self.contains(file, name) && Self.contains(file, "kostadinova")
            #expect(present, "the text and its search tokens are in store.sqlite before the erasure (the checks below can fail)")

            // Another city cannot erase sofia's practice: an invalid erasure (reported by
            // audit), nothing deleted.
            let forgedErase = try EntryDraft(
                origin: milano.id, seq: 1, prev: nil, clock: VectorClock([milano.id: 1, sofia.id: 1]), time: 1_764_000_000_100, kind: .erase,
                payload: ErasureRequest(practice: publish.id, fields: [.contact], reason: "Hostile").payload
            ).sign(with: try Self.key(of: milano))
            let budaors = try makeCity("budaors", in: root, peers: [sofia, milano])
            #expect(try budaors.receive([(publish.body, publish.signature), (forgedErase.body, forgedErase.signature)]).inserted == 2)
            #expect(try budaors.store.storeContent(contents) == [.stored, .stored])
            #expect(try budaors.store.contentCount() == 2, "an erasure by another city erases nothing")
            #expect(try budaors.audit().findings.map(\.code).contains("invalid_erasure"))

            // sofia's erasure of both fields.
            let erase = try Self.sign(sofia, key, seq: 2, prev: publish, kind: .erase,
                                      ErasureRequest(practice: publish.id, fields: [.contact, .outcomes], reason: "Request DPO-2026-7").payload)
            #expect(try milano.receive([(erase.body, erase.signature)]).inserted == 1)
            #expect(try vratsa.receive([(erase.body, erase.signature)]).inserted == 1)
            #expect(try milano.store.contentCount() == 2, "the other practice's content stays")
            #expect(try milano.store.search("Kept").map(\.id) == [otherPublish.id])
            #expect(try milano.store.isErased(publish.id, .contact) && milano.store.isErased(publish.id, .outcomes))
            #expect(try milano.store.search("Marinova").isEmpty)
            // The text, and the search index's lower-case tokens of it.
            let leaked = ["Marinova", "765 4321", "kostadinova"].filter { Self.contains(Self.storeBytes(milano), $0) }
            #expect(leaked.isEmpty, "no byte of the erased content remains in store.sqlite or its WAL: \(leaked)")
            // A peer that still holds it cannot bring it back.
            #expect(try milano.store.storeContent(contents) == [.refused(.erased), .refused(.erased)])
            #expect(try milano.store.contentCount() == 2)
            // Nor through a later revision that copied the erased seal instead of sealing anew.
            let copy = try Self.sign(sofia, key, seq: 3, prev: erase, kind: .revise,
                                     PracticeAction.revise(practice: publish.id, base: [publish.id], fields: sealed).payload)
            #expect(try milano.receive([(copy.body, copy.signature)]).inserted == 1)
            let again = contents.map { PersonalContent(entry: copy.id, field: $0.field, salt: $0.salt, value: $0.value) }
            try again.forEach { try $0.check(against: copy) }
            #expect(try milano.store.storeContent(again) == [.refused(.erased), .refused(.erased)])
            #expect(try vratsa.receive([(copy.body, copy.signature)]).inserted == 1)
            // The log is whole (audit clean, every entry as signed), and milano confirmed.
            #expect(try milano.audit().findings.filter { $0.severity == .error }.isEmpty)
            #expect(try milano.store.entry(publish.id)?.body == publish.body)
            #expect(try milano.store.erasures().first?.erasure.confirmedBy == [milano.id, sofia.id])
            let (record, _, _) = try milano.store.practice(publish.id.hex)
            #expect(record.erasures.map(\.entry) == [erase.id] && record.isErased(publish.id, .contact))
        }
    }
}

/// Three cities carry sealed content and an erasure by export and import (the offline
/// path): the content travels with its entries; the erasure reaches every city, which
/// deletes the content and confirms; a stale export cannot bring it back.
@Suite struct ErasureExchangeTests {
    static func export(_ city: City) throws -> [UInt8] {
        var text = ""
        try city.exportJSONL { text += $0 }
        return Array(text.utf8)
    }

    @Test func threeCitiesEraseAndConfirm() throws {
        try withTemporaryDirectory { root in
            let cities = try introduce([makeCity("sofia", in: root), makeCity("milano", in: root), makeCity("vratsa", in: root)])
            let (sofia, milano, vratsa) = (cities[0], cities[1], cities[2])
            let name = "Ivan Dimitrov-Petkanov"
            var p = practice("Schoolyards")
            p.contact = "\(name), ivan@example.bg"
            p.outcomes = "Led by \(name)."
            let publish = try sofia.publish(p, personal: [.outcomes])
            let inBody = ErasureStoreTests.contains(publish.body, name)
            #expect(publish.format == .v2 && !inBody)
            #expect(try sofia.store.contentCount() == 2)
            let before = try Self.export(sofia)
            let carried = ErasureStoreTests.contains(before, name)
            #expect(carried, "the export carries the content")
            for c in [milano, vratsa] {
                let r = try c.importJSONL(before, name: "sofia.jsonl")
                #expect(r.isClean && r.inserted == 1, "\(r.problems)")
                #expect(try c.store.contentCount() == 2)
                #expect(try c.store.search("Petkanov").map(\.id) == [publish.id])
            }
            let (shown, _, _) = try milano.store.practice(publish.id.hex)
            #expect(shown.current.revealing(try milano.store.contents(of: [shown.fieldsEntry])).contact == "\(name), ivan@example.bg")

            // A revision keeps both fields sealed, under fresh salts.
            let revised = try sofia.revise(publish.id.hex) { var q = $0; q.status = .completed; return q }
            let revision = try #require(revised.entry)
            let revisionFields = try #require(revision.payload["fields"])
            #expect(Seal(json: revisionFields["contact"]!) != nil && Seal(json: revisionFields["outcomes"]!) != nil)
            #expect(revisionFields["contact"] != publish.payload["fields"]!["contact"], "a new salt, a new seal")

            let erase = try sofia.erase(publish.id.hex, reason: "Request DPO-2026-3")
            #expect(try ErasureRequest(entry: erase).fields == [.contact, .outcomes])
            #expect(try sofia.store.contentCount() == 0)
            #expect(throws: NodeError.self) { try sofia.erase(publish.id.hex, reason: "again") }
            let after = try Self.export(sofia)
            let exported = ErasureStoreTests.contains(after, name)
            #expect(!exported, "no content in an export after the erasure")
            for c in [milano, vratsa] {
                let r = try c.importJSONL(after, name: "sofia.jsonl")
                #expect(r.isClean, "\(r.problems)")
                #expect(try c.store.contentCount() == 0)
                let leaked = ErasureStoreTests.contains(ErasureStoreTests.storeBytes(c), name)
                #expect(!leaked, "\(c.id) keeps no byte of the erased content")
                #expect(try c.store.search("Petkanov").isEmpty)
            }
            // A stale export (taken before the erasure) cannot bring the content back.
            let stale = try vratsa.importJSONL(before, name: "old.jsonl")
            #expect(stale.erasedContentDropped == 2 && stale.isClean)
            #expect(try vratsa.store.contentCount() == 0)
            // Each city confirmed with an ack; sofia learns of them by import.
            for c in [milano, vratsa] {
                #expect(try sofia.importJSONL(try Self.export(c), name: "\(c.id).jsonl").isClean)
            }
            let erasures = try sofia.store.erasures()
            #expect(erasures.count == 1 && erasures[0].erasure.confirmedBy == [milano.id, sofia.id, vratsa.id])
            #expect(try milano.store.erasuresOwed(by: milano.id).isEmpty)
            for c in [milano, vratsa] { _ = try c.importJSONL(try Self.export(sofia), name: "sofia.jsonl") }
            let digests = try cities.map { try $0.store.summary().digest }
            #expect(Set(digests).count == 1)
            for c in cities { #expect(try c.audit().findings.filter { $0.severity != .warning }.isEmpty) }
        }
    }
}
