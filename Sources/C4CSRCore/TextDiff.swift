/// A readable difference between two texts, word by word: what the portal shows between
/// two versions of a practice. Pure and bounded: the texts come from peers (each up to
/// `Practice.maxText` scalars), so the quadratic part runs only on what lies between the
/// common start and the common end, and only up to `maxCells` comparisons; above that
/// the middle is shown as one replacement, which is still exact, only coarser.
public enum TextDiff {
    public enum Segment: Sendable, Hashable {
        case same(String)
        case removed(String)
        case added(String)

        public var text: String {
            switch self {
            case .same(let s), .removed(let s), .added(let s): s
            }
        }
    }

    /// The most token comparisons one difference may make (a table of this many cells).
    public static let maxCells = 160_000

    /// The segments that turn `old` into `new`: the `same` and `removed` texts joined are
    /// `old`, the `same` and `added` texts joined are `new`. A change is a whole word (a
    /// run of non-space characters) or a whole run of spaces; one change between two
    /// unchanged words reads as one removal followed by one addition.
    public static func words(_ old: String, _ new: String, maxCells: Int = maxCells) -> [Segment] {
        if old == new { return old.isEmpty ? [] : [.same(old)] }
        let a = tokens(old), b = tokens(new)
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
        let midA = Array(a[prefix..<(a.count - suffix)]), midB = Array(b[prefix..<(b.count - suffix)])

        var ops: [Op] = a[..<prefix].map { .same($0) }
        // midA.count × midB.count > maxCells, without the product (it could overflow).
        if !midB.isEmpty, midA.count > maxCells / midB.count {
            ops += midA.map { .removed($0) } + midB.map { .added($0) }
        } else {
            ops += commonSubsequence(midA, midB)
        }
        ops += a[(a.count - suffix)...].map { .same($0) }
        return coalesce(ops)
    }

    private enum Op {
        case same(Substring)
        case removed(Substring)
        case added(Substring)

        var isChange: Bool {
            if case .same = self { return false }
            return true
        }
    }

    /// Maximal runs of white space and of everything else, in order.
    static func tokens(_ s: String) -> [Substring] {
        var out: [Substring] = []
        var start = s.startIndex, index = s.startIndex, inSpace: Bool? = nil
        while index < s.endIndex {
            let space = s.unicodeScalars[index].properties.isWhitespace
            if let current = inSpace, current != space {
                out.append(s[start..<index])
                start = index
            }
            inSpace = space
            index = s.unicodeScalars.index(after: index)
        }
        if start < s.endIndex { out.append(s[start...]) }
        return out
    }

    /// The classic longest-common-subsequence table, read back into operations. Tokens
    /// are compared as small integers (each distinct token numbered once).
    private static func commonSubsequence(_ tokensA: [Substring], _ tokensB: [Substring]) -> [Op] {
        let n = tokensA.count, m = tokensB.count
        if n == 0 { return tokensB.map { .added($0) } }
        if m == 0 { return tokensA.map { .removed($0) } }
        var numbers: [Substring: Int32] = [:]
        func number(_ t: Substring) -> Int32 {
            if let k = numbers[t] { return k }
            let k = Int32(numbers.count)
            numbers[t] = k
            return k
        }
        let a = tokensA.map(number), b = tokensB.map(number)
        // lengths[i * (m + 1) + j]: the longest common subsequence of a[i...] and b[j...].
        var lengths = [Int32](repeating: 0, count: (n + 1) * (m + 1))
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                lengths[i * (m + 1) + j] = a[i] == b[j]
                    ? lengths[(i + 1) * (m + 1) + j + 1] + 1
                    : max(lengths[(i + 1) * (m + 1) + j], lengths[i * (m + 1) + j + 1])
            }
        }
        var ops: [Op] = []
        var i = 0, j = 0
        while i < n, j < m {
            if a[i] == b[j] {
                ops.append(.same(tokensA[i])); i += 1; j += 1
            } else if lengths[(i + 1) * (m + 1) + j] >= lengths[i * (m + 1) + j + 1] {
                ops.append(.removed(tokensA[i])); i += 1
            } else {
                ops.append(.added(tokensB[j])); j += 1
            }
        }
        ops += tokensA[i...].map { .removed($0) } + tokensB[j...].map { .added($0) }
        return ops
    }

    /// Joins the operations into segments: unchanged runs as one, and each stretch of
    /// changes as one removal then one addition. White space left unchanged between two
    /// changes of a replacement belongs to it, so that "a b c d" → "a x y d" reads as one
    /// replacement of "b c" by "x y".
    private static func coalesce(_ ops: [Op]) -> [Segment] {
        var segments: [Segment] = []
        var same = "", removed = "", added = ""
        func flushChange() {
            if !removed.isEmpty { segments.append(.removed(removed)) }
            if !added.isEmpty { segments.append(.added(added)) }
            removed = ""; added = ""
        }
        func flushSame() {
            if !same.isEmpty { segments.append(.same(same)) }
            same = ""
        }
        for (k, op) in ops.enumerated() {
            switch op {
            case .same(let t):
                let replacing = !removed.isEmpty && !added.isEmpty
                let changeFollows = ops.indices.contains(k + 1) && ops[k + 1].isChange
                if replacing, changeFollows, t.unicodeScalars.allSatisfy(\.properties.isWhitespace) {
                    removed += t; added += t
                    continue
                }
                flushChange()
                same += t
            case .removed(let t):
                if removed.isEmpty, added.isEmpty { flushSame() }
                removed += t
            case .added(let t):
                if removed.isEmpty, added.isEmpty { flushSame() }
                added += t
            }
        }
        flushChange()
        flushSame()
        return segments
    }
}
