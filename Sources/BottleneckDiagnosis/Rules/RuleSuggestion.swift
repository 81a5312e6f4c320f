/// "Did you mean …" for metric names, keys, functions and selectors.
enum RuleSuggestion {
    /// The candidate with the smallest edit distance, if that distance is at most a third
    /// of the name's length (at least 1, at most 4): beyond that a suggestion misleads.
    static func closest(to name: String, in candidates: some Sequence<String>) -> String? {
        let limit = min(4, max(1, name.count / 3))
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(Array(name.unicodeScalars), Array(candidate.unicodeScalars))
            if distance <= limit, best == nil || distance < best!.1 {
                best = (candidate, distance)
            }
        }
        return best?.0
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previous2[j - 2] + 1)
                }
                current[j] = value
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }

    /// ` (did you mean "x"?)` or the empty string.
    static func hint(_ suggestion: String?, prefix: String = "") -> String {
        guard let suggestion else { return "" }
        return " (did you mean \"\(prefix)\(suggestion)\"?)"
    }
}
