import Testing
@testable import C4CSRCore

@Suite struct TOMLTests {
    @Test func readsTheSubsetC4CSRUses() throws {
        let doc = try TOMLParser.parse("""
            # a practice
            language = "bg"
            sdgs = [4, 13,]   # trailing comma
            themes = [
              "environment",  # comment inside
              'education',
            ]
            period = { start = "2024-03", end = "2025" }

            [title]
            local = "Зелени \\"дворове\\""
            en = 'Green C:\\path'

            [summary]
            local = \"\"\"
            Line one
            line two\"\"\"
            en = "x"

            [[links]]
            url = "https://a"
            [[links]]
            url = "https://b"
            """)
        let v = doc.value
        #expect(v["language"] == .string("bg"))
        #expect(v["sdgs"] == .array([.int(4), .int(13)]))
        #expect(v["themes"] == .array([.string("environment"), .string("education")]))
        #expect(v["period"]?["end"] == .string("2025"))
        #expect(v["title"]?["local"] == .string("Зелени \"дворове\""))
        #expect(v["title"]?["en"] == .string("Green C:\\path"))
        #expect(v["summary"]?["local"] == .string("Line one\nline two"))
        #expect(v["links"]?.arrayValue?.count == 2)
        #expect(doc.line(of: "title.en") == 12)
        #expect(doc.line(of: "sdgs") == 3)
    }

    @Test(arguments: [
        ("a = 1\na = 2", 2, "defined twice"),
        ("a = 1.5", 1, "only integers"),
        ("d = 2024-01-01", 1, "dates"),
        ("a = \"x", 1, "unterminated"),
        ("[t]\nx=1\n[t]", 3, "defined twice"),
        ("a = 1 b = 2", 1, "unexpected text"),
        ("= 1", 1, "expected a key"),
        ("a = [1, 2", 1, "unterminated array"),
        ("a = 99999999999999999999", 1, "invalid integer"),
    ])
    func errorsNameTheLine(_ text: String, _ line: Int, _ message: String) {
        do {
            _ = try TOMLParser.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    /// An observer's card: `role = "observer"`, a pin and never a key; a member's card
    /// says nothing of its role, so nodes that predate roles read it as before.
    @Test func observerCardsCarryTheirRoleAndNoKey() throws {
        let observer = PeerCard(
            city: CityID("urbact")!, name: "URBACT", localName: "URBACT", country: "FR", language: "en",
            tlsPin: "sha256//" + String(repeating: "A", count: 43) + "=", role: .observer)
        #expect(try PeerCard.parse(observer.toml) == observer)
        #expect(try PeerCard.parse(CanonicalJSON.string(observer.json)) == observer)
        #expect(observer.toml.contains("role = \"observer\"") && !observer.isSyncable)
        let member = PeerCard(city: CityID("sofia")!, name: "Sofia", localName: "София", country: "BG", language: "bg", publicKey: TestKeys.key("sofia").publicKey)
        #expect(member.json["role"] == nil && !member.toml.contains("role"))
        #expect(try PeerCard.parse(member.toml + "role = \"member\"\n").role == .member)
        let keyed = "city = \"urbact\"\nname = \"U\"\ncountry = \"FR\"\nlanguage = \"en\"\nrole = \"observer\"\npublic_key = \"\(member.publicKey!.base64)\"\n"
        #expect(throws: ValidationErrors.self) { try PeerCard.parse(keyed) }
        do { _ = try PeerCard.parse(keyed) } catch { #expect(error.description.contains("an observer's card carries no public_key"), "\(error)") }
        do {
            _ = try PeerCard.parse("city = \"urbact\"\nname = \"U\"\ncountry = \"FR\"\nlanguage = \"en\"\nrole = \"auditor\"\n")
            Issue.record("an unknown role was accepted")
        } catch {
            #expect(error.description.contains("line 5: role"), "\(error)")
        }
    }

    /// A key file read by mistake as TOML (a card, a practice file) fails without any of
    /// its text in the error: before, "expected '=' after key \"0hNZeQaJ…\"" printed 34 of
    /// the seed's 44 base64 characters.
    @Test func errorsNeverQuoteTheDocument() {
        let secrets = [
            "0hNZeQaJOai429WWt0CnI21H2gc7WUUacf/BxVys4Yw=\n", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ=\n",
            "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n",
            "seed = 0hNZeQaJ1e5\n", "seed = 2024-0hNZeQaJ\n", "seed = 12345678901234567890123\n",
        ]
        for text in secrets {
            do {
                _ = try TOMLParser.parse(text)
                Issue.record("parsed: \(text)")
            } catch {
                let message = error.description
                let windows = (0...max(0, text.count - 6)).map { String(Array(text)[$0..<min(text.count, $0 + 6)]) }
                let leaked = windows.filter { !$0.contains(" ") && !$0.contains("\n") && message.contains($0) }
                #expect(leaked.isEmpty, "\(message) quotes \(leaked)")
            }
        }
    }

    @Test func peerCardRoundTripsAndNamesBadKeys() throws {
        let key = TestKeys.key("sofia").publicKey
        let card = PeerCard(city: CityID("sofia")!, name: "Sofia", localName: "София", country: "BG", language: "bg", publicKey: key)
        #expect(try PeerCard.parse(card.toml) == card)
        #expect(try PeerCard.parse(CanonicalJSON.string(card.json)) == card)
        do {
            _ = try PeerCard.parse("city = \"Sofia!\"\nname = \"S\"\ncountry = \"Bulgaria\"\nlanguage = \"bg\"\npublic_key = \"abc\"\n")
            Issue.record("bad card accepted")
        } catch {
            let text = error.description
            #expect(text.contains("line 1: city"))
            #expect(text.contains("line 3: country"))
            #expect(text.contains("line 5: public_key"))
        }
    }
}
