/// "Did you mean …?" for a mistyped command or option name.
enum Suggestions {
    /// The candidate closest to `input`, if close enough: within an edit distance of 1
    /// (2 for inputs of four characters or more, a transposition counting as one
    /// edit), or, failing that, a candidate `input` is a prefix of. Ties go to the
    /// earlier candidate.
    static func closest(to input: String, among candidates: [String]) -> String? {
        guard !input.isEmpty else { return nil }
        let limit = input.count >= 4 ? 2 : 1
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(input, candidate)
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        if let best { return best.candidate }
        if input.count >= 2 {
            return candidates.first { $0.hasPrefix(input) }
        }
        return nil
    }

    /// The optimal-string-alignment distance: insertions, deletions, substitutions and
    /// transpositions of neighbours each cost 1. Counted in `Character`s.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previousPrevious[j - 2] + 1)
                }
                current[j] = value
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
