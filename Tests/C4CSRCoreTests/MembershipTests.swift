import Foundation
import Testing

@testable import C4CSRCore

/// Membership and recovery (docs/PROTOCOL.md §15): chain ids, the charter, motions, and
/// the verdicts — which recoveries and admissions are valid, what is revoked — as a
/// function of the entries held.
@Suite struct MembershipTests {
    // MARK: Chain ids

    @Test func chainIDsNameAGenerationOfACity() throws {
        for good in ["sofia~2", "sofia~10", "molina-de-segura~999"] {
            let chain = try #require(CityID.chain(good), "\(good)")
            #expect(chain.rawValue == good && chain.generation > 1)
            #expect(CityID.chain(of: chain.city, generation: chain.generation) == chain)
            #expect(CityID(good) == nil, "a city id never has a generation: \(good)")
        }
        let sofia = CityID("sofia")!
        #expect(CityID.chain("sofia") == sofia && sofia.city == sofia && sofia.generation == 1)
        #expect(CityID.chain("sofia~2")!.city == sofia)
        #expect(CityID.chain(of: CityID.chain("sofia~7")!, generation: 1) == sofia)
        for bad in ["sofia~1", "sofia~0", "sofia~02", "sofia~1000", "sofia~", "~2", "Sofia~2", "sofia~2~3", "sofia~-2", "s~2", "sofia~2 "] {
            #expect(CityID.chain(bad) == nil, "\(bad)")
        }
    }

    // MARK: The charter

    /// The network id is the SHA-256 of the charter's canonical JSON (computed by Python's
    /// hashlib from §15's text, not by this code).
    @Test func theNetworkIDIsTheHashOfTheCanonicalCharter() throws {
        let charter = try Charter(name: "Test network", founders: ["sofia", "nantes", "milano"].map { CityID($0)! })
        #expect(String(decoding: charter.canonical, as: UTF8.self) == #"{"format":"c4csr-network/1","founders":["milano","nantes","sofia"],"name":"Test network"}"#)
        #expect(charter.networkID == "ef431e3f02e01fe622944b495ece4657e8c352df931bab3b3e347bef8b977f27")
        let again = try Charter(text: charter.toml)
        #expect(again == charter && again.networkID == charter.networkID)
    }

    @Test(arguments: [
        ("format = \"c4csr-network/1\"\nname = \"N\"\nfounders = []", "founders"),
        ("format = \"c4csr-network/1\"\nname = \"N\"\nfounders = [\"sofia\", \"sofia\"]", "named twice"),
        ("format = \"c4csr-network/1\"\nname = \"N\"\nfounders = [\"Sofia\"]", "founders[0]"),
        ("format = \"c4csr-network/1\"\nname = \"\"\nfounders = [\"sofia\"]", "name"),
        ("format = \"c4csr-network/2\"\nname = \"N\"\nfounders = [\"sofia\"]", "format"),
        ("format = \"c4csr-network/1\"\nname = \"N\"\nfounders = [\"sofia\"]\nextra = 1", "extra"),
        ("name = \"N\"\nfounders = [\"sofia\"]", "format"),
    ])
    func aBadCharterIsRefusedAndSaysWhere(_ text: String, _ mentions: String) {
        #expect(throws: ValidationErrors.self) { try Charter(text: text) }
        do { _ = try Charter(text: text) } catch { #expect("\(error)".contains(mentions), "\(error)") }
    }

    // MARK: Motions and statements

    @Test func motionsReadBackExactlyAndRefuseEveryOtherForm() throws {
        let key = TestKeys.key("new").publicKey
        let id = EntryID.of(body: Array("x".utf8))
        let motions: [Motion] = [
            .admit(city: CityID("rijeka")!, key: key),
            .recover(.init(city: CityID("sofia")!, generation: 2, key: key, lastSeq: 7, lastID: id)),
            .recover(.init(city: CityID("sofia")!, generation: 3, key: key, lastSeq: 0, lastID: nil)),
        ]
        for m in motions { #expect(try Motion(json: m.json) == m) }
        func motion(_ edit: (inout [String: JSONValue]) -> Void) -> JSONValue {
            guard case .object(var o) = motions[1].json else { return .null }
            edit(&o)
            return .object(o)
        }
        let bad: [JSONValue] = [
            motion { $0["generation"] = .int(1) }, motion { $0["generation"] = .int(1000) },
            motion { $0["last"] = .object(["id": .null, "seq": .int(3)]) },
            motion { $0["last"] = .object(["id": .string(id.hex), "seq": .int(0)]) },
            motion { $0["last"] = .object(["id": .string(id.hex.uppercased()), "seq": .int(2)]) },
            motion { $0["key"] = .string(String(key.base64.dropLast())) },
            motion { $0["city"] = .string("sofia~2") }, motion { $0["extra"] = .int(1) },
            motion { $0["action"] = .string("expel") }, .string("recover"),
        ]
        for b in bad { #expect(throws: EntryError.self, "\(b)") { try Motion(json: b) } }
    }

    @Test func aRecoverIsOnlyEverTheFirstEntryOfItsGeneration() throws {
        let r = Motion.Recovery(city: CityID("sofia")!, generation: 2, key: TestKeys.key("new").publicKey, lastSeq: 0, lastID: nil)
        let network = String(repeating: "a", count: 64)
        let payload = MembershipStatement.recover(r).payload(network: network)
        let (statement, named) = try MembershipStatement.decode(kind: "recover", payload: payload, origin: CityID.chain("sofia~2")!, seq: 1)
        #expect(statement == .recover(r) && named == network)
        #expect(throws: EntryError.self) { try MembershipStatement.decode(kind: "recover", payload: payload, origin: CityID.chain("sofia~2")!, seq: 2) }
        #expect(throws: EntryError.self) { try MembershipStatement.decode(kind: "recover", payload: payload, origin: CityID("sofia")!, seq: 1) }
        #expect(throws: EntryError.self) { try MembershipStatement.decode(kind: "recover", payload: payload, origin: CityID.chain("sofia~3")!, seq: 1) }
        var upper = payload
        upper["network"] = .string(network.uppercased())
        #expect(throws: EntryError.self) { try MembershipStatement.decode(kind: "recover", payload: upper, origin: CityID.chain("sofia~2")!, seq: 1) }
        #expect(throws: EntryError.self) { try MembershipStatement.decode(kind: "member", payload: ["action": .string("expel"), "network": .string(network)], origin: CityID("sofia")!, seq: 4) }
        #expect(try MembershipStatement.decode(kind: "member", payload: MembershipStatement.leave.payload(network: network), origin: CityID("sofia")!, seq: 4).statement == .leave)
    }

    // MARK: Verdicts

    /// A small network writing membership entries: each city knows a clock, writes in its
    /// current chain, and learns what another city knows when told to.
    struct Net {
        var founders: [CityID]
        var charter: Charter
        var facts: [MembershipFacts] = []
        var knows: [CityID: VectorClock] = [:]
        var tops: [CityID: MembershipFacts] = [:]
        var current: [CityID: CityID] = [:]
        var counter = 0

        init(_ names: [String]) throws {
            founders = names.map { CityID($0)! }
            charter = try Charter(name: "Test", founders: founders)
            for c in founders { current[c] = c }
        }

        func id(_ name: String) -> CityID { CityID.chain(name)! }

        /// `city` writes the next entry of its current chain (or of `chain`); after `prev`
        /// (a fork), or as the chain's first entry again (`fresh`, a fork at seq 1).
        @discardableResult
        mutating func write(
            _ city: String, _ statement: MembershipStatement? = nil, chain: String? = nil, prev: MembershipFacts? = nil, fresh: Bool = false
        ) -> MembershipFacts {
            let c = CityID(city)!
            let origin = chain.map { CityID.chain($0)! } ?? current[c] ?? c
            let before = fresh ? nil : prev ?? tops[origin]
            let seq = (before?.seq ?? 0) + 1
            var clock = knows[c] ?? VectorClock()
            clock[origin] = seq
            counter += 1
            let f = MembershipFacts(
                id: EntryID.of(body: Array("\(origin)#\(seq)#\(counter)".utf8)), origin: origin, seq: seq, prev: before?.id, clock: clock,
                statement: statement)
            facts.append(f)
            if prev == nil { tops[origin] = f }
            knows[c] = (knows[c] ?? VectorClock()).merged(with: clock)
            return f
        }

        /// `city` learns everything `other` knows.
        mutating func learn(_ city: String, from other: String) {
            let c = CityID(city)!
            knows[c] = (knows[c] ?? VectorClock()).merged(with: knows[CityID(other)!] ?? VectorClock())
        }

        func verdicts(keys: [CityID: CityPublicKey] = [:], only: [MembershipFacts]? = nil) -> MembershipVerdicts {
            var all = keys
            for c in founders where all[c] == nil { all[c] = TestKeys.key(c.rawValue).publicKey }
            return MembershipVerdicts(charter: charter, entries: only ?? facts, foundingKeys: all)
        }
    }

    static let newKey = TestKeys.key("sofia-new").publicKey

    /// Sofia's key is stolen after sofia#3. Milano and Nantes vouch for a new key standing
    /// by sofia#3; Sofia's recover entry opens sofia~2. The thief's sofia#4 and its fork of
    /// sofia#2 are revoked; sofia#1–3 and sofia~2 stand.
    @Test func aRecoveryByAMajorityRevokesWhatTheOldKeyWroteAfterIt() throws {
        var net = try Net(["sofia", "milano", "nantes", "vratsa"])
        let s1 = net.write("sofia"), s2 = net.write("sofia"), s3 = net.write("sofia")
        let forkOf2 = net.write("sofia", chain: "sofia", prev: s1)  // the thief, at sofia#2
        let thief4 = net.write("sofia", chain: "sofia", prev: s3)  // the thief, after sofia#3
        let m = Motion.Recovery(city: CityID("sofia")!, generation: 2, key: Self.newKey, lastSeq: 3, lastID: s3.id)
        for v in ["milano", "nantes"] {
            net.learn(v, from: "sofia")
            net.write(v, .vouch(.recover(m)))
            net.learn("sofia", from: v)
        }
        let recover = net.write("sofia", .recover(m), chain: "sofia~2")
        let after = net.write("sofia", chain: "sofia~2")
        let v = net.verdicts()
        #expect(v.validRecovers[CityID.chain("sofia~2")!]?.map(\.id) == [recover.id], "\(v.invalid)")
        for kept in [s1, s2, s3, recover, after] { #expect(!v.isRevoked(kept), "\(kept.origin)#\(kept.seq)") }
        for revoked in [forkOf2, thief4] { #expect(v.isRevoked(revoked), "\(revoked.origin)#\(revoked.seq)") }
        #expect(v.revoked == [forkOf2.id, thief4.id])
        let tally = v.tally(.recover(m), at: recover)
        #expect(tally.count == 2 && tally.of == 3 && tally.carried && tally.vouchers.map(\.rawValue) == ["milano", "nantes"])
    }

    /// One vouch of three is not a majority: the recover entry is invalid, its chain is
    /// revoked, and the old chain (the thief's too) stands.
    @Test func withoutAMajorityTheNewChainIsRevokedInstead() throws {
        var net = try Net(["sofia", "milano", "nantes", "vratsa"])
        let s1 = net.write("sofia")
        let thief = net.write("sofia")
        let m = Motion.Recovery(city: CityID("sofia")!, generation: 2, key: Self.newKey, lastSeq: 1, lastID: s1.id)
        net.learn("milano", from: "sofia")
        net.write("milano", .vouch(.recover(m)))
        net.learn("sofia", from: "milano")
        let recover = net.write("sofia", .recover(m), chain: "sofia~2")
        let after = net.write("sofia", chain: "sofia~2")
        let v = net.verdicts()
        #expect(v.invalid[recover.id]?.contains("1 of 3") == true, "\(v.invalid)")
        #expect(v.isRevoked(recover) && v.isRevoked(after))
        #expect(!v.isRevoked(thief) && !v.isRevoked(s1))
        #expect(v.revoked == [recover.id, after.id])
    }

    /// A member that vouched for two keys for one recovery counts for neither; a vouch the
    /// recover entry's clock does not cover is not in its past and does not count.
    @Test func aDoubleVouchAndAVouchOutsideThePastDoNotCount() throws {
        var net = try Net(["sofia", "milano", "nantes", "vratsa"])
        let s1 = net.write("sofia")
        let m = Motion.Recovery(city: CityID("sofia")!, generation: 2, key: Self.newKey, lastSeq: 1, lastID: s1.id)
        let other = Motion.Recovery(city: CityID("sofia")!, generation: 2, key: TestKeys.key("thief").publicKey, lastSeq: 1, lastID: s1.id)
        net.learn("milano", from: "sofia")
        net.write("milano", .vouch(.recover(m)))
        net.write("milano", .vouch(.recover(other)))
        net.learn("nantes", from: "sofia")
        net.write("nantes", .vouch(.recover(m)))
        net.learn("sofia", from: "milano")
        net.learn("sofia", from: "nantes")
        net.learn("vratsa", from: "sofia")
        let late = net.write("vratsa", .vouch(.recover(m)))  // after the recover entry below
        let recover = net.write("sofia", .recover(m), chain: "sofia~2")
        #expect(!recover.hasInPast(late))
        let v = net.verdicts()
        #expect(v.tally(.recover(m), at: recover).vouchers.map(\.rawValue) == ["nantes"])
        #expect(v.invalid[recover.id] != nil)
    }

    /// Rijeka is admitted by a majority of the founders and joins; from then on it is a
    /// member: a later recovery of Sofia needs more than half of four, not of three.
    @Test func anAdmittedCityCountsInLaterQuorums() throws {
        var net = try Net(["sofia", "milano", "nantes", "vratsa"])
        let rijekaKey = TestKeys.key("rijeka").publicKey
        let admit = Motion.admit(city: CityID("rijeka")!, key: rijekaKey)
        for v in ["milano", "nantes", "vratsa"] {
            net.write(v, .vouch(admit))
            net.learn("rijeka", from: v)
        }
        let join = net.write("rijeka", .join)
        let keys = [CityID("rijeka")!: rijekaKey]
        var v = net.verdicts(keys: keys)
        #expect(v.validMembership.map(\.id) == [join.id], "\(v.invalid)")
        #expect(v.members(at: join) == Set(["sofia", "milano", "nantes", "vratsa", "rijeka"].map { CityID($0)! }))

        // Sofia's recovery: milano and nantes vouch, having seen rijeka join. Two of four
        // members (rijeka, milano, nantes, vratsa) is not more than half.
        let s1 = net.write("sofia")
        let m = Motion.Recovery(city: CityID("sofia")!, generation: 2, key: Self.newKey, lastSeq: 1, lastID: s1.id)
        for voter in ["milano", "nantes"] {
            net.learn(voter, from: "rijeka")
            net.learn(voter, from: "sofia")
            net.write(voter, .vouch(.recover(m)))
            net.learn("sofia", from: voter)
        }
        let tooFew = net.write("sofia", .recover(m), chain: "sofia~2")
        v = net.verdicts(keys: keys)
        #expect(v.tally(.recover(m), at: tooFew).of == 4 && v.invalid[tooFew.id] != nil)
        // Rijeka vouches too: three of four.
        net.learn("rijeka", from: "sofia")
        net.write("rijeka", .vouch(.recover(m)))
        net.learn("sofia", from: "rijeka")
        let enough = net.write("sofia", .recover(m), chain: "sofia~2", fresh: true)
        v = net.verdicts(keys: keys)
        #expect(v.validRecovers[CityID.chain("sofia~2")!]?.map(\.id) == [enough.id], "\(v.invalid)")
    }

    @Test func anAdmissionNeedsItsQuorumAndTheCitysOwnKey() throws {
        var net = try Net(["sofia", "milano", "nantes"])
        let admitWrongKey = Motion.admit(city: CityID("rijeka")!, key: TestKeys.key("someone").publicKey)
        for v in ["sofia", "milano", "nantes"] {
            net.write(v, .vouch(admitWrongKey))
            net.learn("rijeka", from: v)
        }
        let join = net.write("rijeka", .join)
        let v = net.verdicts(keys: [CityID("rijeka")!: TestKeys.key("rijeka").publicKey])
        #expect(v.invalid[join.id] != nil && v.validMembership.isEmpty)
        #expect(!v.members(at: join).contains(CityID("rijeka")!))
    }

    /// A founder that leaves no longer counts: two founders left of four, one vouch of
    /// the remaining two is not more than half, two are.
    @Test func aCityThatLeftNoLongerCounts() throws {
        var net = try Net(["sofia", "milano", "nantes", "vratsa"])
        let leave = net.write("vratsa", .leave)
        net.learn("sofia", from: "vratsa")
        let s1 = net.write("sofia")
        let m = Motion.Recovery(city: CityID("sofia")!, generation: 2, key: Self.newKey, lastSeq: 1, lastID: s1.id)
        net.learn("milano", from: "sofia")
        net.write("milano", .vouch(.recover(m)))
        net.learn("sofia", from: "milano")
        let recover = net.write("sofia", .recover(m), chain: "sofia~2")
        let v = net.verdicts()
        #expect(v.validMembership.map(\.id) == [leave.id])
        #expect(v.tally(.recover(m), at: recover).of == 2 && v.invalid[recover.id] != nil, "one of milano and nantes")
        let leaveAgain = net.write("vratsa", .leave)
        #expect(net.verdicts().invalid[leaveAgain.id] != nil, "a city that left cannot leave again")
    }

    /// A thief holding Milano's key vouches with it after Milano's recovery: at an entry
    /// whose past holds that recovery, the thief's vouch is revoked and does not count.
    @Test func aRevokedVouchDoesNotCount() throws {
        var net = try Net(["sofia", "milano", "nantes", "vratsa"])
        let m1 = net.write("milano")
        let milanoRecovery = Motion.Recovery(city: CityID("milano")!, generation: 2, key: TestKeys.key("milano-new").publicKey, lastSeq: 1, lastID: m1.id)
        for v in ["sofia", "nantes"] {
            net.learn(v, from: "milano")
            net.write(v, .vouch(.recover(milanoRecovery)))
            net.learn("milano", from: v)
        }
        net.write("milano", .recover(milanoRecovery), chain: "milano~2")
        // The thief, with Milano's old key, vouches for a recovery of Vratsa.
        let v1 = net.write("vratsa")
        let vratsaRecovery = Motion.Recovery(city: CityID("vratsa")!, generation: 2, key: TestKeys.key("vratsa-new").publicKey, lastSeq: 1, lastID: v1.id)
        net.learn("milano", from: "vratsa")
        let thiefVouch = net.write("milano", .vouch(.recover(vratsaRecovery)), chain: "milano")
        net.learn("sofia", from: "milano")
        net.write("sofia", .vouch(.recover(vratsaRecovery)))
        net.learn("vratsa", from: "sofia")
        let recover = net.write("vratsa", .recover(vratsaRecovery), chain: "vratsa~2")
        let v = net.verdicts()
        #expect(v.isRevoked(thiefVouch))
        #expect(v.tally(.recover(vratsaRecovery), at: recover).vouchers.map(\.rawValue) == ["sofia"])
        #expect(v.invalid[recover.id] != nil)
    }

    /// Over random histories (vouches, recoveries, joins, leaves, thieves writing in old
    /// chains, cities learning from each other): the verdicts do not depend on the order
    /// the entries are given in, and the verdict on each membership or recover entry is the
    /// one reached from its past alone.
    /// A random history: vouches, recovery campaigns, joins, leaves, thieves writing in
    /// old chains, cities learning from each other.
    static func randomHistory(seed: UInt64) throws -> (net: Net, keys: [CityID: CityPublicKey], rng: SeededRNG) {
        var rng = SeededRNG(seed: seed)
        let names = ["aa", "bb", "cc", "dd", "ee"]
        var net = try Net(Array(names.prefix(Int.random(in: 3...5, using: &rng))))
        let all = names + ["ff"]
        var keys = [CityID("ff")!: TestKeys.key("ff").publicKey]
        for c in net.founders { keys[c] = TestKeys.key(c.rawValue).publicKey }
        var motions = [Motion.admit(city: CityID("ff")!, key: keys[CityID("ff")!]!)]
        for _ in 0..<80 {
            let city = all.randomElement(using: &rng)!
            let c = CityID(city)!
            switch Int.random(in: 0..<11, using: &rng) {
            case 0, 1:
                net.learn(city, from: all.randomElement(using: &rng)!)
            case 10:
                // A campaign: the city moves its own recovery, most others vouch for it
                // (each after learning what the city knows), and the city enacts it.
                let chain = net.current[c] ?? c
                guard chain.generation < 5, net.tops[CityID.chain(of: c, generation: chain.generation + 1)] == nil else { break }
                let top = net.tops[chain]
                let r = Motion.Recovery(
                    city: c, generation: chain.generation + 1, key: TestKeys.key("\(c)-campaign-\(motions.count)").publicKey,
                    lastSeq: top?.seq ?? 0, lastID: top?.id)
                motions.append(.recover(r))
                for other in all where other != city && Int.random(in: 0..<10, using: &rng) < 7 {
                    net.learn(other, from: city)
                    net.write(other, .vouch(.recover(r)))
                    net.learn(city, from: other)
                }
                net.write(city, .recover(r), chain: r.newChain.rawValue)
                net.current[c] = r.newChain
            case 2:
                net.write(city)
            case 3:
                // A thief writes in the city's first chain, wherever its top is.
                net.write(city, chain: city)
            case 4 where motions.count < 4:
                // A recovery motion for some city, standing by its current chain's top.
                let subject = CityID(all.randomElement(using: &rng)!)!
                let chain = net.current[subject] ?? subject
                let top = net.tops[chain]
                motions.append(.recover(.init(
                    city: subject, generation: chain.generation + 1, key: TestKeys.key("\(subject)-\(motions.count)").publicKey,
                    lastSeq: top?.seq ?? 0, lastID: top?.id)))
            case 5, 6:
                net.write(city, .vouch(motions.randomElement(using: &rng)!))
            case 7:
                // The city enacts a recovery of itself, if one was moved.
                if case .recover(let r)? = motions.filter({ $0.subject == c }).randomElement(using: &rng), net.tops[r.newChain] == nil {
                    for other in all where Bool.random(using: &rng) { net.learn(city, from: other) }  // gathering vouches
                    net.write(city, .recover(r), chain: r.newChain.rawValue)
                    if Bool.random(using: &rng) { net.current[c] = r.newChain }
                }
            case 8:
                net.write(city, .join)
            default:
                net.write(city, .leave)
            }
        }
        return (net, keys, rng)
    }

    /// Over random histories: the verdicts do not depend on the order the entries are given
    /// in, and the verdict on each membership or recover entry is the one reached from its
    /// past alone.
    @Test(arguments: 0..<40)
    func verdictsAreAFunctionOfThePast(_ seed: UInt64) throws {
        let (net, keys, generator) = try Self.randomHistory(seed: seed)
        var rng = generator
        let full = net.verdicts(keys: keys)
        var shuffled = net.facts
        shuffled.shuffle(using: &rng)
        let again = MembershipVerdicts(charter: net.charter, entries: shuffled, foundingKeys: keys)
        #expect(Set(full.validMembership.map(\.id)) == Set(again.validMembership.map(\.id)))
        #expect(full.validRecovers.mapValues { Set($0.map(\.id)) } == again.validRecovers.mapValues { Set($0.map(\.id)) })
        #expect(full.invalid == again.invalid)
        #expect(net.facts.filter { full.isRevoked($0) }.map(\.id) == net.facts.filter { again.isRevoked($0) }.map(\.id))
        // The one-pass set is what `isRevoked` says of each entry.
        #expect(full.revoked == Set(net.facts.filter { full.isRevoked($0) }.map(\.id)), "seed \(seed)")
        #expect(again.revoked == full.revoked, "seed \(seed)")
        // Each enacting entry's verdict from its past alone.
        for e in net.facts where e.statement != nil {
            if case .vouch? = e.statement { continue }
            let past = net.facts.filter { e.hasInPast($0) }
            let alone = MembershipVerdicts(charter: net.charter, entries: past, foundingKeys: keys)
            #expect((alone.invalid[e.id] == nil) == (full.invalid[e.id] == nil), "seed \(seed): \(e.origin)#\(e.seq)")
        }
    }

    /// The random histories reach every kind of verdict (a generator that never produced a
    /// valid recovery would make the property above say little).
    @Test func randomHistoriesReachEveryVerdict() throws {
        var recovers = 0, membership = 0, invalid = 0, revoked = 0
        for seed in UInt64(0)..<40 {
            let (net, keys, _) = try Self.randomHistory(seed: seed)
            let v = net.verdicts(keys: keys)
            recovers += v.validRecovers.values.map(\.count).reduce(0, +)
            membership += v.validMembership.count
            invalid += v.invalid.count
            revoked += net.facts.filter { v.isRevoked($0) }.count
        }
        #expect(recovers >= 40 && membership >= 40 && invalid >= 200 && revoked >= 200, "\(recovers) \(membership) \(invalid) \(revoked)")
    }
}
