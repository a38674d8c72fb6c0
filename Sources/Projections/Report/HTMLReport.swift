/// The report as one self-contained HTML5 file: inline CSS with an A4 print layout,
/// charts as inline SVG drawn here, every chart followed by a table of its numbers.
///
/// No scripts and no references outside the file (no URLs, fonts or images), so it
/// reads the same offline, in a mail attachment or an archive. The page is also
/// well-formed XML (see `Markup`). A number that is a KPI carries its row in
/// `data-kpi`, `data-scope`, `data-period` and `data-value` / `data-target`, on the
/// chart's shapes and in the tables alike, so a test can hold both against `kpi --json`.
struct HTMLReport {
    let model: ReportModel
    let labels: ReportLabels

    func render() -> String {
        let document = ReportDocument(model: model, labels: labels)
        var page = Markup()
        page.raw("<!DOCTYPE html>")
        page.open("html", ["lang": labels.language.rawValue])
        page.open("head")
        page.empty("meta", ["charset": "utf-8"])
        page.empty("meta", ["name": "viewport", "content": "width=device-width, initial-scale=1"])
        page.empty("meta", ["name": "generator", "content": model.provenance.tool])
        page.element("title", [:], "\(document.title) – \(document.standing)")
        page.open("style")
        page.raw(HTMLReport.css)
        page.close("style", inline: true)
        page.close("head")

        page.open("body")
        masthead(document, into: &page)
        var counter = Counter()
        page.open("main")
        for section in document.sections {
            render(section, counter: &counter, into: &page)
        }
        page.close("main")
        footer(into: &page)
        page.close("body")
        page.close("html")
        return page.text + "\n"
    }

    // MARK: parts

    private func masthead(_ document: ReportDocument, into page: inout Markup) {
        page.open("header", ["class": "masthead"])
        page.element("p", ["class": "kicker"], labels.subtitle)
        page.element("h1", [:], document.title)
        page.element("p", ["class": "standing"], document.standing)
        page.close("header")

        page.open("section", ["class": "summary", "aria-labelledby": "summary-heading"])
        page.element("h2", ["id": "summary-heading"], labels.summaryHeading)
        page.open("dl", ["class": "figures"])
        for figure in document.keyFigures {
            page.open("div", ["class": "figure"])
            page.element("dt", [:], figure.label)
            page.element("dd", [
                "data-kpi": figure.binding?.kpi, "data-scope": figure.binding?.scope,
                "data-value": figure.binding?.actual.map(String.init), "data-target": figure.binding?.target.map(String.init),
            ], figure.value)
            page.close("div")
        }
        page.close("dl")
        page.element("p", ["class": "how"], labels.howToRead)
        page.open("nav", ["class": "contents", "aria-label": labels.contentsHeading])
        page.open("ol")
        for section in document.sections {
            page.open("li")
            page.element("a", ["href": "#\(section.id)"], section.heading)
            page.close("li", inline: true)
        }
        page.close("ol")
        page.close("nav")
        page.close("section")
    }

    /// Numbers figures and tables through the document.
    private struct Counter {
        var figures = 0
        var tables = 0
    }

    private func render(_ section: ReportDocument.Section, counter: inout Counter, into page: inout Markup) {
        page.open("section", ["id": section.id, "class": "part"])
        // The heading, its introduction and the first chart stay on one printed page.
        page.open("div", ["class": "keep"])
        page.element("h2", [:], "\(section.number). \(section.heading)")
        page.element("p", ["class": "intro"], section.intro)
        var keeping = true
        for block in section.blocks {
            switch block {
            case .paragraph(let text): page.element("p", [:], text)
            case .subheading(let text): page.element("h3", [:], text)
            case .empty(let text): page.element("p", ["class": "empty"], text)
            case .table(let table):
                if let chart = table.chart {
                    counter.figures += 1
                    figure(chart, number: counter.figures, into: &page)
                }
                if keeping {
                    page.close("div")
                    keeping = false
                }
                counter.tables += 1
                render(table, number: counter.tables, into: &page)
            }
        }
        if keeping { page.close("div") }
        page.close("section")
    }

    private func figure(_ chart: ReportDocument.Chart, number: Int, into page: inout Markup) {
        let caption = "\(labels.figureWord) \(number). \(chartTitle(chart))"
        let charts = Charts(model: model, labels: labels, titleID: "figure-\(number)-title", title: caption)
        page.open("figure", ["class": "chart", "id": "figure-\(number)"])
        page.raw("\n" + charts.svg(chart))
        page.element("figcaption", [:], caption)
        page.close("figure")
    }

    private func chartTitle(_ chart: ReportDocument.Chart) -> String {
        switch chart {
        case .staff: labels.staffFigure
        case .coverage: labels.coverageFigure
        case .cadence: labels.cadenceFigure
        case .handovers: labels.handoversFigure
        case .attendance: labels.attendanceFigure
        case .milestones: labels.milestonesFigure
        }
    }

    private func render(_ table: ReportDocument.Table, number: Int, into page: inout Markup) {
        page.open("div", ["class": "table-wrap"])
        page.open("table", ["class": "data"])
        page.element("caption", [:], "\(labels.tableWord) \(number). \(table.caption)")
        page.open("thead")
        page.open("tr")
        for column in table.columns {
            page.element("th", ["scope": "col", "class": column.numeric ? "num" : nil], column.title)
        }
        page.close("tr")
        page.close("thead")
        page.open("tbody")
        for (index, row) in table.rows.enumerated() {
            page.open("tr", ["class": table.totalRows.contains(index) ? "total" : nil])
            for (column, cell) in row.enumerated() {
                self.cell(cell, header: column == 0, into: &page)
            }
            page.close("tr")
        }
        page.close("tbody")
        page.close("table")
        page.close("div")
    }

    private func cell(_ cell: ReportDocument.Cell, header: Bool, into page: inout Markup) {
        var attributes = ""
        if header { attributes += Markup.render(["scope": "row"]) }
        if cell.numeric { attributes += Markup.render(["class": "num"]) } else if cell.nowrap { attributes += Markup.render(["class": "nowrap"]) }
        if let (row, field) = cell.binding {
            attributes += Markup.render(["data-kpi": row.kpi, "data-scope": row.scope, "data-period": row.period])
            switch field {
            case .actual: attributes += Markup.render(["data-value": row.actual.map(String.init) ?? "null"])
            case .target: attributes += Markup.render(["data-target": row.target.map(String.init) ?? "null"])
            }
        }
        for (key, value) in cell.data { attributes += " data-\(key)=\"\(Markup.escape(value))\"" }
        let name = header ? "th" : "td"
        var content = Markup.escape(cell.text)
        if let id = cell.id, id != cell.text {
            content += "<span class=\"id\">\(Markup.escape(id))</span>"
        }
        page.raw("\n<\(name)\(attributes)>\(content)</\(name)>")
    }

    private func footer(into page: inout Markup) {
        let p = model.provenance
        let l = labels
        page.open("footer", ["class": "provenance"])
        page.element("h2", [:], l.footerHeading)
        page.open("dl")
        func item(_ term: String, _ value: String, code: Bool) {
            page.open("div")
            page.element("dt", [:], term)
            if code {
                page.raw("\n<dd><code>\(Markup.escape(value))</code></dd>")
            } else {
                page.element("dd", [:], value)
            }
            page.close("div")
        }
        item(l.logHead, p.head, code: true)
        item("--as-of", p.asOf ?? l.nowWord, code: p.asOf != nil)
        item("--valid-at", p.validAt ?? l.nowWord, code: p.validAt != nil)
        item(l.timeZone, p.timeZone, code: false)
        item(l.generatedBy, p.tool, code: false)
        item(l.generatedAt, p.generated, code: true)
        page.close("dl")
        page.open("p")
        page.raw("\(Markup.escape(l.verifyHint)): <code>recoveryctl verify --expect-head \(Markup.escape(p.head))</code>")
        page.close("p", inline: true)
        page.close("footer")
    }

    // MARK: style

    /// The page's only style sheet. No `<`, `&` or URL in it.
    static let css = """

        :root { --ink: #1d2733; --muted: #5b6b7b; --rule: #d5dde6; --soft: #f3f6f9; --accent: #1f4e79; }
        * { box-sizing: border-box; }
        html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
        body { margin: 0 auto; max-width: 860px; padding: 28px 32px 40px; color: var(--ink); background: #fff;
          font: 14px/1.45 "Helvetica Neue", Helvetica, Arial, "Liberation Sans", "DejaVu Sans", sans-serif; }
        h1 { font-size: 28px; line-height: 1.15; margin: 2px 0 6px; color: var(--accent); }
        h2 { font-size: 19px; margin: 30px 0 6px; padding-top: 12px; border-top: 2px solid var(--accent); }
        h3 { font-size: 15px; margin: 20px 0 6px; }
        p { margin: 6px 0 10px; }
        .kicker { margin: 0; color: var(--muted); text-transform: uppercase; letter-spacing: .06em; font-size: 12px; }
        .standing { margin: 0 0 14px; font-size: 15px; }
        .masthead { border-bottom: 1px solid var(--rule); padding-bottom: 8px; }
        .summary h2 { border-top: none; margin-top: 14px; padding-top: 0; font-size: 15px; color: var(--muted);
          text-transform: uppercase; letter-spacing: .05em; }
        .figures { display: grid; grid-template-columns: repeat(3, 1fr); gap: 10px; margin: 8px 0 12px; }
        .figure { display: flex; flex-direction: column-reverse; justify-content: flex-end; background: var(--soft); border-left: 4px solid var(--accent); padding: 8px 12px; }
        .figure dd { margin: 0; font-size: 22px; font-weight: 700; font-variant-numeric: tabular-nums; }
        .figure dt { margin: 0; color: var(--muted); font-size: 12.5px; }
        .how { color: var(--muted); font-size: 13px; }
        .contents ol { margin: 4px 0 0; padding-left: 20px; columns: 2; font-size: 13px; }
        .contents a { color: var(--accent); text-decoration: none; }
        .intro { color: var(--muted); }
        .empty { font-style: italic; color: var(--muted); }
        figure.chart { margin: 10px 0 6px; }
        figure.chart svg { display: block; width: 100%; height: auto; }
        figcaption, caption { font-size: 12.5px; color: var(--muted); text-align: left; padding: 4px 0; }
        figcaption { font-style: italic; }
        .table-wrap { overflow-x: auto; }
        table.data { border-collapse: collapse; width: 100%; margin: 4px 0 16px; font-size: 13px; }
        table.data th, table.data td { padding: 4px 8px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
        table.data thead th { background: var(--soft); border-bottom: 2px solid var(--rule); font-weight: 600; }
        table.data tbody th { font-weight: 500; }
        table.data .nowrap { white-space: nowrap; }
        table.data .num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
        table.data tr.total th, table.data tr.total td { font-weight: 700; border-top: 2px solid var(--rule); }
        table.data .id { display: block; color: var(--muted); font-size: 11px; font-weight: 400;
          font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
        code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
        footer.provenance { margin-top: 32px; padding-top: 10px; border-top: 1px solid var(--rule); color: var(--muted); font-size: 12.5px; }
        footer.provenance h2 { border: none; font-size: 14px; margin: 0 0 6px; padding: 0; color: var(--ink); }
        footer.provenance dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 8px; }
        footer.provenance dl div { display: contents; }
        footer.provenance dt { font-weight: 600; }
        footer.provenance dd { margin: 0; }
        @page { size: A4; margin: 16mm 14mm 18mm; }
        @media print {
          body { max-width: none; padding: 0; font-size: 9.5pt; }
          h1 { font-size: 20pt; }
          h2 { font-size: 13pt; break-after: avoid; page-break-after: avoid; }
          h3 { break-after: avoid; page-break-after: avoid; }
          figure.chart, .figures, tr, .keep { break-inside: avoid; page-break-inside: avoid; }
          section.part { break-before: auto; }
          .contents { display: none; }
          .table-wrap { overflow: visible; }
          table.data { font-size: 8.5pt; }
          thead { display: table-header-group; }
          footer.provenance { break-inside: avoid; }
        }

        """
}
