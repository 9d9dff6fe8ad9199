import C4CSRCore
import C4CSRStore
import Foundation

/// How a city talks to one peer: the five operations of the sync API
/// (docs/PROTOCOL.md §10). The HTTPS implementation lives in `C4CSRCurl`; tests and
/// simulations use an in-memory one that calls the peer's `SyncResponder` directly.
///
/// Errors thrown should describe themselves as one sentence (`CustomStringConvertible`):
/// they reach the log and `c4csr status` as they are.
public protocol PeerTransport: Sendable {
    func heads() async throws -> PeerHeads
    func pull(_ request: PullRequest) async throws -> (entries: [SignedEntry], more: Bool)
    func push(_ entries: [SignedEntry]) async throws -> PushResult
    func forks() async throws -> ForkList
    func entries(_ request: IDsRequest) async throws -> [SignedEntry]
    /// The contents (§14) the peer holds for these entries.
    func content(_ request: ContentRequest) async throws -> [PersonalContent]
    func pushContent(_ content: [PersonalContent]) async throws -> ContentPushResult
}

extension City {
    /// This node's heads, digest and counts, as a peer would see them.
    public func localHeads() throws -> PeerHeads {
        let s = try store.summary()
        return PeerHeads(city: id, heads: s.heads, digest: s.digest.hex, entries: Int64(s.entries), forks: Int64(s.forks.count))
    }
}

/// The server side of the sync API, over a city's store: what each endpoint does,
/// without HTTP. The HTTPS server and the in-memory transport both call it, so a
/// pushed entry takes exactly the path of an imported one (`City.receive`).
public struct SyncResponder: Sendable {
    public let city: City

    public init(city: City) { self.city = city }

    public func heads() throws -> PeerHeads { try city.localHeads() }

    public func pull(_ request: PullRequest) throws -> (entries: [SignedEntry], more: Bool) {
        try city.store.lacking(request.have, limit: request.limit, maxBytes: request.maxBytes)
    }

    /// Verifies and merges what a peer offers, in one transaction.
    /// - Returns: counts, each refused entry with a stable code, and the heads after.
    public func push(_ entries: [SignedEntry]) throws -> PushResult {
        let report = try city.receive(entries.map { ($0.body, $0.signature) })
        // Their content follows in its own request, if the pusher holds it yet (§10).
        city.awaitContent(report.outcome.inserted.filter(SyncRound.seals).map(\.id))
        var refused = report.invalid.map { PushResult.Refusal(index: $0.index, code: $0.error.codeName, message: $0.error.message) }
        if !report.outcome.refused.isEmpty {
            var index = [EntryID: Int]()
            for (i, e) in entries.enumerated() { index[EntryID.of(body: e.body)] = i }
            for (entry, reason) in report.outcome.refused {
                refused.append(PushResult.Refusal(index: index[entry.id] ?? -1, code: reason.code, message: "\(entry): \(reason)"))
            }
        }
        refused.sort { $0.index < $1.index }
        return PushResult(
            inserted: report.inserted, duplicates: report.outcome.duplicates, forks: report.outcome.forks.count,
            refused: refused, heads: try city.localHeads())
    }

    public func forks() throws -> ForkList { ForkList(entries: try city.store.forks()) }

    public func entries(_ request: IDsRequest) throws -> [SignedEntry] { try city.store.entries(ids: request.ids) }

    /// The contents held for the entries asked for, within the answer's bounds (§10).
    public func content(_ request: ContentRequest) throws -> ContentList {
        ContentList(content: try city.store.contents(
            of: request.entries, maxItems: ProtocolLimits.maxContentAnswer, maxBytes: ProtocolLimits.maxContentBytes))
    }

    /// Stores what a peer offers as an import stores an export line's content: each
    /// checked against its seal and the erasures held, in one transaction.
    public func pushContent(_ list: ContentList) throws -> ContentPushResult {
        var (stored, held, refused) = (0, 0, [PushResult.Refusal]())
        for (i, (c, outcome)) in zip(list.content, try city.store.storeContent(list.content)).enumerated() {
            switch outcome {
            case .stored: stored += 1
            case .alreadyHeld: held += 1
            case .entryNotHeld:
                refused.append(.init(index: i, code: "entry_not_held", message: "the entry \(c.entry.short) is not in this log; push it first"))
            case .refused(let why):
                refused.append(.init(index: i, code: why.code, message: "the \(c.field.rawValue) of \(c.entry.short): \(why)"))
            }
        }
        return ContentPushResult(stored: stored, held: held, refused: refused)
    }
}

/// How a sync round is going, for a progress display.
public struct SyncProgress: Sendable {
    public enum Phase: String, Sendable { case heads, pulling, pushing, forks }
    public let peer: CityID
    public let phase: Phase
    /// Entries moved so far in this phase, and the estimate from the heads.
    public let done: Int64
    public let total: Int64
}

/// What one round with one peer did.
public struct RoundReport: Sendable {
    public let peer: CityID
    /// The peer's heads as last seen (after our push, if any).
    public var remote: PeerHeads?
    /// Entries we merged from the peer, and entries the peer merged from us.
    public var received = 0
    public var sent = 0
    /// Entries (and contents) from the peer we did not store, with why (bad signature,
    /// broken chain…): the first `keptRefusals`; `refusedFromPeerByCode` counts them all.
    public private(set) var refusedFromPeer: [String] = []
    /// Every refusal of what the peer sent, by its code (`bad_signature`, `content_invalid`…).
    public private(set) var refusedFromPeerByCode: [String: Int] = [:]
    /// Entries (and contents) the peer did not store from us: the first `keptRefusals`.
    public private(set) var refusedByPeer: [String] = []
    /// How many refusals a report keeps as sentences: a hostile peer sending thousands of
    /// bad entries makes a count grow, not a list.
    public static let keptRefusals = 20

    /// We did not store something the peer sent: `code` is its stable code.
    public mutating func refuseFromPeer(code: String, _ sentence: String) {
        refusedFromPeerByCode[code, default: 0] += 1
        if refusedFromPeer.count < Self.keptRefusals { refusedFromPeer.append(sentence) }
    }

    /// The peer did not store these of ours.
    public mutating func peerRefused(_ sentences: some Sequence<String>) {
        refusedByPeer += sentences.prefix(Self.keptRefusals - refusedByPeer.count)
    }

    /// How many things from the peer were refused in all.
    public var refusedFromPeerCount: Int { refusedFromPeerByCode.values.reduce(0, +) }
    /// After the round: who lacks how much, and whether digests agree.
    public var comparison: HeadsComparison?
    /// Requests made, and the round's failure as one sentence (`nil`: the round completed).
    public var requests = 0
    public var error: String?
    /// What kind of failure `error` is, when the transport says (`pin_mismatch`, `timeout`…).
    public var errorKind: String?
    /// This round lifted the restore mark: it was the last of the peers to confirm.
    public var confirmedRestore = false
    /// Contents of sealed fields (§14) stored from the peer, and stored by the peer from us.
    public var contentReceived = 0
    public var contentSent = 0
    /// Why the content part of the round stopped, if it did (the entries' part stands: a
    /// peer that does not serve content yet does not fail the round).
    public var contentError: String?

    public init(peer: CityID) { self.peer = peer }

    /// Records the round's failure: its sentence, and its kind if the error has one.
    public mutating func fail(_ error: any Error) {
        self.error = "\(error)"
        errorKind = (error as? any ClassifiedFailure)?.failureKind
    }

    public var succeeded: Bool { error == nil }
    public var inSync: Bool { comparison?.digestsAgree ?? false }
}

/// One anti-entropy round with one peer (invariant 7): exchange heads; pull what we
/// lack, in causal order and bounded pages, merging each page in one transaction;
/// push what the peer lacks the same way; then, if the logs still differ, exchange
/// fork evidence. A round with nothing new is one request whose size does not
/// depend on the log's.
public struct SyncRound: Sendable {
    public let city: City
    public let peer: CityID
    public let transport: any PeerTransport
    public var pageLimit = PullRequest.defaultLimit
    public var pageBytes = PullRequest.defaultMaxBytes
    /// The most pages one round moves in each direction; the rest waits for the next round.
    public var maxPages = 10_000
    /// How many chain links a round may walk back to fetch a fork's evidence.
    public var maxWalkBack = ProtocolLimits.maxWalkBack
    /// Whether the round pushes what the peer lacks: an observer only pulls.
    public var pushes: Bool
    /// A content round (§10) also asks for the content of every sealed field this node
    /// lacks, not only of the entries it just pulled — even when the digests agree.
    public var contentRound = false
    /// The peers whose completed pulls lift a restore mark (`RestoreMark`); by default
    /// every card this city can sync with. The daemon passes the peers it syncs with.
    public var restorePeers: Set<CityID>?

    public init(city: City, peer: CityID, transport: any PeerTransport) {
        self.city = city
        self.peer = peer
        self.transport = transport
        pushes = !city.isObserver
    }

    /// Runs the round. Never throws: a failure is the report's `error`, and whatever
    /// was merged before it stays merged (each page is its own transaction).
    public func run(progress: (@Sendable (SyncProgress) -> Void)? = nil) async -> RoundReport {
        var report = RoundReport(peer: peer)
        // Acks this city still owes (§14): one that could not be written as its erasure
        // arrived (a reader held the write-ahead log) is written now, and sent below.
        if pushes {
            let city = self.city
            _ = try? await Blocking.run { try city.acknowledgeErasures() }
        }
        do {
            try await exchange(&report, progress: progress)
        } catch {
            report.fail(error)
        }
        return report
    }

    private func exchange(_ report: inout RoundReport, progress: (@Sendable (SyncProgress) -> Void)?) async throws {
        let city = self.city
        var local = try await Blocking.run { try city.localHeads() }
        report.requests += 1
        var remote = try await transport.heads()
        guard remote.city == peer else {
            throw SyncRoundError("the endpoint of \(peer) answered as \(remote.city); check its peer card")
        }
        report.remote = remote
        var comparison = HeadsComparison(local: local, remote: remote)
        defer { report.comparison = HeadsComparison(local: (try? city.localHeads()) ?? local, remote: report.remote ?? remote) }
        if comparison.digestsAgree {
            try await confirmRestore(local: local, remote: remote, &report)
            await fetchContent(pulled: [], &report)
            return
        }

        // Pull: pages of what we lack, each merged in one transaction. Pipelined: while
        // page k merges (one core), page k+1 is already requested — with the vector we
        // will have once k is in — and verified (the other cores).
        let toPull = comparison.weLack
        var sealedPulled = [EntryID]()
        if comparison.weLack > 0 {
            sealedPulled = try await pull(&report, local: &local, remote: remote, total: toPull, progress: progress)
            comparison = HeadsComparison(local: local, remote: remote)
        }
        try await confirmRestore(local: local, remote: remote, &report)
        await fetchContent(pulled: sealedPulled, &report)

        // Push: pages of what the peer lacks, from its heads as it reports them back.
        let toPush = comparison.theyLack
        var pages = 0
        var sealedPushed = [EntryID]()
        while pushes, comparison.theyLack > 0, pages < maxPages {
            pages += 1
            let (vector, limit, bytes) = (remote.vector, pageLimit, pageBytes)
            let page = try await Blocking.run { try city.store.lacking(vector, limit: limit, maxBytes: bytes) }
            if page.entries.isEmpty { break }
            report.requests += 1
            let result = try await transport.push(page.entries)
            sealedPushed += Self.sealed(page.entries)
            report.sent += result.inserted
            report.peerRefused(result.refused.lazy.map { "\($0.code): \($0.message)" })
            remote = result.heads
            report.remote = remote
            comparison = HeadsComparison(local: local, remote: remote)
            progress?(SyncProgress(peer: peer, phase: .pushing, done: Int64(report.sent), total: toPush))
            if result.inserted == 0 || !page.more { break }
        }
        if !sealedPushed.isEmpty { await pushContent(of: sealedPushed, &report) }

        // Forks: entries at forked positions are evidence every node must hold.
        if !comparison.digestsAgree && (local.forks > 0 || remote.forks > 0 || comparison.needsForkExchange || !comparison.divergent.isEmpty) {
            try await exchangeForks(&report, remote: &remote)
        }
    }

    /// Pulls pages and merges them; returns the merged entries that seal a field (§14).
    private func pull(
        _ report: inout RoundReport, local: inout PeerHeads, remote: PeerHeads, total: Int64,
        progress: (@Sendable (SyncProgress) -> Void)?
    ) async throws -> [EntryID] {
        let (city, transport, peer) = (self.city, self.transport, self.peer)
        let (limit, bytes) = (pageLimit, pageBytes)
        func fetch(_ have: VectorClock) -> Task<(entries: [SignedEntry], more: Bool), any Error> {
            Task { try await transport.pull(PullRequest(have: have, limit: limit, maxBytes: bytes)) }
        }
        var have = local.vector
        var next: Task<(entries: [SignedEntry], more: Bool), any Error>? = fetch(have)
        var merging: Task<ReceiveReport, any Error>?
        var merged: VerifiedBatch?
        var received = 0
        var pages = 0
        var sealed = [EntryID]()
        func settle(_ task: Task<ReceiveReport, any Error>?, _ report: inout RoundReport) async throws -> ReceiveReport? {
            guard let task else { return nil }
            var r = try await task.value
            if r.inserted == 0 || !r.outcome.refused.isEmpty {
                // Entries whose predecessor is another entry at a seq we hold: a fork.
                // Fetch the peer's side of the chain back to where it joins ours.
                if let walked = try await walkBack(r, &report), walked.inserted > 0 { r = walked }
            }
            received += r.inserted
            report.received += r.inserted
            sealed += r.outcome.inserted.filter(Self.seals).map(\.id)
            record(r, into: &report)
            progress?(SyncProgress(peer: peer, phase: .pulling, done: Int64(received), total: total))
            return r
        }
        while let fetching = next, pages < maxPages {
            pages += 1
            report.requests += 1
            let page = try await fetching.value
            next = nil
            if page.entries.isEmpty { break }
            let signed = page.entries
            // Verified while the page before merges: its entries' keys count as held.
            let previous = merged
            let batch = try await Blocking.run { city.verify(signed.map { ($0.body, $0.signature) }, after: previous) }
            // The previous page must be in before this one merges (its causal past).
            if let previous = try await settle(merging, &report), previous.inserted == 0 {
                merging = nil
                break
            }
            have = batch.vector(after: have)
            if page.more && !batch.valid.isEmpty { next = fetch(have) }
            merging = Task { try await Blocking.run { try city.merge(batch) } }
            merged = batch
        }
        next?.cancel()
        _ = try await settle(merging, &report)
        local = try await Blocking.run { try city.localHeads() }
        return sealed
    }

    /// Whether an entry seals a field, whose content travels beside it (§14).
    static func seals(_ e: Entry) -> Bool {
        PersonalField.allCases.contains { PersonalContent.seal(of: $0, in: e) != nil }
    }

    /// The ids of the entries of a page that seal a field (only those bodies are decoded).
    static func sealed(_ entries: [SignedEntry]) -> [EntryID] {
        let mark = Array(#""commit""#.utf8)
        return entries.compactMap { s in
            guard s.body.firstRange(of: mark) != nil, let e = try? Entry.decode(body: s.body, signature: s.signature), seals(e) else { return nil }
            return e.id
        }
    }

    /// The content of what was just pulled, and of the sealed entries that reached this
    /// node before their content did (`City.awaitedContent`: from a peer that did not hold
    /// it yet); in a content round, of anything sealed. What is still lacking afterwards is
    /// awaited from the next round, with any peer.
    private func fetchContent(pulled: [EntryID], _ report: inout RoundReport) async {
        if contentRound { return await pullContent(of: nil, &report) }
        let ask = Array(Set(pulled).union(city.awaitedContent()))
        if ask.isEmpty { return }
        await pullContent(of: ask, &report)
        let city = self.city
        if let still = try? await Blocking.run({ try city.store.lackingContent(among: ask) }) {
            city.contentArrived(Set(ask).subtracting(still))
            city.awaitContent(still)
        }
    }

    /// Asks the peer for the content this node lacks (§10): of `entries`, or in a content
    /// round (`nil`) of every sealed field in the log, a page of 1,000 entries a request.
    /// A failure ends the content part only (`contentError`).
    private func pullContent(of entries: [EntryID]?, _ report: inout RoundReport) async {
        let (city, transport, n) = (self.city, self.transport, ProtocolLimits.maxContentItems)
        do {
            var after: Int64? = 0
            var given = entries ?? []
            for _ in 0..<maxPages {
                let wanted: [EntryID]
                if entries != nil {
                    let chunk = Array(given.prefix(n))
                    if chunk.isEmpty { break }
                    given.removeFirst(chunk.count)
                    wanted = try await Blocking.run { try city.store.lackingContent(among: chunk) }
                } else {
                    guard let from = after else { break }
                    let page = try await Blocking.run { try city.store.lackingContent(after: from, limit: n) }
                    (wanted, after) = (page.entries, page.next)
                }
                if wanted.isEmpty { continue }
                report.requests += 1
                let offered = try await transport.content(ContentRequest(entries: wanted))
                let asked = Set(wanted)
                let kept = offered.filter { asked.contains($0.entry) }
                let outcomes = try await Blocking.run { try city.store.storeContent(kept) }
                for (c, outcome) in zip(kept, outcomes) {
                    switch outcome {
                    case .stored: report.contentReceived += 1
                    case .alreadyHeld, .entryNotHeld, .refused(.erased): break
                    case .refused(let why): report.refuseFromPeer(code: why.code, "\(why.code): the \(c.field.rawValue) of \(c.entry.short): \(why)")
                    }
                }
            }
        } catch {
            report.contentError = "\(error)"
        }
    }

    /// Pushes the content this node holds of entries it just pushed (§10), in pages of at
    /// most 1,000 contents and 16 MiB. A failure ends the content part only.
    private func pushContent(of entries: [EntryID], _ report: inout RoundReport) async {
        let (city, transport) = (self.city, self.transport)
        do {
            let held = try await Blocking.run { try city.store.contents(of: entries) }
            var page = [PersonalContent]()
            var bytes = 0
            func send(_ report: inout RoundReport) async throws {
                guard !page.isEmpty else { return }
                report.requests += 1
                let result = try await transport.pushContent(page)
                report.contentSent += result.stored
                report.peerRefused(result.refused.lazy.map { "\($0.code): \($0.message)" })
                (page, bytes) = ([], 0)
            }
            for c in held {
                let size = CanonicalJSON.encode(c.json).count + 1
                if page.count == ProtocolLimits.maxContentItems || bytes + size > ProtocolLimits.maxContentBytes { try await send(&report) }
                page.append(c)
                bytes += size
            }
            try await send(&report)
        } catch {
            report.contentError = "\(error)"
        }
    }

    /// A store restored from a backup signs again once every peer it syncs with is shown to
    /// hold no entry of this city above ours — after the pull, anything of ours it held is
    /// ours too. (One peer is not enough: it may lag as the backup does.)
    private func confirmRestore(local: PeerHeads, remote: PeerHeads, _ report: inout RoundReport) async throws {
        let (city, own, peer) = (self.city, city.id, self.peer)
        guard local.vector[own] >= remote.vector[own] else { return }
        let needed = restorePeers ?? Set(city.peers.cards.filter(\.isSyncable).map(\.city))
        report.confirmedRestore = try await Blocking.run { try city.store.confirmRestore(by: peer, needed: needed) }
    }

    private func exchangeForks(_ report: inout RoundReport, remote: inout PeerHeads) async throws {
        report.requests += 1
        let theirs = try await transport.forks()
        let ours = try city.store.forks()
        let plan = try ForkExchange(local: ours, remote: theirs.entries, holds: city.store.contains)
        if !plan.fetch.isEmpty {
            report.requests += 1
            let fetched = try await transport.entries(IDsRequest(ids: Array(plan.fetch.prefix(SyncAPI.maxIDs))))
            let received = try city.receive(fetched.map { ($0.body, $0.signature) })
            report.received += received.inserted
            record(received, into: &report)
        }
        if pushes, !plan.send.isEmpty {
            report.requests += 1
            let result = try await transport.push(try city.store.entries(ids: Array(plan.send.prefix(SyncAPI.maxIDs))))
            report.sent += result.inserted
            report.peerRefused(result.refused.lazy.map { "\($0.code): \($0.message)" })
            remote = result.heads
            report.remote = remote
        }
    }

    /// For entries refused because their predecessor is not the entry we hold at that
    /// seq, fetches predecessors from the peer until the chain joins ours, then merges
    /// everything fetched together with the refused entries.
    private func walkBack(_ received: ReceiveReport, _ report: inout RoundReport) async throws -> ReceiveReport? {
        var wanted = [EntryID]()
        var pending = [SignedEntry]()
        for (entry, reason) in received.outcome.refused {
            guard case .missingPredecessor(let o, let s) = reason, let prev = entry.prev,
                  try city.store.entryID(origin: o, seq: s) != nil, try !city.store.contains(prev) else { continue }
            wanted.append(prev)
            pending.append(SignedEntry(body: entry.body, signature: entry.signature))
        }
        if wanted.isEmpty { return nil }
        // The server's answers are not trusted: only entries that were asked for are kept
        // (by id), each is hashed and decoded once, and what is buffered is bounded.
        var pendingIDs = Set(pending.map { EntryID.of(body: $0.body) })
        wanted = Array(Set(wanted).prefix(SyncAPI.maxIDs))
        var steps = 0
        while !wanted.isEmpty, steps < maxWalkBack, pending.count < ProtocolLimits.maxWalkBackEntries {
            steps += 1
            report.requests += 1
            let asked = Set(wanted)
            let fetched = try await transport.entries(IDsRequest(ids: wanted))
            wanted = []
            for f in fetched where pending.count < ProtocolLimits.maxWalkBackEntries {
                let id = EntryID.of(body: f.body)
                guard asked.contains(id), pendingIDs.insert(id).inserted else { continue }
                pending.append(f)
                guard let e = try? Entry.decode(body: f.body, signature: f.signature), let prev = e.prev else { continue }
                if !pendingIDs.contains(prev), try !city.store.contains(prev), wanted.count < SyncAPI.maxIDs { wanted.append(prev) }
            }
        }
        return try city.receive(pending.map { ($0.body, $0.signature) })
    }

    private func record(_ r: ReceiveReport, into report: inout RoundReport) {
        for (_, error) in r.invalid { report.refuseFromPeer(code: error.codeName, "\(error.codeName): \(error.message)") }
        for (entry, reason) in r.outcome.refused where !reason.isNotReady {
            report.refuseFromPeer(code: reason.code, "\(reason.code): \(entry): \(reason)")
        }
    }
}

/// An error that names its kind with a stable code (`pin_mismatch`, `timeout`, …), which
/// `c4csr status` records beside the sentence to tell a wrong key from a dead host.
public protocol ClassifiedFailure: Error {
    var failureKind: String { get }
}

/// A round that cannot go on, as one sentence.
public struct SyncRoundError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension PeerStatus {
    /// Folds a round's report into the peer's recorded status.
    public mutating func apply(_ report: RoundReport, started: Int64, finished: Int64) {
        lastAttempt = started
        received += Int64(report.received)
        sent += Int64(report.sent)
        if report.refusedFromPeerCount > 0 {
            refused += Int64(report.refusedFromPeerCount)
            lastRefusal = report.refusedFromPeer.first
        }
        if let remote = report.remote {
            remoteDigest = remote.digest
            remoteEntries = remote.entries
        }
        if let c = report.comparison {
            weLack = c.weLack
            theyLack = c.theyLack
            inSync = c.digestsAgree
        }
        if let error = report.error {
            lastError = error
            lastErrorKind = report.errorKind
            failures += 1
            inSync = false
        } else {
            lastError = nil
            lastErrorKind = nil
            failures = 0
            lastSuccess = finished
        }
    }
}
