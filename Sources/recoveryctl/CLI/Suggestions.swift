import Projections

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
            let distance = Suggest.distance(input, candidate)
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
}
