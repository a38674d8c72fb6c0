import EventStore

/// A year, half year or quarter: `YYYY`, `YYYY-H1|H2`, `YYYY-Q1…Q4`.
public struct Period: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Length: Sendable, Hashable {
        case year, half, quarter

        var partsPerYear: Int {
            switch self {
            case .year: 1
            case .half: 2
            case .quarter: 4
            }
        }
    }

    public let year: Int
    public let length: Length
    /// 1-based: the half or quarter; 1 for a year.
    public let index: Int

    public init?(year: Int, length: Length, index: Int) {
        guard (1...9999).contains(year), (1...length.partsPerYear).contains(index) else { return nil }
        self.year = year
        self.length = length
        self.index = index
    }

    public init?(_ text: String) {
        let b = Array(text.utf8)
        guard b.count >= 4, let year = Int(String(decoding: b[0..<4], as: UTF8.self)), b[0..<4].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if b.count == 4 { self.init(year: year, length: .year, index: 1); return }
        guard b.count == 7, b[4] == UInt8(ascii: "-"), b[6] >= 0x31, b[6] <= 0x34 else { return nil }
        let index = Int(b[6] - 0x30)
        switch b[5] {
        case UInt8(ascii: "H"): self.init(year: year, length: .half, index: index)
        case UInt8(ascii: "Q"): self.init(year: year, length: .quarter, index: index)
        default: return nil
        }
    }

    /// The period of this length holding `date`.
    public init(containing date: Timestamp.CalendarDate, length: Length) {
        let index = (date.month - 1) / (12 / length.partsPerYear) + 1
        self.init(year: date.year, length: length, index: index)!
    }

    /// `Period(containing: date, length: .quarter).description`, from a table for the
    /// years most dates fall in (a fold names the quarter of every handover).
    static func quarterName(containing date: Timestamp.CalendarDate) -> String {
        let index = (date.year - quarterNamesFrom) * 4 + (date.month - 1) / 3
        guard quarterNames.indices.contains(index) else { return Period(containing: date, length: .quarter).description }
        return quarterNames[index]
    }

    private static let quarterNamesFrom = 1970
    private static let quarterNames: [String] = (quarterNamesFrom..<2200).flatMap { year in
        (1...4).map { Period(year: year, length: .quarter, index: $0)!.description }
    }

    public var next: Period {
        index == length.partsPerYear ? Period(year: year + 1, length: length, index: 1)! : Period(year: year, length: length, index: index + 1)!
    }

    public var description: String {
        switch length {
        case .year: String(year)
        case .half: "\(year)-H\(index)"
        case .quarter: "\(year)-Q\(index)"
        }
    }

    public static func < (a: Period, b: Period) -> Bool {
        // Periods of one length compare by time; mixed lengths fall back to text.
        a.length == b.length ? (a.year, a.index) < (b.year, b.index) : a.description < b.description
    }
}
