/// Every bound the protocol puts on what a peer, a file or the command line may hand a
/// node, in one place (docs/PROTOCOL.md §11). Each is enforced where the value is
/// decoded, with a stable error code, so that no later computation sees a value it
/// could overflow on, or a count it would allocate without bound for.
///
/// Arithmetic budget: a clock has at most `maxClockComponents` components, each at most
/// `maxInteger` (2⁵³ − 1), so a clock's sum is below 2⁶¹ and never overflows `Int64`.
/// Sums over peer-supplied heads are saturating (`Int64.addingSaturating`).
public enum ProtocolLimits {
    /// The largest integer any JSON message or body carries: 2⁵³ − 1 (§2).
    public static let maxInteger: Int64 = JSONValue.maxSafeInteger
    /// The largest entry body, in bytes.
    public static let maxBodyBytes = 64 * 1024
    /// The deepest JSON nesting in an entry body.
    public static let maxBodyDepth = 12
    /// The most components one vector clock may have. A clock names at most one
    /// component per city; the network has ten, and this leaves room for it to grow
    /// while keeping every clock sum far from `Int64`'s range.
    public static let maxClockComponents = 256
    /// The most heads one heads message may carry (one per origin, more only at a
    /// forked top), and the most components of a pull request's `have`.
    public static let maxHeads = 10_000
    /// The most ids one `POST /v1/entries` request may name, and the most entries a
    /// fork list may carry.
    public static let maxIDs = 1_000
    /// The most entries one `POST /v1/content` may name, and the most contents one
    /// `POST /v1/content/push` may carry (§10, §14).
    public static let maxContentItems = 1_000
    /// The most contents one answer to `POST /v1/content` may carry (five fields of each
    /// entry asked for).
    public static let maxContentAnswer = 5_000
    /// The most bytes of one content answer or content push (the client pages below it).
    public static let maxContentBytes = 16 << 20
    /// The most bytes of one content message as sent: the contents and the JSON around them.
    public static let maxContentMessageBytes = maxContentBytes + (1 << 20)
    /// The most entries one entry stream may carry.
    public static let maxStreamEntries = 50_000
    /// The most chain links a sync round walks back to fetch a fork's evidence.
    public static let maxWalkBack = 256
    /// The most entries a walk-back may buffer before it merges them.
    public static let maxWalkBackEntries = 4_096
    /// Equivocation evidence: the most entries kept at one (origin, seq). Two prove the
    /// equivocation; more would only let one member grow every node's log and heads.
    public static let maxEntriesPerPosition = 2
    /// The most forked positions kept per origin: enough to show a member equivocated,
    /// few enough that heads and fork lists stay far below `maxHeads`.
    public static let maxForkedPositionsPerOrigin = 16
    /// The most officers enrolled in one chain at once (§13): a city has a handful; the
    /// bound keeps the roll every node folds and stores small.
    public static let maxOfficers = 64
}

extension Int64 {
    /// `self + other`, clamped to `Int64.max` / `Int64.min` instead of trapping.
    @inlinable
    public func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        if !overflow { return sum }
        return other > 0 ? .max : .min
    }
}
