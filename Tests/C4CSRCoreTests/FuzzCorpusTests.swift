import C4CSRCore
import Foundation
import Testing

/// Replays every input of the fuzzers' committed corpus (Fuzz/Corpus) through the same
/// checks as the libFuzzer targets of Fuzz/, so that an input that once crashed stays
/// covered by `swift test`. (scripts/fuzz.sh runs the fuzzers themselves.)
@Suite struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus")

    static func inputs(_ target: String) -> [URL] {
        let dir = corpus.appendingPathComponent(target)
        return ((try? FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)) ?? [])
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test func entryCorpus() throws {
        let inputs = Self.inputs("entry")
        #expect(inputs.count >= 4)
        var decoded = 0
        for url in inputs {
            let bytes = Array(try Data(contentsOf: url))
            if let entry = try? Entry.decode(body: bytes, signature: [UInt8](repeating: 0, count: 64)) {
                decoded += 1
                var log = MemoryLog()
                _ = log.merge([entry, entry])
                _ = try? PracticeAction(entry: entry)
            }
            if let value = try? JSONParser.parse(bytes, limits: JSONLimits(maxDepth: 12, maxBytes: 1 << 20)) {
                #expect(CanonicalJSON.isCanonical(bytes) == (CanonicalJSON.encode(value) == bytes), "\(url.lastPathComponent)")
            }
        }
        #expect(decoded >= 3, "the seeds include valid entries")
    }

    @Test func cardCorpus() throws {
        var parsed = 0
        for url in Self.inputs("card") {
            let bytes = Array(try Data(contentsOf: url))
            _ = try? TOMLParser.parse(bytes)
            if let text = String(validating: bytes, as: UTF8.self), let card = try? PeerCard.parse(text) {
                parsed += 1
                #expect(try PeerCard.parse(card.toml) == card, "\(url.lastPathComponent)")
            }
        }
        #expect(parsed >= 10)
    }

    @Test func syncCorpus() throws {
        var decoded = 0
        for url in Self.inputs("sync") {
            let bytes = Array(try Data(contentsOf: url))
            if let (entries, more) = try? EntryStream.decode(bytes) {
                decoded += 1
                #expect(EntryStream.encode(entries, more: more) == bytes)
            }
            if let h = try? PeerHeads.decode(bytes) {
                decoded += 1
                #expect(try PeerHeads.decode(h.encoded) == h)
                #expect(HeadsComparison(local: h, remote: h).digestsAgree)
            }
            if let p = try? PullRequest.decode(bytes) { decoded += 1; #expect(try PullRequest.decode(p.encoded) == p) }
            if let i = try? IDsRequest.decode(bytes) { decoded += 1; #expect(try IDsRequest.decode(i.encoded) == i) }
            if let f = try? ForkList.decode(bytes) { decoded += 1; #expect(try ForkList.decode(f.encoded) == f) }
            if (try? PushResult.decode(bytes)) != nil { decoded += 1 }
            _ = APIErrorBody.decode(bytes)
        }
        #expect(decoded >= 7)
    }
}
