import EventStore

/// One row of SPEC §5's KPI table.
public struct KPIRow: Sendable, Equatable {
    public var kpi: String
    public var scope: String
    public var period: String?
    public var actual: Int?
    public var target: Int?
    public var met: Bool?

    /// `object` with `rows` as its member `rows`, in canonical form, one row's tree at a time.
    public static func encode(_ rows: [KPIRow], in object: JSONObject) -> [UInt8] {
        var out: [UInt8] = []
        // A row takes about 110 bytes; a little more, so the buffer is not grown (copied) near the end.
        out.reserveCapacity(rows.count * 128 + 256)
        CanonicalJSON.encode(object, array: "rows", count: rows.count, into: &out) { index, out in
            rows[index].encode(into: &out)
        }
        return out
    }

    /// `object` with its member `rows` already encoded (`encodedArray`).
    public static func encode(encodedRows rows: [UInt8], in object: JSONObject) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows.count + 256)
        CanonicalJSON.encode(object, member: "rows", into: &out) { $0.append(contentsOf: rows) }
        return out
    }

    /// The canonical array of `rows`.
    static func encodedArray(_ rows: [KPIRow]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows.count * 128 + 2)
        CanonicalJSON.encodeArray(count: rows.count, into: &out) { rows[$0].encode(into: &$1) }
        return out
    }

    /// The rows of an array `encodedArray` made, read by the strict parser; nil when the
    /// bytes are not such an array.
    static func decodeArray(_ bytes: [UInt8]) -> [KPIRow]? {
        guard case .array(let values)? = try? JSONParser.parse(bytes, integersOnly: true) else { return nil }
        var rows: [KPIRow] = []
        rows.reserveCapacity(values.count)
        for value in values {
            guard let row = value.objectValue, let kpi = row["kpi"]?.stringValue, let scope = row["scope"]?.stringValue else { return nil }
            rows.append(KPIRow(kpi: kpi, scope: scope, period: row["period"]?.stringValue, actual: row["actual"]?.integerValue,
                               target: row["target"]?.integerValue, met: row["met"]?.boolValue))
        }
        return rows
    }

    /// Appends the canonical form of `json` without building its tree (a tree, and the
    /// sort of its members, for each of some hundred thousand rows was a tenth of a cold
    /// `kpi`). The members are written in RFC 8785's order, which their names fix; a
    /// test compares the two encodings.
    func encode(into out: inout [UInt8]) {
        func optional(_ value: Int?) {
            if let value { CanonicalJSON.appendInteger(value, into: &out) } else { out.append(contentsOf: "null".utf8) }
        }
        out.append(contentsOf: #"{"actual":"#.utf8)
        optional(actual)
        out.append(contentsOf: #","kpi":"#.utf8)
        CanonicalJSON.appendString(kpi, into: &out)
        out.append(contentsOf: #","met":"#.utf8)
        out.append(contentsOf: (met.map { $0 ? "true" : "false" } ?? "null").utf8)
        out.append(contentsOf: #","period":"#.utf8)
        if let period { CanonicalJSON.appendString(period, into: &out) } else { out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: #","scope":"#.utf8)
        CanonicalJSON.appendString(scope, into: &out)
        out.append(contentsOf: #","target":"#.utf8)
        optional(target)
        out.append(UInt8(ascii: "}"))
    }

    public var json: JSONValue {
        func optional(_ v: Int?) -> JSONValue { v.map(JSONValue.integer) ?? .null }
        return .object(JSONObject([
            "kpi": .string(kpi), "scope": .string(scope), "period": period.map(JSONValue.string) ?? .null,
            "actual": optional(actual), "target": optional(target), "met": met.map(JSONValue.bool) ?? .null,
        ]))
    }
}

/// What the KPI rows of every fold share.
enum KPI {
    /// `rows` sorted by kpi, scope and period (none first), as `String`'s `<` orders them.
    /// Each distinct string is ranked once and the rows sorted by their ranks: comparing
    /// strings a million times over was most of the sort at a hundred thousand rows.
    static func sortedByKPIScopeAndPeriod(_ rows: [KPIRow]) -> [KPIRow] {
        func ranks(_ strings: some Sequence<String>) -> [String: Int] {
            Dictionary(uniqueKeysWithValues: Set(strings).sorted().enumerated().map { ($1, $0) })
        }
        let kpis = ranks(rows.lazy.map(\.kpi)), scopes = ranks(rows.lazy.map(\.scope)), periods = ranks(rows.lazy.map { $0.period ?? "" })
        let keyed = rows.map { row in (kpis[row.kpi]!, scopes[row.scope]!, periods[row.period ?? ""]!) }
        return rows.indices.sorted { keyed[$0] < keyed[$1] }.map { rows[$0] }
    }
}
