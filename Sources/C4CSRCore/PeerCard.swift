/// A city as the network knows it (invariant 8): who it is and how to verify it.
///
/// Cards are TOML files (see `Peers/README.md`). A card without `public_key` names
/// a partner city that has not onboarded yet: it is listed, but its entries cannot
/// be verified. The network part (`endpoint`, `tls_pin`) is used by `serve` and `sync`.
/// An observer's card (`role = "observer"`) has a pin and never a key: it may read
/// the network log and signs nothing.
public struct PeerCard: Sendable, Hashable {
    /// What a card's holder is in the network.
    public enum Role: String, Sendable, Hashable {
        /// A city of the network: it signs entries with its `public_key`.
        case member
        /// A node that reads the network log and signs nothing (a coordinator, an
        /// auditor, a secretariat): cities serve its pulls and refuse its pushes.
        case observer
    }

    public var city: CityID
    /// English name ("Sofia").
    public var name: String
    /// Name in the city's language ("София"); may equal `name`.
    public var localName: String
    /// ISO 3166-1 alpha-2 country code ("BG").
    public var country: String
    /// BCP 47 language of the city's practices ("bg").
    public var language: String
    public var publicKey: CityPublicKey?
    /// `https://host:port` where the city's daemon listens.
    public var endpoint: String?
    /// `sha256//BASE64`: SHA-256 of the city's TLS certificate public key (SPKI DER).
    public var tlsPin: String?
    /// `member` unless the card says `role = "observer"`.
    public var role: Role

    public var isObserver: Bool { role == .observer }
    /// A member this node can run rounds with: it has an endpoint, a TLS pin and a key.
    public var isSyncable: Bool { endpoint != nil && tlsPin != nil && publicKey != nil && !isObserver }

    public init(
        city: CityID, name: String, localName: String, country: String, language: String,
        publicKey: CityPublicKey? = nil, endpoint: String? = nil, tlsPin: String? = nil, role: Role = .member
    ) {
        self.city = city
        self.name = name
        self.localName = localName
        self.country = country
        self.language = language
        self.publicKey = publicKey
        self.endpoint = endpoint
        self.tlsPin = tlsPin
        self.role = role
    }

    static let keys: Set<String> = ["format", "city", "name", "local_name", "country", "language", "public_key", "endpoint", "tls_pin", "role"]
    public static let format = "c4csr-card/1"

    /// Reads a card from TOML or JSON text (JSON when it starts with `{`).
    /// - Throws: `ValidationErrors`, each naming the key (and line, for TOML).
    public static func parse(_ text: String) throws(ValidationErrors) -> PeerCard {
        let value: JSONValue
        var lines: [String: Int] = [:]
        if text.drop(while: { $0.isWhitespace }).first == "{" {
            do { value = try JSONParser.parse(text) } catch { throw ValidationErrors([FieldError("", "not valid JSON: \(error)")]) }
        } else {
            do {
                let doc = try TOMLParser.parse(text)
                value = doc.value
                lines = doc.lines
            } catch {
                throw ValidationErrors([FieldError("", "not valid TOML: \(error)")])
            }
        }
        do {
            return try PeerCard(json: value)
        } catch {
            throw ValidationErrors(error.errors.map { e in
                lines[e.field].map { FieldError("line \($0): \(e.field)", e.problem) } ?? e
            })
        }
    }

    public init(json: JSONValue) throws(ValidationErrors) {
        var r = FieldReader(json: json, path: "")
        if let f = json["format"], f.stringValue != PeerCard.format {
            r.fail("format", "must be \"\(PeerCard.format)\"")
        }
        let cityText = r.string("city", required: true, max: 32)
        var city: CityID?
        if let cityText {
            city = CityID(cityText)
            if city == nil { r.fail("city", "\"\(cityText)\" is not a city id (\(CityID.rule))") }
        }
        let name = r.string("name", required: true, max: 100) ?? ""
        let localName = r.string("local_name", required: false, max: 100) ?? name
        let country = r.string("country", required: true, max: 2) ?? ""
        if !country.isEmpty, !(country.count == 2 && country.allSatisfy { $0.isASCII && $0.isUppercase }) {
            r.fail("country", "must be an ISO 3166-1 alpha-2 code such as \"BG\"")
        }
        let language = r.string("language", required: true, max: 35) ?? ""
        if !language.isEmpty, !Practice.isLanguageTag(language) { r.fail("language", "must be a BCP 47 tag such as \"bg\"") }
        var key: CityPublicKey?
        if let k = r.string("public_key", required: false, max: 64) {
            key = CityPublicKey(base64: k)
            if key == nil { r.fail("public_key", "must be the base64 of a 32-byte Ed25519 public key that is not weak (small order or non-canonical)") }
        }
        let endpoint = r.string("endpoint", required: false, max: 200)
        if let endpoint, !endpoint.hasPrefix("https://") { r.fail("endpoint", "must start with https://") }
        let pin = r.string("tls_pin", required: false, max: 60)
        if let pin, !(pin.hasPrefix("sha256//") && pin.count == 52) {
            r.fail("tls_pin", "must be sha256// followed by 44 base64 characters")
        }
        var role = Role.member
        if let text = r.string("role", required: false, max: 20) {
            if let known = Role(rawValue: text) { role = known } else { r.fail("role", "must be \"member\" or \"observer\" (got \"\(text)\")") }
        }
        if role == .observer, key != nil {
            r.fail("public_key", "an observer's card carries no public_key: an observer signs nothing")
        }
        r.rejectUnknown(allowed: PeerCard.keys)
        guard r.errors.isEmpty, let city else { throw ValidationErrors(r.errors) }
        self.init(
            city: city, name: name, localName: localName, country: country, language: language, publicKey: key, endpoint: endpoint,
            tlsPin: pin, role: role)
    }

    /// The card as TOML, commented for the person who receives it.
    public var toml: String {
        var s = """
            # c4csr peer card: give this file to the other cities; keep your keys private.
            format = \(TOMLWriter.string(PeerCard.format))
            city = \(TOMLWriter.string(city.rawValue))
            name = \(TOMLWriter.string(name))
            local_name = \(TOMLWriter.string(localName))
            country = \(TOMLWriter.string(country))
            language = \(TOMLWriter.string(language))

            """
        if role == .observer {
            s += "# An observer: it reads the network log and signs nothing (no public_key).\nrole = \"observer\"\n"
        } else if let publicKey {
            s += "# Ed25519 key that signs this city's entries (base64 of 32 bytes).\npublic_key = \(TOMLWriter.string(publicKey.base64))\n"
        } else {
            s += "# public_key = \"…\"  (filled in when the city onboards: run `c4csr init`)\n"
        }
        if let endpoint { s += "endpoint = \(TOMLWriter.string(endpoint))\n" }
        if let tlsPin { s += "tls_pin = \(TOMLWriter.string(tlsPin))\n" }
        return s
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "format": .string(PeerCard.format), "city": .string(city.rawValue), "name": .string(name),
            "local_name": .string(localName), "country": .string(country), "language": .string(language),
        ]
        if let publicKey { o["public_key"] = .string(publicKey.base64) }
        if let endpoint { o["endpoint"] = .string(endpoint) }
        if let tlsPin { o["tls_pin"] = .string(tlsPin) }
        // Absent for a member, so a member's card reads the same to a node that predates roles.
        if role == .observer { o["role"] = .string(role.rawValue) }
        return .object(o)
    }
}
