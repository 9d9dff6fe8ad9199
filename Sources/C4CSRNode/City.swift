import C4CSRCore
import C4CSRStore
import Dispatch
import Foundation
import Synchronization

/// One city's node: its identity, signing key, known peers and log. The CLI and the
/// daemon both work through it, so every write follows the same rules.
///
/// A node opened for reading (`open(…, signing: false)`) and an observer's node never
/// hold the signing key: they read, sync and audit, and every write is refused before
/// anything is touched.
public final class City: Sendable {
    public let directory: DataDirectory
    /// This city's own peer card.
    public let card: PeerCard
    public let store: LogStore
    /// `nil` for an observer, and for a city opened for reading only.
    /// Replaced by `rotateKey` once the rotation is committed.
    private let signingKey: Mutex<CitySigningKey?>
    let now: @Sendable () -> Int64
    /// Where peer cards are read from: `<data-dir>/peers`, then any extra directories.
    public let peerDirectories: [URL]
    private let peerState: Mutex<PeerState>
    /// Serialises this process's acknowledgements of erasures (§14), so that two merges
    /// at once (a round and a push) do not both write one; holds the log's entry count
    /// when no acknowledgement was last owed (the log is insert-only: while the count
    /// stays, nothing is owed, and a round with nothing new reads no erasure).
    let acknowledging = Mutex<Int64>(-1)

    private struct PeerState: Sendable {
        var peers: PeerDirectory
        var verifier: EntryVerifier
    }

    /// The peer cards this city knows (re-read by `reloadPeers`).
    public var peers: PeerDirectory { peerState.withLock { $0.peers } }
    /// Verifies entries from this city and every peer with a key.
    public var verifier: EntryVerifier { peerState.withLock { $0.verifier } }
    /// Sealed entries received from peers before their content (§14), with when: the
    /// next rounds ask every peer for it. Bounded in count and age; the hourly content
    /// round covers what falls out.
    private let awaited = Mutex<[EntryID: Int64]>([:])
    static let maxAwaitedContent = 10_000
    static let awaitContentForMS: Int64 = 600_000

    /// Records sealed entries whose content this node should ask its peers for.
    public func awaitContent(_ ids: [EntryID]) {
        guard !ids.isEmpty else { return }
        let t = now()
        awaited.withLock { a in
            for id in ids where a[id] != nil || a.count < Self.maxAwaitedContent { a[id] = a[id] ?? t }
        }
    }

    /// The entries whose content is awaited (those awaited longer than ten minutes are
    /// left to the content round).
    public func awaitedContent() -> [EntryID] {
        let t = now()
        return awaited.withLock { a in
            a = a.filter { t - $0.value < Self.awaitContentForMS }
            return Array(a.keys)
        }
    }

    /// The content of these entries arrived (or is no longer wanted).
    public func contentArrived(_ ids: Set<EntryID>) {
        guard !ids.isEmpty else { return }
        awaited.withLock { a in for id in ids { a[id] = nil } }
    }

    /// The network's charter (`network.toml` beside the peer cards, docs/PROTOCOL.md §15).
    public var charter: Charter? { peers.charter }
    /// What the store computes the verdicts of §15 against: the charter and the cards' keys.
    public var membership: LogStore.Membership? {
        peerState.withLock { state in state.peers.charter.map { LogStore.Membership(charter: $0, foundingKeys: state.verifier.keys) } }
    }

    public var id: CityID { card.city }
    /// An observer's node: it reads and syncs the network log (pulls only) and signs nothing.
    public var isObserver: Bool { card.isObserver }

    /// Milliseconds since the Unix epoch: the only place the wall clock is read.
    public static let systemClock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    private init(
        directory: DataDirectory, card: PeerCard, key: CitySigningKey?, store: LogStore, peerDirectories: [URL],
        now: @escaping @Sendable () -> Int64
    ) {
        self.directory = directory
        self.card = card
        self.signingKey = Mutex(key)
        self.store = store
        self.peerDirectories = peerDirectories
        self.now = now
        peerState = Mutex(Self.readPeers(peerDirectories, card: card))
    }

    private static func readPeers(_ directories: [URL], card: PeerCard) -> PeerState {
        let peers = PeerDirectory.load(directories, ownCity: card.city, ownPin: card.tlsPin)
        var keys = peers.keys
        if let own = card.publicKey { keys[card.city] = own }
        // With the charter, membership entries naming its network are accepted and the
        // store keeps the verdicts (§15); without it they wait.
        return PeerState(peers: peers, verifier: EntryVerifier(keys: keys, network: peers.charter?.networkID))
    }

    /// Re-reads the peer cards (after `peers add`, or on SIGHUP in the daemon). Entries
    /// verified from now on use the new keys; the store is untouched.
    /// - Returns: the cards now known, with any warnings about skipped cards.
    @discardableResult
    public func reloadPeers() -> PeerDirectory {
        let state = Self.readPeers(peerDirectories, card: card)
        if !state.peers.readErrors.isEmpty {
            // Half a directory is worse than the old one: keep the cards we had.
            let old = peerState.withLock { $0.peers }
            return PeerDirectory(
                cards: old.cards, warnings: state.peers.readErrors + ["peer cards not reloaded; keeping the \(old.cards.count) cards read before"],
                readErrors: state.peers.readErrors)
        }
        peerState.withLock { $0 = state }
        return state.peers
    }

    /// The city's TLS identity (key and self-signed certificate), read from the data directory.
    public func tlsIdentity() throws -> TLSIdentity {
        try TLSIdentity.load(certificate: directory.tlsCertificateFile, privateKey: directory.tlsKeyFile)
    }

    // MARK: Creating and opening

    /// Creates a city's data directory: a new Ed25519 key (mode 0600), its peer card,
    /// an empty peers directory and an empty store. An observer's directory (a card
    /// whose role is `observer`) gets no signing key, and its card no `public_key`.
    ///
    /// - Parameter card: the city's card; its `publicKey` is replaced by the new key's.
    /// - Throws: `NodeError.invalidInput` if the directory already holds a city.
    public static func create(at directory: DataDirectory, card: PeerCard, now: @escaping @Sendable () -> Int64 = City.systemClock) throws -> City {
        let fm = FileManager.default
        if directory.exists || fm.fileExists(atPath: directory.signingKeyFile.path) {
            throw NodeError.invalidInput("\(directory.root.path) already holds a city (\(directory.cardFile.lastPathComponent) exists); nothing was changed")
        }
        // Folders 0700 and secrets and the store 0600, whatever the umask: set, not requested.
        do {
            for dir in [directory.root, directory.keysDirectory, directory.peersDirectory] {
                try fm.createDirectory(at: dir, withIntermediateDirectories: true)
                try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir.path)
            }
        } catch {
            throw NodeError.io("cannot create \(directory.root.path): \(error.localizedDescription)")
        }
        var card = card
        if card.isObserver {
            card.publicKey = nil
        } else {
            let key = CitySigningKey()
            try writeSecret(Array((Data(key.rawRepresentation).base64EncodedString() + "\n").utf8), to: directory.signingKeyFile)
            card.publicKey = key.publicKey
        }
        let tls: TLSIdentity
        do { tls = try TLSIdentity.generate(city: card.city) } catch {
            throw NodeError.io("cannot create the TLS certificate: \(error)")
        }
        try writeSecret(Array(tls.privateKeyPEM.utf8), to: directory.tlsKeyFile)
        try writeAtomically(tls.certificatePEM, to: directory.tlsCertificateFile)
        card.tlsPin = tls.pin
        _ = try LogStore(path: directory.storeFile.path, now: now)
        // SQLite gives its WAL and shared-memory files the store's own mode.
        do { try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: directory.storeFile.path) } catch {
            throw NodeError.io("cannot restrict \(directory.storeFile.path) to its owner: \(error.localizedDescription)")
        }
        // The card is written last: its presence marks a complete data directory.
        try writeAtomically(card.toml, to: directory.cardFile)
        return try open(directory, now: now)
    }

    /// Opens an existing city.
    /// - Parameters:
    ///   - extraPeerDirectories: more directories of peer cards (such as the
    ///     repository's `Peers/`), read after `<data-dir>/peers`.
    ///   - signing: load the signing key (and check it against the card), for commands
    ///     that write entries. Without it the key file is never opened, so read-only
    ///     access can be granted without signing rights. An observer has no key.
    /// - Throws: `NodeError` when the directory, card or key is missing or unusable.
    public static func open(
        _ directory: DataDirectory, extraPeerDirectories: [URL] = [], signing: Bool = true,
        now: @escaping @Sendable () -> Int64 = City.systemClock
    ) throws -> City {
        // A file this user may not read is not a missing city: say who may read it.
        // The store and its directory must be writable too (SQLite's WAL lives beside it).
        // (An observer has no key file: a file that is not there is no permission problem.)
        let keyFile = signing ? [(directory.signingKeyFile, false)] : []
        for (file, write) in [(directory.cardFile, false)] + keyFile + [(directory.root, true), (directory.storeFile, true)] {
            if let problem = FileAccess.readProblem(file.path, write: write) { throw NodeError.permission(problem) }
        }
        guard directory.exists else {
            throw NodeError.notFound("no city in \(directory.root.path) (run `c4csr init`, or pass --data-dir / set C4CSR_DATA_DIR)")
        }
        guard let cardData = FileManager.default.contents(atPath: directory.cardFile.path),
              let cardText = String(data: cardData, encoding: .utf8) else {
            throw NodeError.io("cannot read \(directory.cardFile.path)")
        }
        let card: PeerCard
        do { card = try PeerCard.parse(cardText) } catch {
            throw NodeError.invalidInput("\(directory.cardFile.path): \(error)")
        }
        let store: LogStore
        do { store = try LogStore(path: directory.storeFile.path, now: now) } catch {
            throw NodeError.io("\(error)")
        }
        var key: CitySigningKey?
        if signing, !card.isObserver { key = try loadKeyInForce(directory, store: store, card: card) }
        return City(
            directory: directory, card: card, key: key, store: store,
            peerDirectories: [directory.peersDirectory] + extraPeerDirectories, now: now)
    }

    /// The signing key file, checked to be the key in force the log names (§12).
    private static func loadKeyInForce(_ directory: DataDirectory, store: LogStore, card: PeerCard) throws -> CitySigningKey {
        // The key in force is read from the log (§12): the card's key until a rotation.
        let loaded = try finishRotation(directory, store: store, city: card.city, card: card)
        let inForce: CityPublicKey?
        do { inForce = try store.keyInForce(nextOf: card.city) ?? card.publicKey } catch { throw NodeError.io("\(error)") }
        guard loaded.publicKey == inForce else {
            // A restored store may lack the rotation that put the file's key in force.
            if inForce == card.publicKey, (try? store.restoreMark()) == nil {
                throw NodeError.invalidInput("\(directory.signingKeyFile.path) does not match the public_key in \(directory.cardFile.path)")
            }
            throw notInForce(directory, city: card.city, inForce: inForce)
        }
        return loaded
    }

    /// Loads the signing key into a city opened without it: the daemon, once it serves
    /// the officers' socket (it signs what officers hand it).
    public func enableSigning() throws {
        if isObserver { try requireSigner() }
        if let problem = FileAccess.readProblem(directory.signingKeyFile.path, write: false) { throw NodeError.permission(problem) }
        let key = try Self.loadKeyInForce(directory, store: store, card: card)
        signingKey.withLock { $0 = key }
    }

    static func loadKey(_ url: URL) throws -> CitySigningKey {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
              let mode = attributes[.posixPermissions] as? Int else {
            throw NodeError.notFound("signing key \(url.path) is missing")
        }
        if mode & 0o007 != 0 {
            throw NodeError.forbidden("signing key \(url.path) is readable by other users; run: chmod 600 \(url.path)")
        }
        guard let data = FileManager.default.contents(atPath: url.path),
              let text = String(data: data, encoding: .utf8),
              let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
              let key = CitySigningKey(rawRepresentation: Array(raw)) else {
            throw NodeError.invalidInput("signing key \(url.path) is unreadable (expected base64 of a 32-byte Ed25519 seed)")
        }
        return key
    }

    // MARK: Writing local entries

    /// Publishes a new practice. The practice id is the returned entry's id.
    /// - Parameter dryRun: sign the entry as it would be written, and write nothing.
    /// - Parameter personal: fields to seal besides the contact (§14: their values are
    ///   kept beside the entry, where an erasure can delete them).
    public func publish(_ practice: Practice, personal: Set<PersonalField> = [], dryRun: Bool = false) throws -> Entry {
        try requireWritable()
        return try append(dryRun: dryRun, personal: personal) { _ in .publish(practice) }
    }

    /// Publishes many practices in one transaction (a bulk `add`): all or none.
    public func publishAll(_ practices: [Practice]) throws -> [Entry] {
        try requireWritable()
        let time = now()
        do {
            var contents = [PersonalContent]()
            return try store.append(count: practices.count, keys: localKeys(), { ctx, i in
                let (entry, c) = try self.signSealed(.publish(practices[i]), personal: [], ctx, time: time)
                contents = c
                return entry
            }, then: { ctx, _ in try self.storeOwn(contents, ctx) })
        } catch let e as StoreError {
            throw NodeError.io(e.description)
        }
    }

    /// Replaces the fields of one of this city's practices.
    /// - Parameter base: the versions this revision supersedes (hex prefixes); empty means
    ///   every current version, which also resolves a conflict.
    public func revise(_ practiceID: String, with practice: Practice, base: [String] = [], personal: Set<PersonalField> = []) throws -> LocalWrite {
        try revise(practiceID, base: base, personal: personal) { _ in practice }
    }

    /// Revises one of this city's practices from its current fields, read in the same
    /// write transaction that signs the revision: two officers revising at once each
    /// start from the other's committed version, so no edit is lost (the base is then
    /// exactly the versions the fields were read from).
    ///
    /// A revision that would change nothing (the same fields, one current version, not
    /// retracted, no explicit base) is not written: `entry` is `nil` and `note` says so.
    ///
    /// - Parameters:
    ///   - base: versions this revision supersedes (hex prefixes); by default every
    ///     current version, read in the same transaction as the fields.
    ///   - change: builds the new fields from the current ones (their sealed fields
    ///     revealed with the content held); runs inside the write transaction, so it must
    ///     be quick and must not write.
    ///   - personal: fields to seal besides the contact and those sealed before (§14).
    public func revise(
        _ practiceID: String, base: [String] = [], personal: Set<PersonalField> = [], dryRun: Bool = false,
        change: (Practice) throws -> Practice
    ) throws -> LocalWrite {
        try requireWritable()
        let id = try resolve(practiceID)
        return try write(about: id, dryRun: dryRun, personal: personal) { ctx in
            let record = try self.ownPractice(id, ctx, verb: "revise")
            let current = record.current.sealed.isEmpty ? record.current : record.current.revealing(try ctx.contents(of: [record.fieldsEntry]))
            let fields = try change(current)
            if base.isEmpty, fields.json == current.json, !record.retracted, !record.conflict {
                return .unchanged("practice \(id.short) already has these fields (version \(record.currentVersion.short)); nothing was written")
            }
            let note = record.retracted ? "this revision reinstates practice \(id.short), which was retracted" : nil
            return .write(.revise(practice: id, base: try self.base(base, of: record), fields: fields), note: note)
        }
    }

    /// Withdraws one of this city's practices.
    public func retract(_ practiceID: String, reason: String?, base: [String] = []) throws -> Entry {
        try requireWritable()
        let id = try resolve(practiceID)
        return try append { ctx in
            let record = try self.ownPractice(id, ctx, verb: "retract")
            if record.retracted, base.isEmpty, !record.conflict {
                throw NodeError.invalidInput("practice \(id.short) is already retracted")
            }
            return .retract(practice: id, base: try self.base(base, of: record), reason: reason)
        }
    }

    /// Records that this city adopted (or adapted) another city's practice.
    ///
    /// Adopting again the version this city already adopted, with the same mode and
    /// notes, writes nothing (`entry` is `nil`, `note` names the earlier adoption).
    /// - Parameter version: the version adopted (hex prefix); by default the current one.
    public func adopt(_ practiceID: String, mode: AdoptionMode, notes: String?, version: String? = nil, dryRun: Bool = false) throws -> LocalWrite {
        try requireWritable()
        let id = try resolve(practiceID)
        return try write(about: id, dryRun: dryRun) { ctx in
            let record = try self.foreignPractice(id, ctx)
            let v = try version.map { try self.version($0, of: record) } ?? record.currentVersion
            let mine = record.adoptions.filter { $0.city == self.id }
            if let last = mine.last, last.version == v, last.mode == mode, last.notes == notes {
                return .unchanged("\(self.id) already adopted version \(v.short) of practice \(id.short) (entry \(last.entry.short)); nothing was written")
            }
            let note = mine.last.map { "updates this city's adoption \($0.entry.short) of version \($0.version.short)" }
            return .write(.adopt(practice: id, version: v, mode: mode, notes: notes), note: note)
        }
    }

    /// What a local write decided inside its transaction: an action to sign, or nothing.
    enum WriteDecision {
        case write(PracticeAction, note: String?)
        case unchanged(String)
    }

    /// Like `append`, for writes that may find nothing to do.
    private func write(
        about practice: EntryID, dryRun: Bool = false, personal: Set<PersonalField> = [], _ decide: (LocalContext) throws -> WriteDecision
    ) throws -> LocalWrite {
        var outcome: (note: String?, unchanged: Bool) = (nil, false)
        do {
            let entry = try append(dryRun: dryRun, personal: personal) { ctx in
                switch try decide(ctx) {
                case .write(let action, let note):
                    outcome.note = note
                    return action
                case .unchanged(let why):
                    outcome = (why, true)
                    throw Unchanged()
                }
            }
            return LocalWrite(practice: practice, entry: entry, note: outcome.note)
        } catch is Unchanged {
            return LocalWrite(practice: practice, entry: nil, note: outcome.note)
        }
    }

    private struct Unchanged: Error {}
    /// Rolls a dry run's transaction back.
    private struct DryRun: Error {}

    /// Signs the action's entry and appends it, in one write transaction. With `dryRun`,
    /// the entry is signed exactly as it would be stored, and the transaction rolled back.
    /// A publish or revise seals its personal fields (§14) and stores their content in
    /// the same transaction.
    private func append(dryRun: Bool = false, personal: Set<PersonalField> = [], _ action: (LocalContext) throws -> PracticeAction) throws -> Entry {
        let time = now()
        var contents = [PersonalContent]()
        return try appendEntry(dryRun: dryRun, { ctx in
            let (entry, c) = try self.signSealed(try action(ctx), personal: personal, ctx, time: time)
            contents = c
            return entry
        }, then: { ctx, _ in try self.storeOwn(contents, ctx) })
    }

    /// Appends the entry `build` signs inside the write transaction; with `dryRun`, the
    /// transaction is rolled back and the entry returned as it would have been stored.
    /// `then` runs after the entry is inserted, in the same transaction.
    func appendEntry(
        dryRun: Bool = false, _ build: (LocalContext) throws -> Entry, then: ((LocalContext, Entry) throws -> Void)? = nil
    ) throws -> Entry {
        var preview: Entry?
        do {
            return try store.append(keys: localKeys(), { ctx in
                let entry = try build(ctx)
                if dryRun {
                    preview = entry
                    throw DryRun()
                }
                return entry
            }, then: then)
        } catch is DryRun {
            return preview!
        } catch let e as NodeError {
            throw e
        } catch let e as StoreError {
            throw NodeError.io(e.description)
        }
    }

    /// Signs `action` as this city's next entry, inside a write transaction, and reads
    /// it back as every other node will: this city never signs an entry the practice
    /// rules refuse (a reason too long, a control character).
    private func sign(_ action: PracticeAction, _ ctx: LocalContext, time: Int64) throws -> Entry {
        let entry = try sign(kind: action.kind, payload: action.payload, ctx, time: time)
        _ = try PracticeAction(entry: entry)
        return entry
    }

    /// `sign`, with a publish's or revise's personal fields sealed first (§14): the
    /// contact always, the fields sealed before, and `personal`; each with a fresh salt.
    /// Returns the entry and the contents to store with it.
    private func signSealed(_ action: PracticeAction, personal: Set<PersonalField>, _ ctx: LocalContext, time: Int64) throws -> (Entry, [PersonalContent]) {
        let fields: Practice
        switch action {
        case .publish(let p), .revise(_, _, let p): fields = p
        case .retract, .adopt: return (try sign(action, ctx, time: time), [])
        }
        // A revision keeps sealed what the current version seals.
        var keep = personal
        if case .revise(let practice, _, _) = action, let current = try ctx.practice(practice)?.current { keep.formUnion(current.sealed.keys) }
        let (sealed, values) = try Self.seal(fields, personal: keep)
        let signed: PracticeAction
        switch action {
        case .revise(let practice, let base, _): signed = .revise(practice: practice, base: base, fields: sealed)
        default: signed = .publish(sealed)
        }
        let entry = try sign(signed, ctx, time: time)
        return (entry, values.keys.sorted().map { PersonalContent(entry: entry.id, field: $0, salt: values[$0]!.salt, value: values[$0]!.value) })
    }

    /// Stores this city's own contents with their entry; each must be accepted.
    func storeOwn(_ contents: [PersonalContent], _ ctx: LocalContext) throws {
        guard !contents.isEmpty else { return }
        for (c, outcome) in zip(contents, try ctx.storeContent(contents)) where outcome != .stored {
            throw NodeError.io("the \(c.field.rawValue) of entry \(c.entry.short) could not be stored (\(outcome)); nothing was written")
        }
    }

    /// Signs this city's next entry with the key in force (checked against the log, in
    /// the write transaction). An officer change or an `author` is checked against the
    /// officers in force at the new entry's position, as every receiver will (§13).
    func sign(kind: EntryKind, payload: [String: JSONValue], author: Author? = nil, _ ctx: LocalContext, time: Int64) throws -> Entry {
        var signingKey = try requireSigner()
        // §15: once the members recovered this city into a later generation, what this
        // node's key signs in the old chain is revoked on every node: it signs nothing.
        if let chain = try ctx.recoveredInto(id) {
            throw NodeError.forbidden(
                "the network recovered \(id) into \(chain) with a new key (docs/PROTOCOL.md §15): this node's key no longer speaks for \(id); nothing was signed")
        }
        let top = try ctx.top(of: id)
        let state = try top.map { try ctx.stateAfter($0.id) } ?? .founding
        let inForce = state.key ?? card.publicKey
        if signingKey.publicKey != inForce {
            // A long-running process (the daemon) whose key an admin rotated meanwhile:
            // the file holds the new key once the rotation committed.
            guard let fresh = try? Self.loadKey(directory.signingKeyFile), fresh.publicKey == inForce else {
                throw Self.notInForce(directory, city: id, inForce: inForce)
            }
            signingKey = fresh
            self.signingKey.withLock { $0 = fresh }
        }
        let seq = (top?.seq ?? 0) + 1
        var clock = try ctx.clock()
        clock[id] = seq
        let entry = try EntryDraft(origin: id, seq: seq, prev: top?.id, clock: clock, time: time, kind: kind, payload: payload, author: author)
            .sign(with: signingKey)
        if entry.author != nil || entry.kind == .officer {
            do throws(EntryError) {
                try EntryVerifier(keys: [id: signingKey.publicKey]).verify(entry, inForce: ChainState(key: inForce, officers: state.officers))
            } catch {
                throw NodeError.forbidden("\(error.description); nothing was signed")
            }
        }
        return entry
    }

    static func notInForce(_ directory: DataDirectory, city: CityID, inForce: CityPublicKey?) -> NodeError {
        NodeError.forbidden(
            "\(directory.signingKeyFile.path) is not \(city)'s key in force here (this log names \(inForce.map { String($0.base64.prefix(12)) + "…" } ?? "none")); nothing was signed. Either the file is a copy of a key a rotation replaced (after `c4csr key rotate` the new key is that file, and an old key signs nothing), or this store lacks the rotation that put the file's key in force (a store restored from a backup older than the rotation: `c4csr sync` brings it back)")
    }

    /// The founding key (this city's card), the key this node signs with, and what the
    /// verdicts of §15 are computed against: what every local write goes through.
    func localKeys() throws -> LocalKeys {
        LocalKeys(founding: card.publicKey, signer: try requireSigner().publicKey, membership: membership)
    }

    // MARK: Membership (docs/PROTOCOL.md §15)

    /// Vouches for `motion`: a `vouch` entry naming the network's charter. A city's vouch
    /// for a motion about itself never counts, so it is refused here.
    public func vouch(_ motion: Motion, dryRun: Bool = false) throws -> Entry {
        try requireWritable()
        guard let charter else {
            throw NodeError.invalidInput("this node holds no network charter (network.toml beside the peer cards), so it cannot vouch; nothing was signed")
        }
        guard motion.subject != id else {
            throw NodeError.invalidInput("\(id) cannot vouch for a motion about itself: the other members decide (§15); nothing was signed")
        }
        let time = now()
        return try appendEntry(dryRun: dryRun) { ctx in
            try self.sign(kind: .vouch, payload: MembershipStatement.vouch(motion).payload(network: charter.networkID), ctx, time: time)
        }
    }

    // MARK: Officers (docs/PROTOCOL.md §13)

    /// Enrols an officer with their public key (or gives an enrolled officer a new key),
    /// or removes one: an `officer` entry signed with the city key. For the admin.
    public func changeOfficer(_ change: OfficerChange, dryRun: Bool = false) throws -> Entry {
        try requireWritable()
        let time = now()
        return try appendEntry(dryRun: dryRun) { ctx in
            let roll = try self.officers(ctx)
            if case .enrol(let o, let key) = change, roll.keys[o] == key {
                throw NodeError.invalidInput("officer \(o) is already enrolled in \(self.id) with this key; nothing was written")
            }
            if case .remove(let o) = change, roll.keys[o] == nil {
                let enrolled = roll.keys.keys.sorted().map(\.rawValue).joined(separator: ", ")
                throw NodeError.invalidInput("officer \(o) is not enrolled in \(self.id) (" + (enrolled.isEmpty ? "no officer is" : "enrolled: \(enrolled)") + "); nothing was written")
            }
            if case .enrol(_, let key) = change, key == (try self.requireSigner().publicKey) {
                throw NodeError.invalidInput("that is this city's own signing key; an officer needs a key of their own (`c4csr officer key`)")
            }
            return try self.sign(kind: .officer, payload: change.payload, ctx, time: time)
        }
    }

    /// How far an officer's content time may be from this node's clock: entries' times
    /// are informational, but a city should not sign one that is plainly wrong.
    public static let maxOfficerClockSkewMS: Int64 = 10 * 60_000

    /// The officers in force for this city's next entry.
    public func officersInForce() throws -> OfficerRoll {
        try store.stateInForce(nextOf: id).officers
    }

    private func officers(_ ctx: LocalContext) throws -> OfficerRoll {
        guard let top = try ctx.top(of: id) else { return .empty }
        return try ctx.stateAfter(top.id).officers
    }

    /// Puts content an officer wrote and signed into this city's chain (§13): the
    /// officer's signature and enrolment are checked, the practice rules applied as for
    /// the city's own writes, and — so that no edit is lost — a revision or retraction
    /// must supersede exactly the current versions, read in the same transaction.
    /// - Parameter given: the content of each field the payload seals (§14), stored with
    ///   the entry once checked against its seal (their `entry` is replaced by the new
    ///   entry's id: the officer cannot know it).
    public func submit(_ content: OfficerContent, sealed given: [PersonalContent] = [], dryRun: Bool = false) throws -> Entry {
        try requireWritable()
        guard content.kind.isPractice else {
            throw NodeError.invalidInput("an officer writes practices (publish, revise, retract, adopt), not \(content.kind.rawValue) entries")
        }
        // Personal fields (§14) come sealed, each with its content (field, salt, value)
        // beside the signed payload: the contact is never signed in clear, and no seal is
        // signed without the content that opens it.
        var sealedFields = Set<PersonalField>()
        if case .object(let fields)? = content.payload["fields"] {
            for f in PersonalField.allCases {
                if case .object(let o)? = fields[f.rawValue], o["commit"] != nil { sealedFields.insert(f) }
            }
            if let contact = fields[PersonalField.contact.rawValue], contact.stringValue != nil {
                throw NodeError.invalidInput("contact: a contact is personal data and is sealed (§14), never signed in clear; this officer's c4csr may be older than the daemon's; nothing was written")
            }
        }
        let givenFields = given.map(\.field)
        guard Set(givenFields).count == givenFields.count, Set(givenFields) == sealedFields else {
            throw NodeError.invalidInput("the content beside the entry must give exactly the sealed fields (sealed: \(sealedFields.sorted().map(\.rawValue).joined(separator: ", ")); given: \(givenFields.map(\.rawValue).joined(separator: ", "))); nothing was written")
        }
        let author = Author(officer: content.officer, signature: content.signature)
        let skew = content.time - now()
        guard abs(skew) <= Self.maxOfficerClockSkewMS else {
            throw NodeError.invalidInput("the content's time is \(skew / 1000) s from this server's clock (at most \(Self.maxOfficerClockSkewMS / 60_000) minutes apart): check the clock of the officer's machine")
        }
        var contents = [PersonalContent]()
        return try appendEntry(dryRun: dryRun, { ctx in
            let entry = try self.sign(kind: content.kind, payload: content.payload, author: author, ctx, time: content.time)
            let action: PracticeAction
            do { action = try PracticeAction(entry: entry) } catch { throw NodeError.invalidInput("\(error)") }
            contents = given.map { PersonalContent(entry: entry.id, field: $0.field, salt: $0.salt, value: $0.value) }
            for c in contents {
                do { try c.check(against: entry) } catch { throw NodeError.invalidInput("\(c.field.rawValue): \(error); nothing was written") }
            }
            switch action {
            case .publish: break
            case .revise(let practice, let base, _), .retract(let practice, let base, _):
                let record = try self.ownPractice(practice, ctx, verb: content.kind.rawValue)
                guard Set(base) == Set(record.heads) else {
                    throw NodeError.conflict("practice \(practice.short) changed since this edit was prepared (its current versions are \(record.heads.map(\.short).joined(separator: ", "))); nothing was written: prepare it again from the current version")
                }
            case .adopt(let practice, _, _, _):
                _ = try self.foreignPractice(practice, ctx)
            }
            return entry
        }, then: { ctx, _ in try self.storeOwn(contents, ctx) })
    }

    // MARK: Rotating the signing key

    /// Replaces this city's signing key (docs/PROTOCOL.md §12): a new key is made and
    /// kept beside the old one (`entry-signing.key.next`, 0600, synced), the `rotate`
    /// entry — signed by the old key, with the new key's proof — is committed, and only
    /// then does the new key replace the old file. A crash between the two leaves both
    /// files; the next `open` finishes the swap (the log says which key is in force).
    ///
    /// - Returns: the rotate entry and the new public key.
    public func rotateKey(dryRun: Bool = false) throws -> (entry: Entry, key: CityPublicKey) {
        try requireWritable()
        return try withKeyLock(directory) { try rotateKeyLocked(dryRun: dryRun) }
    }

    private func rotateKeyLocked(dryRun: Bool) throws -> (entry: Entry, key: CityPublicKey) {
        let newKey = CitySigningKey()
        let pending = directory.pendingSigningKeyFile
        if !dryRun {
            // A pending key left by a rotation that never committed (open removes it too).
            try? FileManager.default.removeItem(at: pending)
            try writeSecret(Array((Data(newKey.rawRepresentation).base64EncodedString() + "\n").utf8), to: pending)
        }
        let time = now()
        var preview: Entry?
        let entry: Entry
        do {
            entry = try store.append(keys: localKeys()) { ctx in
                guard let top = try ctx.top(of: self.id) else {
                    throw NodeError.invalidInput("\(self.id) has no entry yet: its first key is the one on its card; rotate after its first entry")
                }
                let payload = Rotation.payload(origin: self.id, seq: top.seq + 1, prev: top.id, newKey: newKey)
                let e = try self.sign(kind: .rotate, payload: payload, ctx, time: time)
                if dryRun {
                    preview = e
                    throw DryRun()
                }
                return e
            }
        } catch is DryRun {
            return (preview!, newKey.publicKey)
        } catch {
            try? FileManager.default.removeItem(at: pending)
            if let e = error as? StoreError { throw NodeError.io(e.description) }
            throw error
        }
        try Self.installPendingKey(directory)
        signingKey.withLock { $0 = newKey }
        return (entry, newKey.publicKey)
    }

    /// Moves `entry-signing.key.next` over `entry-signing.key` (one rename, then the
    /// folder synced).
    static func installPendingKey(_ directory: DataDirectory) throws {
        if rename(directory.pendingSigningKeyFile.path, directory.signingKeyFile.path) != 0 {
            throw NodeError.io("the rotation is in the log, but \(directory.pendingSigningKeyFile.path) could not replace \(directory.signingKeyFile.path) (\(String(cString: strerror(errno)))); move it there by hand before signing anything")
        }
        syncDirectory(directory.keysDirectory)
    }

    /// The keys a rotation left, read at open: a pending key that the log already put in
    /// force replaces the old file (a crash after the commit); one it did not is left
    /// over from a rotation that never committed, and is removed.
    private static func finishRotation(_ directory: DataDirectory, store: LogStore, city: CityID, card: PeerCard) throws -> CitySigningKey {
        guard FileManager.default.fileExists(atPath: directory.pendingSigningKeyFile.path) else { return try loadKey(directory.signingKeyFile) }
        return try withKeyLock(directory) { try finishRotationLocked(directory, store: store, city: city, card: card) }
    }

    private static func finishRotationLocked(_ directory: DataDirectory, store: LogStore, city: CityID, card: PeerCard) throws -> CitySigningKey {
        let inForce = (try? store.keyInForce(nextOf: city)) ?? card.publicKey
        let current = try loadKey(directory.signingKeyFile)
        let pendingFile = directory.pendingSigningKeyFile
        guard FileManager.default.fileExists(atPath: pendingFile.path) else { return current }
        let pending = try loadKey(pendingFile)
        if pending.publicKey == inForce, current.publicKey != inForce {
            try installPendingKey(directory)
            return pending
        }
        if current.publicKey == inForce { try? FileManager.default.removeItem(at: pendingFile) }
        return current
    }


    /// Throws why this node may not sign (an observer; opened without its key; a store
    /// restored from a backup and not yet caught up): a command checks it first, before it
    /// asks anything of the officer.
    public func checkCanSign() throws { try requireWritable() }

    /// The signing key and no restore mark, checked before any write transaction starts.
    func requireWritable() throws {
        try requireSigner()
        let mark: RestoreMark?
        do { mark = try store.restoreMark() } catch let e as StoreError { throw NodeError.io(e.description) }
        if let mark {
            throw NodeError.forbidden(
                "this store was restored from \(mark.source) on \(City.minute(mark.restoredAt)): \(id) signs nothing until a sync round with each of its peers shows that none holds a newer entry of \(id) (run `c4csr sync`, or start the daemon; confirmed so far by \(mark.confirmedBy.isEmpty ? "none" : mark.confirmedBy.map(\.rawValue).sorted().joined(separator: ", "))), or until an admin confirms that none exists: c4csr restore --confirm-latest")
        }
    }

    /// "2026-11-30 14:36 UTC".
    static func minute(_ ms: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// The signing key, or why this node may not write: checked before any write starts.
    @discardableResult
    func requireSigner() throws -> CitySigningKey {
        if let key = signingKey.withLock({ $0 }) { return key }
        if isObserver {
            throw NodeError.forbidden(
                "\(id) is an observer: it reads and syncs the network log and signs nothing (\(directory.root.path)); a city's officers add and change practices at that city's node")
        }
        throw NodeError.forbidden("this command opened \(directory.root.path) without its signing key; nothing was written")
    }

    func resolve(_ prefix: String) throws -> EntryID {
        do { return try store.practice(prefix).0.id } catch let e as StoreError where e.isNotFound {
            throw NodeError.notFound(e.description)
        }
    }

    func ownPractice(_ id: EntryID, _ ctx: LocalContext, verb: String) throws -> PracticeRecord {
        guard let record = try ctx.practice(id) else { throw NodeError.notFound("practice \(id.short) is not in the log") }
        guard record.publisher == self.id else {
            throw NodeError.forbidden("practice \(id.short) was published by \(record.publisher); only \(record.publisher) may \(verb) it")
        }
        return record
    }

    /// Another city's practice, which this city may adopt.
    private func foreignPractice(_ id: EntryID, _ ctx: LocalContext) throws -> PracticeRecord {
        guard let record = try ctx.practice(id) else { throw NodeError.notFound("practice \(id.short) is not in the log") }
        guard record.publisher != self.id else {
            throw NodeError.forbidden("practice \(id.short) was published by \(self.id) itself; adopt records another city's practice")
        }
        return record
    }

    private func base(_ prefixes: [String], of record: PracticeRecord) throws -> [EntryID] {
        if prefixes.isEmpty { return record.heads }
        return try prefixes.map { try version($0, of: record) }
    }

    private func version(_ prefix: String, of record: PracticeRecord) throws -> EntryID {
        let p = prefix.lowercased()
        let matches = record.versions.filter { $0.entry.hex.hasPrefix(p) }
        guard p.count >= 6, matches.count == 1 else {
            throw NodeError.invalidInput("\"\(prefix)\" names no single version of practice \(record.id.short) (versions: \(record.versions.map(\.entry.short).joined(separator: ", ")))")
        }
        return matches[0].entry
    }

    // MARK: Receiving entries (import now, sync later: the same path)

    /// Verifies signed entries (in parallel, on every core) and merges the valid ones
    /// in one transaction.
    ///
    /// - Returns: per entry, what happened: inserted, already held, refused with a reason.
    public func receive(_ signed: [(body: [UInt8], signature: [UInt8])]) throws -> ReceiveReport {
        try merge(verify(signed))
    }

    /// The first half of `receive`: envelopes and signatures, on every core, each with
    /// its key in force (read from the store for predecessors already held).
    ///
    /// - Parameter previous: a batch verified before this one and not merged yet (a
    ///   sync's pages are verified while the page before is merging): its entries count
    ///   as held for the keys in force.
    public func verify(_ signed: [(body: [UInt8], signature: [UInt8])], after previous: VerifiedBatch? = nil) -> VerifiedBatch {
        // A store that cannot be read here is read again by the merge, which then refuses
        // (not ready) what could not be verified with the key in force.
        let store = self.store
        let results = ChainVerifier.verifyBatch(signed, verifier: verifier) { ids in
            var known = [EntryID: ChainState]()
            var rest = Set<EntryID>()
            for id in ids {
                if let k = previous?.stateAfter[id] { known[id] = k } else { rest.insert(id) }
            }
            return known.merging((try? store.statesAfter(rest)) ?? [:]) { a, _ in a }
        }
        var batch = VerifiedBatch()
        batch.founding = verifier.keys
        for (i, r) in results.enumerated() {
            switch r {
            case .success(let v):
                batch.valid.append(v.entry)
                if let key = v.key {
                    batch.signers[v.entry.id] = key
                    batch.rolls[v.entry.id] = v.inForce.officers
                    batch.stateAfter[v.entry.id] = v.inForce.after(v.entry)
                }
            case .failure(let err): batch.invalid.append((i, err))
            }
        }
        return batch
    }

    /// The second half of `receive`: merges verified entries in one transaction.
    public func merge(_ batch: VerifiedBatch) throws -> ReceiveReport {
        // StoreError passes through: the server maps a full disk or a read-only store
        // to its own status, the CLI to its sentence.
        let check = SignatureCheck(founding: batch.founding, signers: batch.signers, rolls: batch.rolls)
        let outcome = try store.merge(batch.valid, signatures: check, membership: membership)
        // An erasure by another city arrived and was applied: confirm it (§14). A node
        // that may not sign (an observer, a read command, a restored store) does not; an
        // ack that cannot be written now is written by the next sync round.
        var acks = [Entry]()
        if outcome.inserted.contains(where: { $0.kind == .erase && $0.origin != id }) {
            acks = (try? acknowledgeErasures()) ?? []
        }
        return ReceiveReport(outcome: outcome, invalid: batch.invalid, acknowledged: acks)
    }
}

/// Data-parallel work on every core, for CPU-bound steps such as verifying entries.
public enum Parallel {
    /// `items.map(transform)`, spread over the machine's cores when there are at least
    /// `minimumPerWorker` items per core. Results are in input order.
    public static func map<T, R>(_ items: [T], minimumPerWorker: Int = 64, _ transform: (T) -> R) -> [R] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, items.count / minimumPerWorker))
        if workers == 1 { return items.map(transform) }
        return withoutActuallyEscaping(transform) { transform in
            let results = ResultBuffer<R>(count: items.count)
            items.withUnsafeBufferPointer { items in
                let shared = UnsafeSendable(items: items, transform: transform)
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    var i = w
                    while i < shared.items.count {
                        results.set(i, shared.transform(shared.items[i]))
                        i += workers
                    }
                }
            }
            return results.values
        }
    }

    /// The input and the closure, shared read-only by the workers of one `map` call,
    /// which returns only after every worker has finished.
    private struct UnsafeSendable<T, R>: @unchecked Sendable {
        let items: UnsafeBufferPointer<T>
        let transform: (T) -> R
    }
}

/// A fixed-size buffer that concurrent workers fill at distinct indices.
private final class ResultBuffer<R>: @unchecked Sendable {
    // Each index is written by exactly one worker and read only after
    // `concurrentPerform` returns. A raw buffer (not an Array property) avoids
    // Swift's exclusivity checks treating distinct-element writes as one access.
    private let storage: UnsafeMutablePointer<R?>
    private let count: Int
    init(count: Int) {
        self.count = count
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil, count: count)
    }
    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }
    func set(_ i: Int, _ r: R) { storage[i] = r }
    var values: [R] { (0..<count).map { storage[$0]! } }
}

/// Entries whose signatures were checked, ready to merge.
public struct VerifiedBatch: Sendable {
    public var valid: [Entry] = []
    /// The key that verified each valid entry, and the founding keys (cards) then.
    public var signers: [EntryID: CityPublicKey] = [:]
    /// The officers each valid entry was judged by (§13).
    public var rolls: [EntryID: OfficerRoll] = [:]
    /// For each verified entry, the state in force after it.
    public var stateAfter: [EntryID: ChainState] = [:]
    public var founding: [CityID: CityPublicKey] = [:]
    /// Entries whose envelope or signature was bad, by their index in the input.
    public var invalid: [(index: Int, error: EntryError)] = []
    public init() {}

    /// The version vector of a node holding `base` and every valid entry here.
    public func vector(after base: VectorClock) -> VectorClock {
        var v = base
        for e in valid where e.seq > v[e.origin] { v[e.origin] = e.seq }
        return v
    }
}

/// What happened to each entry `City.receive` was given.
public struct ReceiveReport: Sendable {
    public let outcome: MergeOutcome
    /// Entries whose envelope or signature was bad, by their index in the input.
    public let invalid: [(index: Int, error: EntryError)]
    /// The acks this city wrote for erasures in the batch (§14).
    public var acknowledged: [Entry] = []

    public var inserted: Int { outcome.inserted.count }
    /// `true` when every entry was inserted or already held.
    public var isClean: Bool { invalid.isEmpty && outcome.refused.isEmpty }
}
