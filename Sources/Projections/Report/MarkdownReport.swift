/// The report as Markdown (CommonMark with GitHub's tables): the sections and tables
/// of the HTML report, without the charts.
struct MarkdownReport {
    let model: ReportModel
    let labels: ReportLabels

    func render() -> String {
        let document = ReportDocument(model: model, labels: labels)
        var out: [String] = []
        out.append("# \(MarkdownReport.escape(document.title))")
        out.append(MarkdownReport.escape(labels.subtitle) + ".")
        out.append("**\(MarkdownReport.escape(document.standing)).**")
        out.append(MarkdownReport.escape(labels.howToRead))

        out.append("## \(MarkdownReport.escape(labels.summaryHeading))")
        out.append(grid(columns: [(labels.keyFigure, false), (labels.value, true)],
                         rows: document.keyFigures.map { [$0.label, $0.value] }))

        for section in document.sections {
            out.append("## \(section.number). \(MarkdownReport.escape(section.heading))")
            out.append(MarkdownReport.escape(section.intro))
            for block in section.blocks {
                switch block {
                case .paragraph(let text): out.append(MarkdownReport.escape(text))
                case .subheading(let text): out.append("### \(MarkdownReport.escape(text))")
                case .empty(let text): out.append("*\(MarkdownReport.escape(text))*")
                case .table(let table): out.append(render(table))
                }
            }
        }

        out.append("---")
        out.append(footer())
        return out.joined(separator: "\n\n") + "\n"
    }

    private func render(_ table: ReportDocument.Table) -> String {
        let rows = table.rows.enumerated().map { index, row in
            row.map { cell in
                var text = MarkdownReport.escape(cell.text)
                if let id = cell.id, id != cell.text { text += text.isEmpty ? "`\(id)`" : " (`\(id)`)" }
                return table.totalRows.contains(index) && !text.isEmpty ? "**\(text)**" : text
            }
        }
        return grid(columns: table.columns.map { (MarkdownReport.escape($0.title), $0.numeric) }, rows: rows, escaped: true)
    }

    /// A GitHub table; cells are escaped unless `escaped` says they already are.
    private func grid(columns: [(String, Bool)], rows: [[String]], escaped: Bool = false) -> String {
        var lines = ["| " + columns.map(\.0).joined(separator: " | ") + " |"]
        lines.append("|" + columns.map { $0.1 ? "---:" : "---" }.joined(separator: "|") + "|")
        for row in rows {
            lines.append("| " + row.map { escaped ? $0 : MarkdownReport.escape($0) }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    private func footer() -> String {
        let p = model.provenance
        let l = labels
        return """
            **\(MarkdownReport.escape(l.footerHeading))**

            - \(l.logHead): `\(p.head)`
            - `--as-of`: \(p.asOf.map { "`\($0)`" } ?? l.nowWord)
            - `--valid-at`: \(p.validAt.map { "`\($0)`" } ?? l.nowWord)
            - \(l.timeZone) `\(p.timeZone)`
            - \(l.generatedBy) \(MarkdownReport.escape(p.tool)), \(p.generated)
            - \(MarkdownReport.escape(l.verifyHint)): `recoveryctl verify --expect-head \(p.head)`
            """
    }

    /// Text as literal Markdown: the characters that format, link or end a table cell
    /// are backslash-escaped; line breaks become spaces.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "#", "&":
                out.append("\\")
                out.append(character)
            case "\n", "\r", "\r\n":
                out.append(" ")
            default:
                out.append(character)
            }
        }
        return out
    }
}
