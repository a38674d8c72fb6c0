/// A plain-text table with aligned columns, for human output.
///
/// Widths are counted in `Character`s, so `æ`, `ø` and `å` take one column each. When
/// the table is wider than `width`, the widest column is narrowed one step at a time
/// (down to 3 characters) and its cells are cut with `…`. Columns are separated by two
/// spaces; lines carry no trailing spaces; line breaks and tabs in cells become spaces.
///
///     var table = Table(["SEQ", "TYPE", "STREAM"], alignments: [.right, .left, .left])
///     table.append(["1", "unit.registered", "unit/randers"])
///     Output.write(table.rendered())
struct Table: Sendable {
    enum Alignment: Sendable {
        case left
        case right
    }

    /// The narrowest a column is cut to when the table is too wide.
    static let minimumColumnWidth = 3

    var headers: [String]
    var alignments: [Alignment]
    private(set) var rows: [[String]] = []

    /// A table with these column headers; every column left-aligned unless `alignments`
    /// (one per header) says otherwise.
    init(_ headers: [String], alignments: [Alignment]? = nil) {
        precondition(
            alignments == nil || alignments?.count == headers.count,
            "one alignment per column")
        self.headers = headers
        self.alignments = alignments ?? Array(repeating: .left, count: headers.count)
    }

    /// Adds a row; it must have one cell per column.
    mutating func append(_ row: [String]) {
        precondition(row.count == headers.count, "a row needs \(headers.count) cells, got \(row.count)")
        rows.append(row.map(Self.singleLine))
    }

    var isEmpty: Bool { rows.isEmpty }

    /// The table, header first, each line ended by `\n`. `width: nil` never cuts.
    func rendered(width: Int? = 80) -> String {
        let lines = [headers.map(Self.singleLine)] + rows
        var widths = headers.indices.map { column in
            lines.map { $0[column].count }.max() ?? 0
        }
        if let width {
            let separators = 2 * max(widths.count - 1, 0)
            var total = widths.reduce(0, +) + separators
            while total > width, !widths.isEmpty {
                // The widest column; the rightmost of equals, usually free text.
                var widest = 0
                for column in widths.indices where widths[column] >= widths[widest] {
                    widest = column
                }
                guard widths[widest] > Self.minimumColumnWidth else { break }
                widths[widest] -= 1
                total -= 1
            }
        }
        var text = ""
        for line in lines {
            var cells: [String] = []
            for (column, cell) in line.enumerated() {
                let fitted = Self.truncated(cell, to: widths[column])
                let padding = String(repeating: " ", count: widths[column] - fitted.count)
                cells.append(alignments[column] == .left ? fitted + padding : padding + fitted)
            }
            var joined = cells.joined(separator: "  ")
            while joined.last == " " { joined.removeLast() }
            text += joined + "\n"
        }
        return text
    }

    private static func truncated(_ cell: String, to width: Int) -> String {
        guard cell.count > width else { return cell }
        return String(cell.prefix(max(width - 1, 0))) + "…"
    }

    private static func singleLine(_ cell: String) -> String {
        guard cell.contains(where: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" || $0 == "\t" })
        else { return cell }
        return String(cell.map { $0 == "\n" || $0 == "\r\n" || $0 == "\r" || $0 == "\t" ? " " : $0 })
    }
}
