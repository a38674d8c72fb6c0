import EventStore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Projections
import XCTest

/// The evaluation report (SPEC §7, issue 5): HTML that is well-formed, self-contained
/// and carries the same numbers as `kpi --json`; Markdown and CSV held against golden
/// files in both languages; the `report` command as a user runs it.
final class ReportTests: XCTestCase {
    private var logPath = ""
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(prefix: "report")
        logPath = directory.appending("log").path
        try ReportScenario.write(at: logPath)
    }

    private func render(_ format: ReportFormat, _ language: ReportLanguage, asOf: String? = nil,
                        validAt: String? = ReportScenario.validAt) throws -> String {
        let view = try Ledger(log: EventLog(path: logPath)).view(asOf: asOf, validAt: validAt)
        return try Report.render(view, options: ReportOptions(format: format, language: language, asOf: asOf, validAt: validAt,
                                                          tool: ReportScenario.tool, generated: ReportScenario.generated))
    }

    /// `kpi --json` of the built tool for the same log and times, by `kpi scope period`.
    private func kpiJSON(asOf: String? = nil, validAt: String = ReportScenario.validAt) throws -> [String: KPIRow] {
        var arguments = ["--log", logPath, "kpi", "--json", "--valid-at", validAt]
        if let asOf { arguments += ["--as-of", asOf] }
        let result = runCLI(arguments, cwd: directory.url)
        XCTAssertEqual(result.status, 0, result.stderr)
        guard case .object(let document) = try JSONParser.parse(result.stdout), case .array(let rows)? = document["rows"] else {
            XCTFail("kpi --json printed no rows: \(result.stdout)")
            return [:]
        }
        var byKey: [String: KPIRow] = [:]
        for case .object(let row) in rows {
            let kpi = KPIRow(kpi: row["kpi"]!.stringValue!, scope: row["scope"]!.stringValue!, period: row["period"]?.stringValue,
                             actual: row["actual"]?.integerValue, target: row["target"]?.integerValue, met: row["met"]?.boolValue)
            byKey[Self.key(kpi.kpi, kpi.scope, kpi.period)] = kpi
        }
        return byKey
    }

    private static func key(_ kpi: String, _ scope: String, _ period: String?) -> String { "\(kpi) \(scope) \(period ?? "-")" }

    // MARK: HTML: well-formed and self-contained

    func testEverySVGChartParsesAsXML() throws {
        for language in ReportLanguage.allCases {
            let html = try render(.html, language)
            let charts = Self.svgElements(in: html)
            XCTAssertEqual(charts.count, 6, "one chart per section: staff, training, cadence, handovers, attendance, milestones")
            for svg in charts {
                let parsed = try XMLDocumentReader.parse(svg)
                XCTAssertEqual(parsed.first?.name, "svg")
                XCTAssertTrue(parsed.contains { $0.name == "title" }, "every chart has a title")
            }
        }
    }

    func testTheWholePageIsWellFormedXMLWithLanguageSet() throws {
        for language in ReportLanguage.allCases {
            let elements = try XMLDocumentReader.parse(try render(.html, language))
            XCTAssertEqual(elements.first?.name, "html")
            XCTAssertEqual(elements.first?.attributes["lang"], language.rawValue)
            XCTAssertEqual(elements.filter { $0.name == "style" }.count, 1)
            XCTAssertEqual(elements.filter { $0.name == "figure" }.count, 6)
            // Every chart is followed by the table with its numbers.
            let order = elements.filter { ["figure", "table"].contains($0.name) }.map(\.name)
            for (index, name) in order.enumerated() where name == "figure" {
                XCTAssertEqual(order.dropFirst(index + 1).first, "table", "figure \(index) has no table after it")
            }
        }
    }

    func testTheHTMLHasNoScriptAndNoReferenceOutsideTheFile() throws {
        for language in ReportLanguage.allCases {
            let html = try render(.html, language)
            let lower = html.lowercased()
            for forbidden in ["<script", "http:", "https:", "@import", "<img", "<link", "<iframe", "<object", "<embed", "src=", "javascript:"] {
                XCTAssertFalse(lower.contains(forbidden), "\(language): the page holds \(forbidden)")
            }
            XCTAssertNil(lower.range(of: #"url\((?!#)"#, options: .regularExpression), "a CSS or SVG url() outside the page")
            for element in try XMLDocumentReader.parse(html) {
                for (name, value) in element.attributes where name == "href" || name.hasSuffix(":href") {
                    XCTAssertTrue(value.hasPrefix("#"), "\(element.name) links to \(value)")
                }
                for (name, value) in element.attributes where name.hasPrefix("on") {
                    XCTFail("\(element.name) has an event handler \(name)=\(value)")
                }
            }
            XCTAssertTrue(lower.contains("@media print"), "an A4 print layout")
            XCTAssertTrue(lower.contains("size: a4"))
        }
    }

    func testNamesFromTheLogAreEscaped() throws {
        let html = try render(.html, .en)
        XCTAssertTrue(html.contains("UngeCenteret &lt;unge&gt; &amp; familier"))
        XCTAssertTrue(html.contains("Peer-team &quot;bosteder&quot;"))
        XCTAssertFalse(html.contains("<unge>"))
        let markdown = try render(.md, .en)
        XCTAssertTrue(markdown.contains(#"UngeCenteret \<unge\> \& familier"#))
        XCTAssertTrue(markdown.contains(#"Jobcenter \| UUR"#), "a | would end the table cell")
    }

    // MARK: HTML: the numbers are kpi --json's

    func testEveryNumberInTheChartsAndTablesEqualsKPIJSON() throws {
        for (asOf, validAt) in [(nil, ReportScenario.validAt), (ReportScenario.beforeCorrection, "2021-12-31"), (nil, "2021-06-30")] {
            let rows = try kpiJSON(asOf: asOf, validAt: validAt)
            let html = try render(.html, .en, asOf: asOf, validAt: validAt)
            let elements = try XMLDocumentReader.parse(html)
            var inCharts: Set<String> = [], inTables: Set<String> = []
            for element in elements {
                guard let kpi = element.attributes["data-kpi"], let scope = element.attributes["data-scope"] else { continue }
                let key = Self.key(kpi, scope, element.attributes["data-period"])
                guard let row = rows[key] else {
                    XCTFail("\(element.name) shows \(key), which kpi --json does not have")
                    continue
                }
                if let value = element.attributes["data-value"] {
                    XCTAssertEqual(value, row.actual.map(String.init) ?? "null", "\(element.name) \(key)")
                    if element.ancestors.contains("svg") { inCharts.insert(key) }
                    if ["td", "dd"].contains(element.name) { inTables.insert(key) }
                    if element.name == "td" {
                        XCTAssertEqual(element.text, row.actual.map(ReportLabels(.en).integer) ?? "–", "the cell shows \(key)")
                    }
                }
                if let target = element.attributes["data-target"] {
                    XCTAssertEqual(target, row.target.map(String.init) ?? "null", "\(element.name) \(key) target")
                }
            }
            let venues: Set<String> = ["psykiatriens-hus", "recoveryskolen"]
            for (key, row) in rows {
                XCTAssertTrue(inTables.contains(key), "no table shows \(key) (as of \(asOf ?? "now"), valid at \(validAt))")
                let charted = ["peers.employed", "professionals.employed", "training.participants", "meetings.held"].contains(row.kpi)
                    || row.kpi == "attendance.contacts" && !venues.contains(row.scope)
                if charted { XCTAssertTrue(inCharts.contains(key), "no chart shows \(key)") }
            }
        }
    }

    func testHandoversPerQuarterAddUpToTheHandoverKPIs() throws {
        let rows = try kpiJSON()
        let elements = try XMLDocumentReader.parse(try render(.html, .da))
        func sum(_ series: String, inChart: Bool) -> Int {
            elements.filter { $0.attributes["data-series"] == series && $0.ancestors.contains("svg") == inChart }
                .compactMap { $0.attributes["data-value"].flatMap(Int.init) }.reduce(0, +)
        }
        let started = rows.values.filter { $0.kpi == "handovers.started" }.compactMap(\.actual).reduce(0, +)
        let completed = rows.values.filter { $0.kpi == "handovers.completed" }.compactMap(\.actual).reduce(0, +)
        XCTAssertEqual(started, 5)
        XCTAssertEqual(completed, 3)
        for inChart in [true, false] {
            XCTAssertEqual(sum("started", inChart: inChart), started)
            XCTAssertEqual(sum("completed", inChart: inChart), completed)
        }
        XCTAssertEqual(sum("cancelled", inChart: false), 1)
        let quarters = elements.filter { $0.attributes["data-series"] == "started" && $0.ancestors.contains("svg") }.map { $0.attributes["data-period"]! }
        XCTAssertEqual(quarters, ["2021-Q1", "2021-Q2", "2021-Q3", "2021-Q4", "2022-Q1"], "every quarter from the first to the last, zeros included")
    }

    func testTheCadenceGridMarksKeptMissedAndRunningPeriods() throws {
        let elements = try XMLDocumentReader.parse(try render(.html, .en))
        var status: [String: String] = [:]
        for element in elements where element.name == "rect" && element.attributes["data-kpi"] == "meetings.held" {
            status["\(element.attributes["data-scope"]!) \(element.attributes["data-period"]!)"] = element.attributes["data-status"]
        }
        XCTAssertEqual(status["styregruppe 2020"], "missed")
        XCTAssertEqual(status["styregruppe 2021"], "kept")
        XCTAssertEqual(status["styregruppe 2022"], "running", "3 of 4 in the running year; the retracted meeting does not count")
        XCTAssertEqual(status["implementeringsteam 2021-Q3"], "missed")
        XCTAssertEqual(status["implementeringsteam 2022-Q4"], "running")
        XCTAssertEqual(status["ledermoede 2021-H2"], "missed")
        XCTAssertEqual(status["socialudvalget 2022"], "kept", "reached in the running year")
        XCTAssertEqual(status["lokale-teams 2021"], "noTarget")
    }

    func testMilestonesStandOnTheTimeLineInDateOrder() throws {
        let elements = try XMLDocumentReader.parse(try render(.html, .en))
        let marks = elements.filter { $0.attributes["data-milestone"] != nil }
        XCTAssertEqual(marks.map { $0.attributes["data-milestone"]! }, ["baseline", "interim-1", "final"])
        XCTAssertEqual(try kpiJSON()[Self.key("milestones.reached", "project", nil)]?.actual, marks.count)
        let xs = marks.compactMap { $0.attributes["cx"].flatMap(Double.init) }
        XCTAssertEqual(xs, xs.sorted())
    }

    // MARK: the footer

    func testTheFooterStatesHeadTimesVersionAndGenerationTime() throws {
        let head = try Ledger(log: EventLog(path: logPath)).view().head.description
        for format in [ReportFormat.html, .md] {
            let given = try render(format, .en, asOf: "2022-12-31T23:00:00Z", validAt: "2022-06-30")
            for expected in [head, "2022-12-31T23:00:00Z", "2022-06-30", "recoveryctl 0.1.0", "2022-12-31T12:00:00.000Z", "Europe/Copenhagen",
                             "recoveryctl verify --expect-head \(head)"] {
                XCTAssertTrue(given.contains(expected), "\(format) footer lacks \(expected)")
            }
            XCTAssertTrue(try render(format, .en, validAt: nil).contains("now"))
            XCTAssertTrue(try render(format, .da, validAt: nil).contains("nu"))
        }
        let earlier = try render(.md, .en, asOf: ReportScenario.beforeCorrection)
        let earlierHead = try Ledger(log: EventLog(path: logPath)).view(asOf: ReportScenario.beforeCorrection).head.description
        XCTAssertNotEqual(earlierHead, head)
        XCTAssertTrue(earlier.contains("`\(earlierHead)`"), "under --as-of the head is the last event recorded by then")
    }

    // MARK: golden files

    private static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/report")

    func testMarkdownAndCSVMatchTheGoldenFilesInBothLanguages() throws {
        for language in ReportLanguage.allCases {
            try ReportScenario.checkGolden(try render(.md, language), name: "scenario.\(language.rawValue).md", in: Self.golden)
            try ReportScenario.checkGolden(try render(.csv, language), name: "scenario.\(language.rawValue).csv", in: Self.golden)
        }
    }

    func testTheCSVIsTheKPIRowsWhateverTheLanguage() throws {
        let csv = try render(.csv, .da)
        XCTAssertEqual(csv, try render(.csv, .en), "CSV is data: ids and machine values in both languages")
        let records = csv.components(separatedBy: "\r\n").dropLast()
        XCTAssertEqual(records.first, "kpi,scope,period,actual,target,met")
        let rows = try kpiJSON()
        XCTAssertEqual(records.count - 1, rows.count)
        for record in records.dropFirst() {
            let fields = record.components(separatedBy: ",")
            XCTAssertEqual(fields.count, 6, record)
            let row = rows[Self.key(fields[0], fields[1], fields[2].isEmpty ? nil : fields[2])]
            XCTAssertNotNil(row, record)
            XCTAssertEqual(fields[3], row?.actual.map(String.init) ?? "")
            XCTAssertEqual(fields[4], row?.target.map(String.init) ?? "")
            XCTAssertEqual(fields[5], row?.met.map { $0 ? "true" : "false" } ?? "")
        }
    }

    func testCSVFieldsAreQuotedAsRFC4180Says() {
        XCTAssertEqual(CSVReport.field("plain"), "plain")
        XCTAssertEqual(CSVReport.field("a,b"), "\"a,b\"")
        XCTAssertEqual(CSVReport.field("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(CSVReport.field("two\nlines"), "\"two\nlines\"")
        XCTAssertEqual(CSVReport.record(["a", "b,c", ""]), "a,\"b,c\",\r\n")
    }

    // MARK: languages

    func testDanishAndEnglishNumbersPeriodsAndDates() {
        let da = ReportLabels(.da), en = ReportLabels(.en)
        XCTAssertEqual(da.integer(1234), "1.234")
        XCTAssertEqual(da.integer(1_234_567), "1.234.567")
        XCTAssertEqual(en.integer(1234), "1,234")
        XCTAssertEqual(da.integer(999), "999")
        XCTAssertEqual(da.percent(tenths: 875), "87,5 %")
        XCTAssertEqual(en.percent(tenths: 875), "87.5%")
        XCTAssertEqual(da.percent(tenths: 12345), "1.234,5 %")
        XCTAssertEqual(da.period("2019-H1"), "1. halvår 2019")
        XCTAssertEqual(da.period("2021-Q2"), "2. kvartal 2021")
        XCTAssertEqual(da.period("2019"), "2019")
        XCTAssertEqual(en.period("2019-H1"), "H1 2019")
        XCTAssertEqual(en.period("2019-H1", style: .long), "first half of 2019")
        XCTAssertEqual(en.period("2021-Q2"), "Q2 2021")
        XCTAssertEqual(en.period("2021-Q2", style: .long), "second quarter of 2021")
        XCTAssertEqual(da.date(occurred: "2020-11-03"), "3. november 2020")
        XCTAssertEqual(en.date(occurred: "2020-11-03"), "3 November 2020")
    }

    func testCoverageIsRoundedHalfUpToOneDecimal() throws {
        let model = try ReportModel(view: try Ledger(log: EventLog(path: logPath)).view(validAt: ReportScenario.validAt),
                                asOf: nil, validAt: ReportScenario.validAt, tool: ReportScenario.tool, generated: ReportScenario.generated)
        let coverage = Dictionary(uniqueKeysWithValues: model.coverage.map { ($0.unit, $0.coverageTenths) })
        XCTAssertEqual(coverage["cpi"], 1000, "42 of 42")
        XCTAssertEqual(coverage["sundhedscenteret"], 750, "30 of the target 40 set, not the headcount 45")
        XCTAssertEqual(coverage["recoveryskolen"], .some(nil), "no headcount, no coverage")
        let row = KPIRow(kpi: "training.participants", scope: "x", period: nil, actual: 1, target: 3, met: false)
        XCTAssertEqual(ReportModel.CoverageRow(unit: "x", name: "x", row: row).coverageTenths, 333)
        let half = KPIRow(kpi: "training.participants", scope: "x", period: nil, actual: 1, target: 16, met: false)
        XCTAssertEqual(ReportModel.CoverageRow(unit: "x", name: "x", row: half).coverageTenths, 63, "6.25% rounds to 6.3%")
    }

    func testEveryCatalogWordHasALabelInBothLanguages() {
        for language in ReportLanguage.allCases {
            let l = ReportLabels(language)
            for kpi in Catalog.kpiNames { XCTAssertNotEqual(l.kpi(kpi), kpi, "\(language) \(kpi)") }
            for kind in Catalog.teamKinds { XCTAssertNotEqual(l.teamKind(kind), kind, "\(language) \(kind)") }
            for kind in Catalog.bodyKinds { XCTAssertNotEqual(l.bodyKind(kind), kind, "\(language) \(kind)") }
            for kind in Catalog.trainingKinds { XCTAssertNotEqual(l.trainingKind(kind), kind, "\(language) \(kind)") }
            for role in Catalog.roles { XCTAssertNotEqual(l.role(role), role, "\(language) \(role)") }
            for cadence in Catalog.cadences { XCTAssertNotEqual(l.cadence(cadence), cadence, "\(language) \(cadence)") }
        }
        XCTAssertEqual(ReportLabels(.da).teamKind("some-new-kind"), "some-new-kind", "an unknown kind is shown as its slug")
    }

    func testAnEmptyLogGivesAReportThatSaysSo() throws {
        let empty = directory.appending("empty").path
        try EventLog.create(at: empty)
        let view = try Ledger(log: EventLog(path: empty)).view(validAt: ReportScenario.validAt)
        for format in ReportFormat.allCases {
            for language in ReportLanguage.allCases {
                let text = try Report.render(view, options: ReportOptions(format: format, language: language, asOf: nil, validAt: ReportScenario.validAt,
                                                                      tool: ReportScenario.tool, generated: ReportScenario.generated))
                if format == .html { XCTAssertNoThrow(try XMLDocumentReader.parse(text)) }
                if format == .md { XCTAssertTrue(text.contains(language == .da ? "Ingen overgange registreret." : "No handovers recorded.")) }
                XCTAssertTrue(text.contains("0:" + Event.genesisHash) || format == .csv)
            }
        }
    }

    // MARK: the command

    func testReportWritesTheFileAndSaysSo() throws {
        let out = directory.appending("rapport.html").path
        let env = ["SOURCE_DATE_EPOCH": "1672488000"]
        let result = runCLI(["--log", logPath, "report", "--valid-at", ReportScenario.validAt, "-o", out], env: env, cwd: directory.url)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "Wrote \(out)\n")
        XCTAssertEqual(result.stderr, "")
        let written = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertEqual(written, try render(.html, .da), "the default is HTML in Danish; SOURCE_DATE_EPOCH fixes the time")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).filter { $0.hasPrefix("rapport.html") }
        XCTAssertEqual(leftovers, ["rapport.html"], "no temporary file left behind")
    }

    func testReportJSONNamesTheFileFormatLanguageAndHead() throws {
        let out = directory.appending("report.md").path
        let result = runCLI(["--log", logPath, "--json", "report", "--format", "md", "--lang", "en", "--out", out], cwd: directory.url)
        XCTAssertEqual(result.status, 0, result.stderr)
        let head = try Ledger(log: EventLog(path: logPath)).view().head.description
        XCTAssertEqual(result.stdout, #"{"format":"md","head":"\#(head)","lang":"en","out":"\#(out)"}"# + "\n")
        XCTAssertTrue(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("# Evaluation report\n"))
    }

    func testReportWithoutOutWritesToStandardOutput() throws {
        let result = runCLI(["--log", logPath, "report", "--format", "csv", "--valid-at", ReportScenario.validAt], cwd: directory.url)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, try render(.csv, .en))
    }

    func testReportRefusesAnUnknownFormatAndAnUnwritableFile() throws {
        let format = runCLI(["--log", logPath, "report", "--format", "pdf"], cwd: directory.url)
        XCTAssertEqual(format.status, 2, format.stderr)
        XCTAssertTrue(format.stderr.contains("pdf"), format.stderr)

        let missing = directory.appending("no/such/dir/report.html").path
        let unwritable = runCLI(["--log", logPath, "report", "-o", missing], cwd: directory.url)
        XCTAssertEqual(unwritable.status, 5, unwritable.stderr)
        XCTAssertTrue(unwritable.stderr.contains("cannot write \(missing)"), unwritable.stderr)

        let time = runCLI(["--log", logPath, "report", "--format", "md"], env: ["SOURCE_DATE_EPOCH": "yesterday"], cwd: directory.url)
        XCTAssertEqual(time.status, 1, time.stderr)
    }

    // MARK: helpers

    /// The `<svg>…</svg>` elements of a page, as text.
    private static func svgElements(in html: String) -> [String] {
        var result: [String] = []
        var rest = html[...]
        while let start = rest.range(of: "<svg"), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
            result.append(String(rest[start.lowerBound..<end.upperBound]))
            rest = rest[end.upperBound...]
        }
        return result
    }
}

/// Reads a document with Foundation's `XMLParser` into a flat list of elements, each
/// with its attributes, its text (descendants' included) and its ancestors' names.
final class XMLDocumentReader: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text = ""
        var ancestors: [String]
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private var elements: [Element] = []
    private var open: [Int] = []
    private var failure: String?

    static func parse(_ text: String) throws -> [Element] {
        let reader = XMLDocumentReader()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = reader
        let ok = parser.parse()
        guard ok, reader.failure == nil else {
            throw Failure(description: "not well-formed XML at line \(parser.lineNumber), column \(parser.columnNumber): "
                          + (reader.failure ?? parser.parserError.map { "\($0)" } ?? "unknown error"))
        }
        return reader.elements
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
                attributes attributeDict: [String: String] = [:]) {
        elements.append(Element(name: elementName, attributes: attributeDict, ancestors: open.map { elements[$0].name }))
        open.append(elements.count - 1)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        for index in open { elements[index].text += string }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        failure = "\(parseError)"
    }
}
