import C4CSRCore
import C4CSRStore
import Foundation
import Synchronization

/// Personal data (docs/PROTOCOL.md §14): sealed fields, erasure, acknowledgement.
extension City {
    /// The fields every practice this city signs seals: the contact names a person.
    public static let alwaysSealed: Set<PersonalField> = [.contact]

    /// The cities expected to confirm an erasure (§14): every city with a card and a key,
    /// and this one unless it is an observer (observers sign nothing, so never confirm).
    public var confirmingMembers: Set<CityID> {
        Set(peers.cards.filter { $0.publicKey != nil }.map(\.city)).union(isObserver ? [] : [id])
    }

    /// `fields` with its personal fields sealed under fresh salts: the contact, the
    /// fields sealed before (revealed with their content), and `personal`. A field sealed
    /// before whose content is gone (erased) is dropped when it is optional, and must be
    /// given anew when it is required.
    public static func seal(_ fields: Practice, personal: Set<PersonalField>) throws -> (Practice, [PersonalField: (salt: [UInt8], value: JSONValue)]) {
        var p = fields
        for f in PersonalField.allCases where p.sealed[f] != nil && !p.revealed.contains(f) {
            switch f {
            case .summary, .challenge:
                throw NodeError.invalidInput("the \(f.rawValue) of this practice was erased, or its content is not held here: give a new \(f.rawValue) (or the whole practice with --file); nothing was written")
            case .area, .contact, .outcomes:
                p.sealed[f] = nil
            }
        }
        return p.sealing(alwaysSealed.union(personal).union(p.sealed.keys))
    }

    /// Erases personal fields of one of this city's practices everywhere (§14): an
    /// `erase` entry, which every node applies — this one in the same transaction (the
    /// content deleted, the search index rebuilt without it, then the write-ahead log
    /// folded in).
    /// - Parameter fields: the personal fields to erase; empty means every one.
    /// - Throws: `NodeError.invalidInput` when no version of the practice seals any of
    ///   them (a field written in clear, before version 2, cannot be erased).
    public func erase(_ practiceID: String, fields: Set<PersonalField> = [], reason: String, dryRun: Bool = false) throws -> Entry {
        try requireWritable()
        let id = try resolve(practiceID)
        let chosen = fields.isEmpty ? Set(PersonalField.allCases) : fields
        let time = now()
        return try appendEntry(dryRun: dryRun) { ctx in
            let record = try self.ownPractice(id, ctx, verb: "erase fields of")
            let (publish, related) = try ctx.entries(of: id)
            let versions = ([publish].compactMap { $0 } + related).filter { $0.kind == .publish || $0.kind == .revise }
            let sealed = chosen.filter { f in versions.contains { PersonalContent.seal(of: f, in: $0) != nil } }
            guard !sealed.isEmpty else {
                throw NodeError.invalidInput("no version of practice \(id.short) seals \(chosen.map(\.rawValue).sorted().joined(separator: ", ")): only sealed fields can be erased (a field signed in clear, by c4csr before version 2, stays in the log); nothing was written")
            }
            let left = sealed.filter { f in versions.contains { PersonalContent.seal(of: f, in: $0) != nil && !record.isErased($0.id, f) } }
            guard !left.isEmpty else {
                throw NodeError.invalidInput("practice \(id.short)'s \(sealed.map(\.rawValue).sorted().joined(separator: ", ")) were already erased (entry \(record.erasures.last?.entry.short ?? "?")); nothing was written")
            }
            let request = ErasureRequest(practice: id, fields: Array(left), reason: reason)
            let entry = try self.sign(kind: .erase, payload: request.payload, ctx, time: time)
            _ = try ErasureRequest(entry: entry)  // as every node will read it (a reason too long: its field named)
            return entry
        }
    }

    /// Acknowledges every valid erasure by another city that this city has applied and
    /// not yet acknowledged (§14): its content is gone from the store, the search index
    /// and free pages (in the erasure's transaction), and the write-ahead log is folded
    /// in first. One `ack` entry per erasure, in one transaction.
    /// - Returns: the acks written (none on an observer or a node without its key).
    @discardableResult
    public func acknowledgeErasures() throws -> [Entry] {
        guard !isObserver, (try? checkCanSign()) != nil else { return [] }
        return try acknowledging.withLock { settled in try acknowledgeErasuresLocked(settled: &settled) }
    }

    private func acknowledgeErasuresLocked(settled: inout Int64) throws -> [Entry] {
        let entries = Int64(try store.count())
        guard entries != settled else { return [] }
        let owed = try store.erasuresOwed(by: id)
        guard !owed.isEmpty else {
            settled = entries
            return []
        }
        guard store.checkpointCompletely() else { return [] }  // a reader holds the old WAL: the next round tries again
        let time = now()
        do {
            return try store.append(count: owed.count, keys: localKeys()) { ctx, i in
                try self.sign(kind: .ack, payload: Acknowledgement(erase: owed[i].erasure, practice: owed[i].practice).payload, ctx, time: time)
            }
        } catch let e as StoreError {
            throw NodeError.io(e.description)
        }
    }
}
