@testable import C4CSRCore

/// SplitMix64: a small seeded generator, so every random test replays from its seed.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Deterministic signing keys for named test cities.
enum TestKeys {
    static func key(_ city: String) -> CitySigningKey {
        var seed = [UInt8](repeating: 0, count: 32)
        for (i, b) in city.utf8.enumerated() { seed[i % 32] ^= b }
        seed[31] = 0x42
        return CitySigningKey(rawRepresentation: seed)!
    }
    static func verifier(_ cities: [String]) -> EntryVerifier {
        EntryVerifier(keys: Dictionary(uniqueKeysWithValues: cities.map { (CityID($0)!, key($0).publicKey) }))
    }
}

func samplePractice(_ title: String = "Green schoolyards", status: PracticeStatus = .running) -> Practice {
    Practice(
        language: "bg", title: .init(local: "Зелени дворове", en: title),
        summary: .init(local: "Фирми осиновяват училищни дворове.", en: "Firms adopt schoolyards."),
        challenge: "Few green spaces", themes: ["environment"], sdgs: [4, 13], status: status)
}

/// A city in a simulated network: its own log, writing entries the way `City` does.
struct SimCity {
    let id: CityID
    /// The key in force for its next entry (rotated by `rotate`).
    var key: CitySigningKey
    var log = MemoryLog()
    var time: Int64 = 1_764_000_000_000

    init(_ name: String) {
        id = CityID(name)!
        key = TestKeys.key(name)
    }

    /// Signs and appends a local entry with the log's current clock.
    @discardableResult
    mutating func write(_ action: PracticeAction) -> Entry {
        let clock = log.nextClock(for: id)
        let top = log.heads.first { $0.origin == id }
        time += 1000
        let e = try! EntryDraft(origin: id, seq: clock[id], prev: top?.id, clock: clock, time: time, kind: action.kind, payload: action.payload)
            .sign(with: key)
        let plan = log.merge([e])
        precondition(plan.accepted.count == 1, "local write refused: \(plan.refused)")
        return e
    }

    /// Replaces its key with a `rotate` entry (docs/PROTOCOL.md §12), signed by the old key.
    @discardableResult
    mutating func rotate(to newKey: CitySigningKey) -> Entry {
        let clock = log.nextClock(for: id)
        let top = log.heads.first { $0.origin == id }!
        time += 1000
        let payload = Rotation.payload(origin: id, seq: clock[id], prev: top.id, newKey: newKey)
        let e = try! EntryDraft(origin: id, seq: clock[id], prev: top.id, clock: clock, time: time, kind: .rotate, payload: payload)
            .sign(with: key)
        let plan = log.merge([e])
        precondition(plan.accepted.count == 1, "rotation refused: \(plan.refused)")
        key = newKey
        return e
    }

    /// Receives everything `other` holds (a full sync in one direction).
    mutating func pull(from other: SimCity) {
        let plan = log.merge(other.log.entries)
        precondition(plan.refused.isEmpty, "a causally closed log must merge completely: \(plan.refused)")
    }
}

/// A random history: cities writing and syncing at random. Returns the cities.
func randomHistory(seed: UInt64, cities: Int, steps: Int) -> [SimCity] {
    var rng = SeededRNG(seed: seed)
    let names = ["milano", "sofia", "vratsa", "kekava", "rijeka", "guimaraes", "molina", "budaors", "bratislava", "nantes"]
    var net = names.prefix(cities).map(SimCity.init)
    for _ in 0..<steps {
        let a = Int.random(in: 0..<net.count, using: &rng)
        switch Int.random(in: 0..<10, using: &rng) {
        case 0..<5:
            // Publish, or revise/adopt something known.
            let known = net[a].log.entries.filter { $0.kind == .publish }
            if let p = known.randomElement(using: &rng), Bool.random(using: &rng) {
                if p.origin == net[a].id {
                    net[a].write(.revise(practice: p.id, base: [p.id], fields: samplePractice("rev")))
                } else {
                    net[a].write(.adopt(practice: p.id, version: p.id, mode: .adapted, notes: nil))
                }
            } else {
                net[a].write(.publish(samplePractice("p\(Int.random(in: 0..<1000, using: &rng))")))
            }
        default:
            let b = Int.random(in: 0..<net.count, using: &rng)
            if a != b { net[a].pull(from: net[b]) }
        }
    }
    return net
}

extension EntryVerifier {
    /// Decodes and verifies a lone entry with its origin's founding key (tests of one
    /// entry with no rotation in its past; a log goes through `KeysInForce`).
    func verify(body: [UInt8], signature: [UInt8]) throws(EntryError) -> Entry {
        let entry = try Entry.decode(body: body, signature: signature)
        try verify(entry, inForce: .founding)
        return entry
    }
}
