
/// The KPI rows as CSV (RFC 4180): the header `kpi,scope,period,actual,target,met`,
/// one record per row in `kpi --json` order, CRLF line ends.
///
/// The values are the machine values of `kpi --json` (ids, `2019-H1`, integers,
/// `true`/`false`, an empty field for null) in either language, so a spreadsheet or a
/// script reads the same file whoever asked for it.
public enum CSVReport {
    public static let header = ["kpi", "scope", "period", "actual", "target", "met"]

    public static func render(_ rows: [KPIRow]) -> String {
        var out = record(header)
        for row in rows {
            out += record([row.kpi, row.scope, row.period ?? "", row.actual.map(String.init) ?? "",
                           row.target.map(String.init) ?? "", row.met.map { $0 ? "true" : "false" } ?? ""])
        }
        return out
    }

    static func record(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    /// A field, quoted when it holds a comma, a quote or a line break; quotes doubled.
    static func field(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return value }
        var quoted = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            if scalar == "\"" { quoted.append(scalar) }
            quoted.append(scalar)
        }
        return "\"" + String(quoted) + "\""
    }
}
