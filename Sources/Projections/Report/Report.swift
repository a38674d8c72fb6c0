import EventStore

/// The file formats of the report (`--format`).
public enum ReportFormat: String, Sendable, CaseIterable {
    case html, md, csv
}

/// What a report is made from besides the view: its form and its provenance.
public struct ReportOptions: Sendable {
    public var format: ReportFormat
    public var language: ReportLanguage
    /// `--as-of` and `--valid-at` as the caller gave them (nil: not given, "now").
    public var asOf: String?
    public var validAt: String?
    /// The tool and its version, e.g. `recoveryctl 0.1.0`.
    public var tool: String
    /// When the report is made, in milliseconds since 1970 (UTC).
    public var generated: Int64

    public init(format: ReportFormat, language: ReportLanguage, asOf: String?, validAt: String?, tool: String, generated: Int64) {
        self.format = format
        self.language = language
        self.asOf = asOf
        self.validAt = validAt
        self.tool = tool
        self.generated = generated
    }
}

/// The evaluation report of SPEC §7.
public enum Report {
    /// The whole document for `view`. Pure: the same view and options give the same
    /// text, byte for byte.
    public static func render(_ view: Ledger.View, options: ReportOptions) throws -> String {
        let model = try ReportModel(view: view, asOf: options.asOf, validAt: options.validAt, tool: options.tool, generated: options.generated)
        return render(model, format: options.format, language: options.language)
    }

    public static func render(_ model: ReportModel, format: ReportFormat, language: ReportLanguage) -> String {
        switch format {
        case .csv: CSVReport.render(model.kpis)
        case .md: MarkdownReport(model: model, labels: ReportLabels(language)).render()
        case .html: HTMLReport(model: model, labels: ReportLabels(language)).render()
        }
    }
}
