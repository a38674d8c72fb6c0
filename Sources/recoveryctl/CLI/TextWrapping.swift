extension StringProtocol where SubSequence == Substring {
    /// Wraps at spaces to `columns` characters, indenting every non-empty line by
    /// `indent`; existing line breaks are kept. A word longer than a line stays whole.
    ///
    /// The same algorithm as swift-argument-parser's help, so the help text breaks
    /// where its users expect.
    func wrapped(to columns: Int, indent: Int = 0) -> String {
        let width = Swift.max(columns - indent, 1)
        var lines: [Substring] = []
        var current = startIndex
        while true {
            let chunk = self[current...].prefix(width)
            if let lastBreak = chunk.lastIndex(of: "\n") {
                lines.append(
                    contentsOf: self[current..<lastBreak].split(
                        separator: "\n", omittingEmptySubsequences: false))
                current = index(after: lastBreak)
            } else if chunk.endIndex == endIndex {
                lines.append(self[current...])
                break
            } else if let lastSpace = chunk.lastIndex(of: " ") {
                lines.append(self[current..<lastSpace])
                current = index(after: lastSpace)
            } else if let nextSpace = self[current...].firstIndex(of: " ") {
                lines.append(self[current..<nextSpace])
                current = index(after: nextSpace)
            } else {
                lines.append(self[current...])
                break
            }
        }
        let padding = String(repeating: " ", count: indent)
        return lines.map { $0.isEmpty ? "" : padding + $0 }.joined(separator: "\n")
    }
}

/// Joins `items` with spaces into lines of at most `columns` characters (an item
/// longer than a line gets a line of its own); lines after the first start with
/// `continuationIndent` spaces.
func packed(_ items: [String], columns: Int, continuationIndent: Int) -> String {
    var lines: [String] = []
    var line = ""
    for item in items {
        if line.isEmpty {
            line = item
        } else if line.count + 1 + item.count <= columns {
            line += " " + item
        } else {
            lines.append(line)
            line = String(repeating: " ", count: continuationIndent) + item
        }
    }
    if !line.isEmpty { lines.append(line) }
    return lines.joined(separator: "\n")
}
