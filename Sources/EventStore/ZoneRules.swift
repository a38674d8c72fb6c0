#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A time zone read from the system's compiled tz database: the TZif file (RFC 8536)
/// `$TZDIR/<identifier>`, else `/usr/share/zoneinfo/<identifier>` (Debian's and the
/// Swift images' `tzdata` package).
///
/// It answers one question, the offset from UTC at an instant: from the file's
/// transitions up to the last one, and after it from the POSIX TZ rule in the file's
/// footer (such as `CET-1CEST,M3.5.0,M10.5.0/3`), so dates after 2037 come out right.
/// Each identifier's file is read once per process.
public struct ZoneRules: Sendable, Equatable, CustomStringConvertible {
    /// The name it was opened by, such as `Europe/Copenhagen`.
    public let identifier: String
    let rules: TZif

    /// UTC, which needs no file.
    public static let utc = ZoneRules(identifier: "UTC", rules: TZif(fixedOffset: 0))

    /// The names that mean UTC and are answered without the database.
    static let utcIdentifiers: Set<String> = ["UTC", "GMT", "Etc/UTC", "Etc/GMT"]

    init(identifier: String, rules: TZif) {
        self.identifier = identifier
        self.rules = rules
    }

    /// The zone the database names `identifier`; nil for a name that is not one (or not
    /// a plain name: `..`, a leading `/` and characters other than letters, digits and
    /// `/_+-` are refused) and when the file is missing or not a TZif file.
    public init?(identifier: String) {
        guard ZoneRules.isPlausibleIdentifier(identifier) else { return nil }
        if ZoneRules.utcIdentifiers.contains(identifier) {
            self.init(identifier: identifier, rules: TZif(fixedOffset: 0))
            return
        }
        guard let rules = ZoneRules.cache.rules(for: identifier) else { return nil }
        self.init(identifier: identifier, rules: rules)
    }

    /// Seconds to add to UTC to get the local time at an instant (seconds since 1970).
    public func secondsFromGMT(atUnixSeconds seconds: Int64) -> Int {
        rules.secondsFromGMT(atUnixSeconds: seconds)
    }

    public var description: String { identifier }

    static func isPlausibleIdentifier(_ identifier: String) -> Bool {
        guard !identifier.isEmpty, !identifier.hasPrefix("/"), !identifier.contains("..") else { return false }
        return identifier.utf8.allSatisfy { c in
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
                || c == UInt8(ascii: "/") || c == UInt8(ascii: "_") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-")
        }
    }

    /// The directory of the database: `$TZDIR` when set, else `/usr/share/zoneinfo`.
    static var databaseDirectory: String {
        if let raw = getenv("TZDIR"), raw.pointee != 0 { return String(cString: raw) }
        return "/usr/share/zoneinfo"
    }

    /// The rules read so far, by identifier (nil: no such zone), for the whole process.
    private static let cache = Cache()

    private final class Cache: @unchecked Sendable {
        private let lock = Lock()
        private var loaded: [String: TZif?] = [:]

        func rules(for identifier: String) -> TZif? {
            lock.withLock {
                if let known = loaded[identifier] { return known }
                let path = "\(ZoneRules.databaseDirectory)/\(identifier)"
                let rules = (try? FileIO.readFile(path)).flatMap(TZif.init(bytes:))
                loaded[identifier] = rules
                return rules
            }
        }
    }
}

/// The contents of a TZif file (RFC 8536) that decide offsets: the transitions, the
/// offset each one starts, the offset before the first, and the footer's rule.
struct TZif: Sendable, Equatable {
    /// Instants (seconds since 1970, ascending) at which the offset changes.
    var transitions: [Int64] = []
    /// The offset from each transition on (seconds east of UTC).
    var offsets: [Int] = []
    /// The offset before the first transition: the first local time type's (RFC 8536 §3.2).
    var initialOffset: Int
    /// The rule after the last transition; nil when the footer is empty (or the file has none).
    var footer: PosixTZ?

    init(fixedOffset: Int) {
        initialOffset = fixedOffset
    }

    init(transitions: [Int64], offsets: [Int], initialOffset: Int, footer: PosixTZ?) {
        self.transitions = transitions
        self.offsets = offsets
        self.initialOffset = initialOffset
        self.footer = footer
    }

    /// Reads a TZif file: the version 2+ data block (64-bit times) and footer when
    /// there is one, else the version 1 block. Nil when it is not a well-formed TZif file.
    init?(bytes: [UInt8]) {
        var reader = Reader(bytes: bytes)
        guard let header = reader.header() else { return nil }
        var block = header
        var timeSize = 4
        if header.version >= 2 {
            guard reader.skip(header.dataSize(timeSize: 4)), let second = reader.header(), second.version >= 2 else { return nil }
            block = second
            timeSize = 8
        }
        guard block.typeCount >= 1, block.charCount >= 1 else { return nil }
        var times: [Int64] = []
        times.reserveCapacity(block.timeCount)
        for _ in 0..<block.timeCount {
            guard let time = timeSize == 8 ? reader.int64() : reader.int32().map(Int64.init) else { return nil }
            if let last = times.last, time <= last { return nil }
            times.append(time)
        }
        var indices: [Int] = []
        for _ in 0..<block.timeCount {
            guard let index = reader.byte(), Int(index) < block.typeCount else { return nil }
            indices.append(Int(index))
        }
        var typeOffsets: [Int] = []
        for _ in 0..<block.typeCount {
            guard let offset = reader.int32(), offset != Int32.min, reader.skip(2) else { return nil }
            typeOffsets.append(Int(offset))
        }
        guard reader.skip(block.charCount + block.leapCount * (timeSize + 4) + block.isStdCount + block.isUTCCount) else { return nil }
        // Version 2+: "\n" TZ string "\n" after the data; an empty string means no rule.
        // A rule this reader does not understand is left out: the transitions still
        // hold, and the last one's offset goes on.
        var footer: PosixTZ?
        if header.version >= 2, reader.byte() == 0x0A, let text = reader.line(), !text.isEmpty {
            footer = PosixTZ(text)
        }
        self.init(transitions: times, offsets: indices.map { typeOffsets[$0] }, initialOffset: typeOffsets[0], footer: footer)
    }

    func secondsFromGMT(atUnixSeconds t: Int64) -> Int {
        guard let first = transitions.first else { return footer?.secondsFromGMT(atUnixSeconds: t) ?? initialOffset }
        if t < first { return initialOffset }
        if t > transitions[transitions.count - 1], let footer { return footer.secondsFromGMT(atUnixSeconds: t) }
        // The last transition at or before t.
        var low = 0, high = transitions.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if transitions[middle] <= t { low = middle } else { high = middle - 1 }
        }
        return offsets[low]
    }

    /// Big-endian fields of a TZif file, read in order.
    private struct Reader {
        let bytes: [UInt8]
        var at = 0

        struct Header {
            var version: Int
            var isUTCCount: Int, isStdCount: Int, leapCount: Int, timeCount: Int, typeCount: Int, charCount: Int

            func dataSize(timeSize: Int) -> Int {
                timeCount * (timeSize + 1) + typeCount * 6 + charCount + leapCount * (timeSize + 4) + isStdCount + isUTCCount
            }
        }

        mutating func header() -> Header? {
            guard at + 44 <= bytes.count, bytes[at..<(at + 4)].elementsEqual("TZif".utf8) else { return nil }
            let v = bytes[at + 4]
            let version = v == 0 ? 1 : (v >= UInt8(ascii: "2") && v <= UInt8(ascii: "9") ? Int(v - UInt8(ascii: "0")) : 0)
            guard version > 0 else { return nil }
            at += 20
            var counts: [Int] = []
            for _ in 0..<6 {
                guard let count = int32(), count >= 0 else { return nil }
                counts.append(Int(count))
            }
            return Header(version: version, isUTCCount: counts[0], isStdCount: counts[1], leapCount: counts[2],
                          timeCount: counts[3], typeCount: counts[4], charCount: counts[5])
        }

        mutating func skip(_ count: Int) -> Bool {
            guard count >= 0, count <= bytes.count - at else { return false }
            at += count
            return true
        }

        mutating func byte() -> UInt8? {
            guard at < bytes.count else { return nil }
            defer { at += 1 }
            return bytes[at]
        }

        mutating func int32() -> Int32? {
            guard at + 4 <= bytes.count else { return nil }
            defer { at += 4 }
            return Int32(bitPattern: bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) })
        }

        mutating func int64() -> Int64? {
            guard at + 8 <= bytes.count else { return nil }
            defer { at += 8 }
            return Int64(bitPattern: bytes[at..<(at + 8)].reduce(0) { $0 << 8 | UInt64($1) })
        }

        /// The bytes up to the next newline (consumed); nil when none follows.
        mutating func line() -> String? {
            guard let end = bytes[at...].firstIndex(of: 0x0A) else { return nil }
            defer { at = end + 1 }
            return String(decoding: bytes[at..<end], as: UTF8.self)
        }
    }
}

/// A POSIX TZ rule as TZif footers carry it (RFC 8536 §3.3, with the version 3
/// extensions): `std offset [dst [offset] [,start[/time],end[/time]]]`, such as
/// `CET-1CEST,M3.5.0,M10.5.0/3`, `<+0530>-5:30` or `IST-1GMT0,M10.5.0,M3.5.0/1`.
struct PosixTZ: Sendable, Equatable {
    /// Standard time's offset (seconds east of UTC; POSIX writes them west, negated).
    var standardOffset: Int
    var daylight: Daylight?

    struct Daylight: Sendable, Equatable {
        /// The offset while it is in force (seconds east of UTC).
        var offset: Int
        /// When it starts, in standard time, and when it ends, in its own time.
        var start: Change
        var end: Change
    }

    /// A day of the year and a time on it (which may be negative or past 24 hours).
    struct Change: Sendable, Equatable {
        enum Day: Sendable, Equatable {
            /// `Jn`: day 1...365, 29 February never counted.
            case julian(Int)
            /// `n`: day 0...365, 29 February counted in leap years.
            case zeroBased(Int)
            /// `Mm.w.d`: weekday d (0 Sunday) of week w (1...5, 5 the last) of month m.
            case month(Int, week: Int, weekday: Int)
        }
        var day: Day
        /// Seconds after that day's local midnight (default 02:00:00).
        var time: Int = 7200

        /// Days since 1970 of the day in `year`.
        func daysSinceEpoch(in year: Int) -> Int {
            let january1 = Timestamp.daysFromCivil(year: year, month: 1, day: 1)
            switch day {
            case .julian(let n):
                return january1 + n - 1 + (Timestamp.isLeapYear(year) && n >= 60 ? 1 : 0)
            case .zeroBased(let n):
                return january1 + n
            case .month(let month, let week, let weekday):
                let first = Timestamp.daysFromCivil(year: year, month: month, day: 1)
                // 1970-01-01 was a Thursday (4).
                let firstWeekday = ((first + 4) % 7 + 7) % 7
                var day = first + (weekday - firstWeekday + 7) % 7 + (week - 1) * 7
                let length = Timestamp.daysIn(month: month, year: year)
                while day >= first + length { day -= 7 }
                return day
            }
        }

        /// The instant (seconds since 1970) of the change in `year`, its time read with `offset`.
        func instant(in year: Int, offset: Int) -> Int64 {
            Int64(daysSinceEpoch(in: year)) * 86_400 + Int64(time) - Int64(offset)
        }
    }

    /// Parses a rule; nil for text that is not one.
    init?(_ text: String) {
        var p = Parser(bytes: Array(text.utf8))
        guard p.name(), let std = p.offset(maxHours: 24) else { return nil }
        standardOffset = -std
        if p.atEnd {
            daylight = nil
            return
        }
        guard p.name() else { return nil }
        var dstOffset = standardOffset + 3600
        if !p.atEnd && p.peek != UInt8(ascii: ",") {
            guard let offset = p.offset(maxHours: 24) else { return nil }
            dstOffset = -offset
        }
        let start: Change, end: Change
        if p.atEnd {
            // No rule given: the default of tzcode (and POSIX's example), the US rules.
            start = Change(day: .month(3, week: 2, weekday: 0))
            end = Change(day: .month(11, week: 1, weekday: 0))
        } else {
            guard p.take(","), let s = p.change(), p.take(","), let e = p.change(), p.atEnd else { return nil }
            start = s
            end = e
        }
        daylight = Daylight(offset: dstOffset, start: start, end: end)
    }

    func secondsFromGMT(atUnixSeconds t: Int64) -> Int {
        guard let daylight else { return standardOffset }
        let year = Timestamp.CalendarDate(daysSinceEpoch: Int(Timestamp.floorDiv(t, 86_400))).year
        // The latest change at or before t, among those of the year before, this one and
        // the next (changes may be dated up to a week into a neighbouring year). Where an
        // end and a start fall on the same instant (daylight time all year), the start
        // counts as the later.
        var latest: (instant: Int64, order: Int, offset: Int)?
        for y in (year - 1)...(year + 1) {
            let changes = [(daylight.end.instant(in: y, offset: daylight.offset), 0, standardOffset),
                           (daylight.start.instant(in: y, offset: standardOffset), 1, daylight.offset)]
            for change in changes where change.0 <= t {
                if let current = latest, (current.instant, current.order) >= (change.0, change.1) { continue }
                latest = change
            }
        }
        return latest?.offset ?? standardOffset
    }

    private struct Parser {
        let bytes: [UInt8]
        var at = 0

        var atEnd: Bool { at == bytes.count }
        var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

        mutating func take(_ character: Character) -> Bool {
            guard let c = peek, c == character.asciiValue else { return false }
            at += 1
            return true
        }

        /// A zone abbreviation: three or more letters, or `<…>` of letters, digits, `+` and `-`.
        mutating func name() -> Bool {
            let start = at
            if take("<") {
                while let c = peek, c != UInt8(ascii: ">") {
                    guard isAlphanumeric(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") else { return false }
                    at += 1
                }
                guard at - start - 1 >= 3, take(">") else { return false }
                return true
            }
            while let c = peek, isLetter(c) { at += 1 }
            return at - start >= 3
        }

        /// `[+-]hh[:mm[:ss]]` in seconds, with hours up to `maxHours`.
        mutating func offset(maxHours: Int) -> Int? {
            var sign = 1
            if take("-") { sign = -1 } else { _ = take("+") }
            guard let hours = number(maxDigits: 3), hours <= maxHours else { return nil }
            var seconds = hours * 3600
            if take(":") {
                guard let minutes = number(maxDigits: 2), minutes <= 59 else { return nil }
                seconds += minutes * 60
                if take(":") {
                    guard let s = number(maxDigits: 2), s <= 59 else { return nil }
                    seconds += s
                }
            }
            return sign * seconds
        }

        /// `Jn`, `n` or `Mm.w.d`, and `/time` (version 3: -167 to 167 hours).
        mutating func change() -> Change? {
            var change: Change
            if take("J") {
                guard let n = number(maxDigits: 3), (1...365).contains(n) else { return nil }
                change = Change(day: .julian(n))
            } else if take("M") {
                guard let m = number(maxDigits: 2), (1...12).contains(m), take("."),
                      let w = number(maxDigits: 1), (1...5).contains(w), take("."),
                      let d = number(maxDigits: 1), (0...6).contains(d) else { return nil }
                change = Change(day: .month(m, week: w, weekday: d))
            } else {
                guard let n = number(maxDigits: 3), (0...365).contains(n) else { return nil }
                change = Change(day: .zeroBased(n))
            }
            if take("/") {
                guard let time = offset(maxHours: 167) else { return nil }
                change.time = time
            }
            return change
        }

        mutating func number(maxDigits: Int) -> Int? {
            let start = at
            var value = 0
            while let c = peek, c >= 0x30, c <= 0x39, at - start < maxDigits {
                value = value * 10 + Int(c - 0x30)
                at += 1
            }
            return at > start ? value : nil
        }

        private func isLetter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
        private func isAlphanumeric(_ c: UInt8) -> Bool { isLetter(c) || (c >= 0x30 && c <= 0x39) }
    }
}
