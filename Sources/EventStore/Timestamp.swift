#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The two clocks of SPEC §2: `recorded` (UTC, milliseconds, set by the store) and
/// `occurred` (a plain date, or a date-time with `Z` or an offset).
///
/// Instants are milliseconds since 1970-01-01T00:00:00Z. Plain dates are placed in a
/// time zone by the caller: the start of the day for `occurred`, the end of the day
/// for `--as-of` and `--valid-at` (SPEC §4).
public enum Timestamp {
    /// A calendar date with real-date checking (29 February only in leap years).
    public struct CalendarDate: Sendable, Equatable, Comparable, Hashable, CustomStringConvertible {
        public let year: Int, month: Int, day: Int

        public init?(year: Int, month: Int, day: Int) {
            guard (1...9999).contains(year), (1...12).contains(month),
                  day >= 1, day <= Timestamp.daysIn(month: month, year: year) else { return nil }
            self.year = year
            self.month = month
            self.day = day
        }

        /// Parses exactly `YYYY-MM-DD`.
        public init?(_ text: some StringProtocol) {
            guard text.utf8.count == 10, let date = Timestamp.withUTF8(text, { CalendarDate(bytes: $0, at: 0) }) else { return nil }
            self = date
        }

        /// `YYYY-MM-DD` at `start` of `b` (which may go on after it).
        init?(bytes b: UnsafeBufferPointer<UInt8>, at start: Int) {
            guard b.count >= start + 10, b[start + 4] == UInt8(ascii: "-"), b[start + 7] == UInt8(ascii: "-"),
                  let y = Timestamp.digits(b, start, 4), let m = Timestamp.digits(b, start + 5, 2), let d = Timestamp.digits(b, start + 8, 2)
            else { return nil }
            self.init(year: y, month: m, day: d)
        }

        /// Days since 1970-01-01 (proleptic Gregorian).
        public var daysSinceEpoch: Int { Timestamp.daysFromCivil(year: year, month: month, day: day) }

        public init(daysSinceEpoch z0: Int) {
            let z = z0 + 719468
            let era = (z >= 0 ? z : z - 146096) / 146097
            let doe = z - era * 146097
            let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
            let mp = (5 * doy + 2) / 153
            let d = doy - (153 * mp + 2) / 5 + 1
            let m = mp < 10 ? mp + 3 : mp - 9
            year = yoe + era * 400 + (m <= 2 ? 1 : 0)
            month = m
            day = d
        }

        public var description: String {
            func pad(_ v: Int, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
            return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
        }

        public static func < (a: CalendarDate, b: CalendarDate) -> Bool {
            (a.year, a.month, a.day) < (b.year, b.month, b.day)
        }
    }

    /// Days since 1970-01-01 of a date (proleptic Gregorian; not checked), by Howard
    /// Hinnant's days_from_civil.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // MARK: recorded

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for an instant.
    public static func recordedString(millis: Int64) -> String {
        let days = Int(floorDiv(millis, 86_400_000))
        let msOfDay = Int(millis - Int64(days) * 86_400_000)
        let date = CalendarDate(daysSinceEpoch: days)
        let h = msOfDay / 3_600_000, mi = msOfDay / 60_000 % 60, s = msOfDay / 1000 % 60, ms = msOfDay % 1000
        func pad(_ v: Int, _ w: Int) -> String { let t = String(v); return String(repeating: "0", count: max(0, w - t.count)) + t }
        return "\(date)T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2)).\(pad(ms, 3))Z"
    }

    /// Now, in milliseconds since the epoch.
    public static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    static func isValidRecorded(bytes raw: UnsafeRawBufferPointer) -> Bool { millis(ofRecorded: raw) != nil }

    static func isValidOccurred(bytes raw: UnsafeRawBufferPointer) -> Bool {
        let b = raw.bindMemory(to: UInt8.self)
        if b.count == 10 { return CalendarDate(bytes: b, at: 0) != nil }
        return parseOffsetDateTime(bytes: b) != nil
    }

    public static func isValidRecorded(_ text: String) -> Bool {
        withUTF8(text) { isValidRecorded(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// The instant of a `recorded` string; nil when it is not one.
    public static func millis(ofRecorded text: String) -> Int64? {
        withUTF8(text) { millis(ofRecorded: UnsafeRawBufferPointer($0)) }
    }

    /// `millis(ofRecorded:)` of a value's bytes: `YYYY-MM-DDTHH:MM:SS.mmmZ`, parsed once.
    static func millis(ofRecorded raw: UnsafeRawBufferPointer) -> Int64? {
        let b = raw.bindMemory(to: UInt8.self)
        guard b.count == 24, b[23] == UInt8(ascii: "Z"), b[19] == UInt8(ascii: "."),
              let fraction = digits(b, 20, 3), let seconds = parseDateTime(b) else { return nil }
        return seconds + Int64(fraction)
    }

    // MARK: occurred

    public static func isValidOccurred(_ text: String) -> Bool {
        CalendarDate(text) != nil || parseOffsetDateTime(text) != nil
    }

    /// The calendar date an `occurred` value falls on: the date itself, or the date of a
    /// date-time in the offset it was written with (SPEC §5 counts days between these).
    public static func calendarDate(ofOccurred text: String) -> CalendarDate? {
        if let date = CalendarDate(text) { return date }
        guard parseOffsetDateTime(text) != nil else { return nil }
        return CalendarDate(text.prefix(10))
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` into an instant.
    public static func parseOffsetDateTime(_ text: String) -> Int64? {
        guard text.utf8.count >= 20 else { return nil }
        return withUTF8(text) { parseOffsetDateTime(bytes: $0) }
    }

    static func parseOffsetDateTime(bytes b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count >= 20, let base = parseDateTime(b) else { return nil }
        var i = 19
        var millis: Int64 = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            guard i > start, i - start <= 9 else { return nil }
            let fraction = b[start..<i].prefix(3).reduce(0) { $0 * 10 + Int64($1 - 0x30) }
            millis = fraction * Int64([100, 10, 1][min(i - start, 3) - 1])
        }
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "Z") {
            return i + 1 == b.count ? base + millis : nil
        }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), b.count == i + 6, b[i + 3] == UInt8(ascii: ":"),
              let oh = digits(b, i + 1, 2), let om = digits(b, i + 4, 2), oh <= 23, om <= 59 else { return nil }
        let offset = Int64(oh * 60 + om) * 60_000 * (b[i] == UInt8(ascii: "+") ? 1 : -1)
        return base + millis - offset
    }

    // MARK: time zones

    /// The instant a wall-clock time in `zone` names: the earlier one in a repeated hour;
    /// for a time the clocks skip, the time read with the offset before the skip, so a
    /// skipped midnight (summer time starting at 00:00) gives the day's first instant.
    public static func millis(of date: CalendarDate, secondsIntoDay: Int, in zone: ZoneRules) -> Int64 {
        let local = Int64(date.daysSinceEpoch) * 86_400 + Int64(secondsIntoDay)
        func offset(_ seconds: Int64) -> Int64 { Int64(zone.secondsFromGMT(atUnixSeconds: seconds)) }
        // With the offsets in force a day before and a day after, each candidate is the
        // local time read in one of them; a candidate is right when its own offset agrees.
        let candidates = [local - offset(local - 86_400), local - offset(local + 86_400)]
        let matching = candidates.filter { $0 + offset($0) == local }
        return (matching.min() ?? candidates.max()!) * 1000
    }

    /// The first millisecond of a day in `zone`.
    public static func startOfDay(_ date: CalendarDate, in zone: ZoneRules) -> Int64 {
        millis(of: date, secondsIntoDay: 0, in: zone)
    }

    /// The last millisecond of a day in `zone`.
    public static func endOfDay(_ date: CalendarDate, in zone: ZoneRules) -> Int64 {
        millis(of: CalendarDate(daysSinceEpoch: date.daysSinceEpoch + 1), secondsIntoDay: 0, in: zone) - 1
    }

    /// The calendar date of an instant in `zone`.
    public static func calendarDate(ofMillis millis: Int64, in zone: ZoneRules) -> CalendarDate {
        let seconds = floorDiv(millis, 1000)
        let offset = Int64(zone.secondsFromGMT(atUnixSeconds: seconds))
        return CalendarDate(daysSinceEpoch: Int(floorDiv(seconds + offset, 86_400)))
    }

    // MARK: helpers

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    /// Calls `body` with the UTF-8 of `text`, in place when it is contiguous.
    @inline(__always)
    static func withUTF8<T>(_ text: some StringProtocol, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(text.utf8).withUnsafeBufferPointer(body)
    }

    static func digits(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int? {
        guard start + count <= b.count else { return nil }
        var value = 0
        for i in start..<(start + count) {
            guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
            value = value * 10 + Int(b[i] - 0x30)
        }
        return value
    }

    /// `YYYY-MM-DDTHH:MM:SS` at the start of `b` (which may go on after it) as UTC milliseconds.
    static func parseDateTime(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count >= 19, b[10] == UInt8(ascii: "T"), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let date = CalendarDate(bytes: b, at: 0),
              let h = digits(b, 11, 2), let m = digits(b, 14, 2), let s = digits(b, 17, 2),
              h <= 23, m <= 59, s <= 59 else { return nil }
        return (Int64(date.daysSinceEpoch) * 86_400 + Int64(h * 3600 + m * 60 + s)) * 1000
    }
}
