import Testing
@testable import C4CSRCore

@Suite struct TextDiffTests {
    private func old(_ s: [TextDiff.Segment]) -> String {
        s.map { if case .added = $0 { "" } else { $0.text } }.joined()
    }
    private func new(_ s: [TextDiff.Segment]) -> String {
        s.map { if case .removed = $0 { "" } else { $0.text } }.joined()
    }
    private func changedWords(_ s: [TextDiff.Segment]) -> Int {
        s.reduce(0) { n, seg in
            if case .same = seg { return n }
            return n + TextDiff.tokens(seg.text).filter { !$0.allSatisfy(\.isWhitespace) }.count
        }
    }

    @Test func oneWordReplacedReadsAsOneChange() {
        let d = TextDiff.words("Schools open their yards to the neighbourhood.", "Schools open their gardens to the neighbourhood.")
        #expect(d == [.same("Schools open their "), .removed("yards"), .added("gardens"), .same(" to the neighbourhood.")])
    }

    @Test func aReplacementOfSeveralWordsIsOneStretch() {
        let d = TextDiff.words("a b c d", "a x y d")
        #expect(d == [.same("a "), .removed("b c"), .added("x y"), .same(" d")])
    }

    @Test func insertionsAndDeletionsKeepTheRest() {
        #expect(TextDiff.words("alpha gamma", "alpha beta gamma") == [.same("alpha "), .added("beta "), .same("gamma")])
        #expect(TextDiff.words("alpha beta gamma", "alpha gamma") == [.same("alpha "), .removed("beta "), .same("gamma")])
        #expect(TextDiff.words("", "new text") == [.added("new text")])
        #expect(TextDiff.words("old text", "") == [.removed("old text")])
        #expect(TextDiff.words("same", "same") == [.same("same")])
        #expect(TextDiff.words("", "").isEmpty)
    }

    @Test func anyScriptAndLineBreaksAreWordsAndSpaces() {
        let d = TextDiff.words("Зелени училищни дворове\nза всички", "Зелени градини\nза всички")
        #expect(d == [.same("Зелени "), .removed("училищни дворове"), .added("градини"), .same("\nза всички")])
    }

    /// Over random pairs of texts (edits of one another and unrelated ones), the segments
    /// rebuild both texts, and where the table is within bounds the words marked changed
    /// are exactly those outside a longest common subsequence of words and spaces.
    @Test(arguments: 0..<60) func segmentsRebuildBothTextsAndChangeTheFewestWords(seed: UInt64) {
        var rng = SeededRNG(seed: seed)
        let vocabulary = ["a", "b", "c", "dva", "τρία", "quatre", "5", "é", "x-y", "\u{301}"]
        let spaces = [" ", "  ", "\n", "\t", " \n"]
        func text(_ n: Int) -> [String] {
            (0..<n).flatMap { i in [vocabulary.randomElement(using: &rng)!] + (i + 1 < n ? [spaces.randomElement(using: &rng)!] : []) }
        }
        let a = text(Int.random(in: 0...30, using: &rng))
        var b = a
        for _ in 0..<Int.random(in: 0...6, using: &rng) {
            let i = Int.random(in: 0...b.count, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0 where i < b.count: b.remove(at: i)
            case 1 where i < b.count: b[i] = vocabulary.randomElement(using: &rng)!
            default: b.insert(contentsOf: [vocabulary.randomElement(using: &rng)!, " "], at: i)
            }
        }
        if seed % 5 == 0 { b = text(Int.random(in: 0...30, using: &rng)) }
        let oldText = a.joined(), newText = b.joined()
        for cells in [TextDiff.maxCells, 4] {
            let d = TextDiff.words(oldText, newText, maxCells: cells)
            #expect(old(d) == oldText, "seed \(seed), cells \(cells)")
            #expect(new(d) == newText, "seed \(seed), cells \(cells)")
            #expect(!d.contains { $0.text.isEmpty })
        }
        // Fewest changes: the changed tokens are those outside a longest common subsequence.
        let ta = TextDiff.tokens(oldText), tb = TextDiff.tokens(newText)
        let d = TextDiff.words(oldText, newText)
        let changedTokens = d.reduce(0) { n, s in
            if case .same = s { return n }
            return n + TextDiff.tokens(s.text).count
        }
        // A coalesced stretch may split or join space tokens, so count within one token per stretch.
        let stretches = d.filter { if case .same = $0 { false } else { true } }.count
        let lcs = lcsLength(ta, tb)
        #expect(abs(changedTokens - (ta.count + tb.count - 2 * lcs)) <= 2 * stretches, "seed \(seed)")
        #expect(changedWords(d) <= ta.count + tb.count - 2 * lcs, "seed \(seed)")
    }

    @Test func aDifferenceAboveTheBoundIsOneReplacementOfTheMiddle() {
        let words = (0..<5000).map { "w\($0)" }
        let a = (["Start"] + words + ["end."]).joined(separator: " ")
        let b = (["Start"] + words.reversed() + ["end."]).joined(separator: " ")
        let d = TextDiff.words(a, b)
        #expect(old(d) == a && new(d) == b)
        guard d.count == 4, case .same("Start ") = d[0], case .removed = d[1], case .added = d[2], case .same(" end.") = d[3] else {
            Issue.record("expected one replacement between the common start and end, got \(d.count) segments")
            return
        }
    }

    private func lcsLength(_ a: [Substring], _ b: [Substring]) -> Int {
        var row = [Int](repeating: 0, count: b.count + 1)
        for x in a {
            var diagonal = 0
            for j in 1...max(1, b.count) where j <= b.count {
                let above = row[j]
                row[j] = x == b[j - 1] ? diagonal + 1 : max(row[j], row[j - 1])
                diagonal = above
            }
        }
        return row[b.count]
    }
}

@Suite struct PracticeChangeTests {
    @Test func aRevisionListsWhatItChangedFieldByField() {
        let a = samplePractice("Green schoolyards")
        var b = a
        b.title.en = "Green schoolyards for all"
        b.status = .completed
        b.sdgs = a.sdgs + [17]
        let changes = PracticeChange.between(a, b)
        #expect(changes.map(\.field) == [.titleEnglish, .status, .sdgs])
        #expect(changes[0].difference == .text([.same("Green schoolyards"), .added(" for all")]))
        #expect(changes[1].difference == .value(old: a.status.rawValue, new: "completed"))
        #expect(PracticeChange.between(a, a).isEmpty)
    }

    @Test func aSealedFieldWithoutItsContentShowsOnlyThatItChanged() {
        var a = samplePractice(), b = samplePractice()
        a.contact = ""; b.contact = ""
        a.sealed[.contact] = Seal(field: .contact, salt: [UInt8](repeating: 1, count: 16), value: .string("ana@example.org"))
        b.sealed[.contact] = Seal(field: .contact, salt: [UInt8](repeating: 2, count: 16), value: .string("ivo@example.org"))
        #expect(PracticeChange.between(a, b).map(\.difference) == [.sealed])
        #expect(PracticeChange.between(a, b).map(\.field) == [.contact])
        // With both contents in place, the text itself.
        a.contact = "ana@example.org"; a.revealed = [.contact]
        b.contact = "ivo@example.org"; b.revealed = [.contact]
        #expect(PracticeChange.between(a, b).map(\.difference) == [.text([.removed("ana@example.org"), .added("ivo@example.org")])])
    }
}
