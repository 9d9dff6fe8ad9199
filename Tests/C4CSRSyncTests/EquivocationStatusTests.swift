import C4CSRCore
import C4CSRNode
import Foundation
import Testing

/// `status` is a monitoring check: an equivocation raises WARNING while its evidence is
/// news (received within --equivocation-window, default 7 days), then stays listed
/// without holding the check at WARNING for ever (the log is insert-only: the evidence
/// never goes away, and a check that never clears is one nobody reads).
@Suite struct EquivocationStatusTests {
    /// Two entries of `x` at seq 1, received by the city at `dir` at time `receivedAt`.
    func equivocate(_ x: City, into dir: DataDirectory, receivedAt: Int64) throws {
        let key = try signingKey(of: x)
        let receiver = try City.open(dir, signing: false, now: { receivedAt })
        for title in ["left", "right"] {
            let e = try EntryDraft(
                origin: x.id, seq: 1, prev: nil, clock: VectorClock([x.id: 1]), time: 1, kind: .publish,
                payload: PracticeAction.publish(practice(title)).payload
            ).sign(with: key)
            #expect(try receiver.receive([(e.body, e.signature)]).inserted == 1)
        }
    }

    func status(_ dir: DataDirectory, _ extra: [String] = []) throws -> (problems: [String], text: String) {
        let json = try runBinary(["status", "--data-dir", dir.root.path, "--without-daemon", "--json"] + extra)
        let object = try JSONParser.parse(json.stdout)
        let problems = object["problems"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let text = try runBinary(["status", "--data-dir", dir.root.path, "--without-daemon"] + extra)
        return (problems, String(decoding: text.stdout, as: UTF8.self))
    }

    @Test func anEquivocationWarnsWhileItIsNewsThenStaysListed() async throws {
        try await withCities(["aa", "xx"]) { c in
            let (a, x) = (c[0], c[1])
            let day: Int64 = 86_400_000
            try equivocate(x, into: a.directory, receivedAt: City.systemClock() - 10 * day)

            var s = try status(a.directory)
            #expect(!s.problems.contains { $0.contains("signed two entries") }, "\(s.problems)")
            #expect(s.text.contains("equivocation: xx signed two entries at seq 1"), "\(s.text)")
            #expect(s.text.contains("evidence received"), "\(s.text)")
            // A wider window makes the same evidence news again.
            s = try status(a.directory, ["--equivocation-window", "30d"])
            #expect(s.problems.contains { $0.contains("1 city signed two entries at one seq") }, "\(s.problems)")
            let bad = try await runBinary(["status", "--data-dir", a.directory.root.path, "--equivocation-window", "soon"])
            #expect(bad.status == 64 && bad.stderr.contains("--equivocation-window"), "\(bad.stderr)")
        }
    }

    @Test func aFreshEquivocationWarns() async throws {
        try await withCities(["aa", "xx"]) { c in
            let (a, x) = (c[0], c[1])
            try equivocate(x, into: a.directory, receivedAt: City.systemClock() - 60_000)
            let s = try status(a.directory)
            #expect(s.problems.contains { $0.contains("1 city signed two entries at one seq") }, "\(s.problems)")
            #expect(s.text.contains("equivocation: xx signed two entries at seq 1"), "\(s.text)")
        }
    }
}
