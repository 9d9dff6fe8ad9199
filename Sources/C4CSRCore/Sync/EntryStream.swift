/// A signed entry as it travels: the exact bytes the origin signed, and the signature.
/// Nothing else: every receiver derives the id and fields from `body` itself.
public struct SignedEntry: Sendable, Hashable {
    public let body: [UInt8]
    public let signature: [UInt8]

    public init(body: [UInt8], signature: [UInt8]) {
        self.body = body
        self.signature = signature
    }

    /// Bytes this entry takes in an entry stream.
    public var streamSize: Int { 4 + body.count + signature.count }
}

/// The binary framing of a page of entries in the sync API (docs/PROTOCOL.md §10):
///
///     "C4S1"               4 bytes, magic and version
///     flags                1 byte; bit 0 set: the sender holds more entries for this request
///     count                4 bytes, unsigned big-endian
///     count × {
///       length             4 bytes, unsigned big-endian, 2 … 65,536
///       body               `length` bytes, the signed canonical JSON
///       signature          64 bytes, Ed25519
///     }
///
/// Binary rather than JSON so that the signed bytes travel untouched and no
/// base64 or JSON parsing sits between the wire and signature verification.
public enum EntryStream {
    public static let magic: [UInt8] = Array("C4S1".utf8)
    public static let headerSize = 9
    /// The most entries one stream may hold, whatever the sender's page size.
    public static let maxEntries = ProtocolLimits.maxStreamEntries

    /// Encodes a page. - Parameter more: the sender has more entries for the same request.
    public static func encode(_ entries: [SignedEntry], more: Bool) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(headerSize + entries.reduce(0) { $0 + $1.streamSize })
        out += magic
        out.append(more ? 1 : 0)
        appendUInt32(UInt32(entries.count), to: &out)
        for e in entries {
            appendUInt32(UInt32(e.body.count), to: &out)
            out += e.body
            out += e.signature
        }
        return out
    }

    /// Decodes a page, checking every length against the bytes present before reading.
    /// - Throws: `SyncProtocolError` naming the offset and what is wrong.
    public static func decode(_ bytes: [UInt8], maxEntries: Int = EntryStream.maxEntries) throws(SyncProtocolError) -> (entries: [SignedEntry], more: Bool) {
        guard bytes.count >= headerSize else { throw .malformed("entry stream is \(bytes.count) bytes; the header alone is \(headerSize)") }
        guard Array(bytes[0..<4]) == magic else { throw .malformed("entry stream does not start with \"C4S1\"") }
        let flags = bytes[4]
        guard flags & ~1 == 0 else { throw .malformed("entry stream has unknown flags \(flags)") }
        let count = Int(readUInt32(bytes, at: 5))
        guard count <= maxEntries else { throw .malformed("entry stream announces \(count) entries; the limit is \(maxEntries)") }
        var entries = [SignedEntry]()
        entries.reserveCapacity(count)
        var offset = headerSize
        for i in 0..<count {
            guard bytes.count - offset >= 4 else { throw .malformed("entry stream ends inside the length of entry \(i + 1) of \(count)") }
            let length = Int(readUInt32(bytes, at: offset))
            offset += 4
            guard (2...Entry.maxBodyBytes).contains(length) else {
                throw .malformed("entry \(i + 1) of \(count) has a body of \(length) bytes; allowed: 2 to \(Entry.maxBodyBytes)")
            }
            guard bytes.count - offset >= length + 64 else { throw .malformed("entry stream ends inside entry \(i + 1) of \(count)") }
            entries.append(SignedEntry(body: Array(bytes[offset..<offset + length]), signature: Array(bytes[offset + length..<offset + length + 64])))
            offset += length + 64
        }
        guard offset == bytes.count else { throw .malformed("entry stream has \(bytes.count - offset) bytes after its last entry") }
        return (entries, flags & 1 == 1)
    }

    static func appendUInt32(_ v: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(v >> 24))
        out.append(UInt8((v >> 16) & 0xFF))
        out.append(UInt8((v >> 8) & 0xFF))
        out.append(UInt8(v & 0xFF))
    }

    static func readUInt32(_ b: [UInt8], at i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
}

/// Why a sync message from a peer cannot be read.
public struct SyncProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: String, Sendable, Hashable {
        case malformed = "malformed_message"
        case unsupported = "unsupported_version"
    }
    private let code: Code
    public let message: String
    public var codeName: String { code.rawValue }
    public var description: String { message }

    public static func malformed(_ m: String) -> SyncProtocolError { SyncProtocolError(code: .malformed, message: m) }
    public static func unsupported(_ m: String) -> SyncProtocolError { SyncProtocolError(code: .unsupported, message: m) }
}
