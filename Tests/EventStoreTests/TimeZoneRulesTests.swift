@testable import EventStore
import Foundation
import XCTest

/// `ZoneRules` (the system's tz database, read without Foundation) against Foundation's
/// `TimeZone` (ICU's copy of the same database) as the oracle, and its POSIX footer
/// rules on their own.
final class TimeZoneRulesTests: XCTestCase {
    /// Zones with something to get wrong: ordinary European and American summer time,
    /// none (UTC, Kolkata), the southern hemisphere (São Paulo, Lord Howe with its
    /// 30-minute summer time, Chatham at +12:45/+13:45, Apia which skipped 30 December
    /// 2011 and dropped summer time in 2021), negative summer time in tzdata (Dublin)
    /// and a zone that changed its standard time in 2023 (Nuuk).
    static let zones = ["Europe/Copenhagen", "UTC", "America/New_York", "America/Sao_Paulo", "Australia/Lord_Howe",
                        "Asia/Kolkata", "Europe/Dublin", "Pacific/Apia", "America/Nuuk", "Pacific/Chatham"]

    static let from: Int64 = 0  // 1970-01-01
    static let until: Int64 = 4_102_444_800  // 2100-01-01

    /// The years a zone is compared over. ICU's data and the system's tzdata are
    /// different releases; where they genuinely disagree, the comparison is narrowed
    /// here, with the reason.
    static func range(of zone: String) -> Range<Int64> {
        from..<until
    }

    private func zones() throws -> [(String, ZoneRules, Foundation.TimeZone)] {
        try Self.zones.map { name in
            (name, try XCTUnwrap(ZoneRules(identifier: name), name), try XCTUnwrap(Foundation.TimeZone(identifier: name), name))
        }
    }

    private func oracle(_ zone: Foundation.TimeZone, _ seconds: Int64) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    private func utc(_ seconds: Int64) -> String { Timestamp.recordedString(millis: seconds * 1000) }

    /// Every 7 h 13 min (so the sample walks through every time of day) from 1970 to 2100.
    func testOffsetsAgreeWithFoundationFrom1970To2100() throws {
        for (name, ours, icu) in try zones() {
            var mismatches = 0
            var t = Self.range(of: name).lowerBound
            while t < Self.range(of: name).upperBound {
                let expected = oracle(icu, t), actual = ours.secondsFromGMT(atUnixSeconds: t)
                if expected != actual {
                    mismatches += 1
                    if mismatches <= 5 { XCTFail("\(name) at \(utc(t)): \(actual), Foundation says \(expected)") }
                }
                t += 7 * 3600 + 13 * 60
            }
            XCTAssertEqual(mismatches, 0, name)
        }
    }

    /// Around every change of offset (found by either side, to the second), at the
    /// second before and the second of it and at every hour for two days either side.
    func testOffsetsAgreeAroundEveryTransition() throws {
        for (name, ours, icu) in try zones() {
            let range = Self.range(of: name)
            var transitions = 0, mismatches = 0
            func check(_ t: Int64) {
                let expected = oracle(icu, t), actual = ours.secondsFromGMT(atUnixSeconds: t)
                if expected != actual {
                    mismatches += 1
                    if mismatches <= 5 { XCTFail("\(name) at \(utc(t)): \(actual), Foundation says \(expected)") }
                }
            }
            let step: Int64 = 6 * 3600
            var t = range.lowerBound
            while t + step < range.upperBound {
                let next = t + step
                for offset in [{ self.oracle(icu, $0) }, { ours.secondsFromGMT(atUnixSeconds: $0) }] as [(Int64) -> Int]
                where offset(t) != offset(next) {
                    // The first second with the new offset.
                    var low = t, high = next
                    while high - low > 1 {
                        let middle = (low + high) / 2
                        if offset(middle) == offset(t) { low = middle } else { high = middle }
                    }
                    transitions += 1
                    check(high - 1)
                    check(high)
                    for hour in -48...48 { check(high + Int64(hour) * 3600) }
                }
                t = next
            }
            XCTAssertEqual(mismatches, 0, name)
            if name != "UTC" && name != "Asia/Kolkata" { XCTAssertGreaterThan(transitions, 10, name) }
        }
    }

    func testTheLogsZoneKnowsSummerTime() throws {
        let copenhagen = try XCTUnwrap(ZoneRules(identifier: "Europe/Copenhagen"))
        XCTAssertEqual(copenhagen.identifier, "Europe/Copenhagen")
        XCTAssertEqual(copenhagen.secondsFromGMT(atUnixSeconds: 1_625_054_400), 7200)  // 2021-06-30T12:00Z
        XCTAssertEqual(copenhagen.secondsFromGMT(atUnixSeconds: 1_609_502_400), 3600)  // 2021-01-01T12:00Z
        // 2050, long after the file's last transition: from the footer's rule.
        XCTAssertEqual(copenhagen.secondsFromGMT(atUnixSeconds: 2_540_462_400), 7200)  // 2050-07-01T12:00Z
    }

    // MARK: identifiers

    func testNamesThatAreNotPlainZoneNamesAreRefused() {
        for bad in ["", "../etc/passwd", "Europe/../UTC", "/usr/share/zoneinfo/UTC", "/etc/localtime", "Europe/Copen hagen",
                    "Europe/Copenhagen\n", "zone.tab", "Europe\\Copenhagen", "Europe/Copenhagen\u{0}", "Europe/København"] {
            XCTAssertNil(ZoneRules(identifier: bad), bad)
        }
    }

    func testAZoneWithoutAFileIsNone() {
        XCTAssertNil(ZoneRules(identifier: "Mars/Olympus_Mons"))
        XCTAssertNil(ZoneRules(identifier: "Europe"), "a directory of the database is not a zone")
        XCTAssertNil(ZoneRules(identifier: "iso3166"))
    }

    func testUTCNeedsNoFile() throws {
        for name in ["UTC", "GMT", "Etc/UTC", "Etc/GMT"] {
            let zone = try XCTUnwrap(ZoneRules(identifier: name), name)
            XCTAssertEqual(zone.identifier, name)
            XCTAssertEqual(zone.secondsFromGMT(atUnixSeconds: 1_625_054_400), 0)
        }
        XCTAssertEqual(ZoneRules.utc.secondsFromGMT(atUnixSeconds: -1_000_000_000), 0)
    }

    /// A zone read from `$TZDIR`: a hand-made TZif file whose one transition is in 2030,
    /// and whose footer alone decides 2040.
    func testTheDatabaseDirectoryComesFromTZDIR() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tzdir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("Test"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let name = "Test/Zone_\(UUID().uuidString.prefix(8))"
        let file = Self.tzif(transitions: [1_893_456_000], indices: [1], types: [(3600, false), (7200, false)],
                             footer: "XST-2XDT,M3.5.0,M10.5.0/3")
        try Data(file).write(to: directory.appendingPathComponent(name))
        let zone = try withEnvironment("TZDIR", directory.path) { try XCTUnwrap(ZoneRules(identifier: name)) }
        XCTAssertEqual(zone.secondsFromGMT(atUnixSeconds: 0), 3600, "before the first transition: the first type")
        XCTAssertEqual(zone.secondsFromGMT(atUnixSeconds: 1_893_456_000), 7200)  // 2030-01-01T00:00Z
        XCTAssertEqual(zone.secondsFromGMT(atUnixSeconds: 2_209_032_000), 7200)  // 2040-01-01T12:00Z: standard time
        XCTAssertEqual(zone.secondsFromGMT(atUnixSeconds: 2_224_756_800), 10800)  // 2040-07-01T12:00Z: summer time
    }

    // MARK: TZif files

    /// A TZif file: a version 1 block with one type, then the version 2 block.
    static func tzif(version: UInt8 = UInt8(ascii: "2"), transitions: [Int64], indices: [UInt8], types: [(Int32, Bool)],
                     footer: String?) -> [UInt8] {
        func be32(_ v: Int32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
        func be64(_ v: Int64) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
        func header(timeCount: Int, typeCount: Int) -> [UInt8] {
            Array("TZif".utf8) + [version] + [UInt8](repeating: 0, count: 15)
                + [0, 0, 0, Int32(timeCount), Int32(typeCount), 4].flatMap(be32)
        }
        var bytes = header(timeCount: 0, typeCount: 1) + be32(types[0].0) + [types[0].1 ? 1 : 0, 0] + Array("ABC\0".utf8)
        guard version != 0 else { return bytes }
        bytes += header(timeCount: transitions.count, typeCount: types.count)
        bytes += transitions.flatMap(be64) + indices
        for (offset, isDST) in types { bytes += be32(offset) + [isDST ? 1 : 0, 0] }
        bytes += Array("ABC\0".utf8)
        if let footer { bytes += [0x0A] + Array(footer.utf8) + [0x0A] }
        return bytes
    }

    func testTransitionsThenTheFooter() throws {
        let rules = try XCTUnwrap(TZif(bytes: Self.tzif(transitions: [100, 200], indices: [1, 0], types: [(0, false), (3600, true)],
                                                        footer: "<+0530>-5:30")))
        XCTAssertEqual(rules.secondsFromGMT(atUnixSeconds: 99), 0)
        XCTAssertEqual(rules.secondsFromGMT(atUnixSeconds: 100), 3600)
        XCTAssertEqual(rules.secondsFromGMT(atUnixSeconds: 199), 3600)
        XCTAssertEqual(rules.secondsFromGMT(atUnixSeconds: 200), 0, "the last transition's own type at its instant")
        XCTAssertEqual(rules.secondsFromGMT(atUnixSeconds: 201), 19800, "after it, the footer")
    }

    func testAnEmptyFooterKeepsTheLastTransitionsOffset() throws {
        let rules = try XCTUnwrap(TZif(bytes: Self.tzif(transitions: [100], indices: [1], types: [(0, false), (-10800, false)], footer: "")))
        XCTAssertNil(rules.footer)
        XCTAssertEqual(rules.secondsFromGMT(atUnixSeconds: 50), 0)
        XCTAssertEqual(rules.secondsFromGMT(atUnixSeconds: 4_000_000_000), -10800)
    }

    func testWithoutTransitionsTheFooterDecides() throws {
        let rules = try XCTUnwrap(TZif(bytes: Self.tzif(transitions: [], indices: [], types: [(3600, false)], footer: "CET-1CEST,M3.5.0,M10.5.0/3")))
        XCTAssertEqual(rules.secondsFromGMT(atUnixSeconds: 2_224_756_800), 7200)  // 2040-07-01T12:00Z
        let plain = try XCTUnwrap(TZif(bytes: Self.tzif(transitions: [], indices: [], types: [(3600, false)], footer: "")))
        XCTAssertEqual(plain.secondsFromGMT(atUnixSeconds: 2_224_756_800), 3600, "no footer: the first type")
    }

    func testAVersion1FileIsReadFromItsOnlyBlock() throws {
        let rules = try XCTUnwrap(TZif(bytes: Self.tzif(version: 0, transitions: [], indices: [], types: [(-18000, false)], footer: nil)))
        XCTAssertEqual(rules.secondsFromGMT(atUnixSeconds: 1_000_000_000), -18000)
    }

    func testWhatIsNotATZifFileIsRefused() {
        XCTAssertNil(TZif(bytes: []))
        XCTAssertNil(TZif(bytes: Array("# tzdb data for Europe\n".utf8)))
        let good = Self.tzif(transitions: [100, 200], indices: [1, 0], types: [(0, false), (3600, true)], footer: "")
        XCTAssertNotNil(TZif(bytes: good))
        XCTAssertNil(TZif(bytes: Array(good.prefix(good.count - 20))), "cut short")
        XCTAssertNil(TZif(bytes: Self.tzif(transitions: [100], indices: [7], types: [(0, false)], footer: "")), "a type that is not there")
        XCTAssertNil(TZif(bytes: Self.tzif(transitions: [200, 100], indices: [0, 0], types: [(0, false)], footer: "")), "out of order")
    }

    // MARK: POSIX footer rules

    private func rule(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> PosixTZ {
        try XCTUnwrap(PosixTZ(text), text, file: file, line: line)
    }

    private func seconds(_ text: String) throws -> Int64 {
        try XCTUnwrap(Timestamp.millis(ofRecorded: text)) / 1000
    }

    /// Asserts `rule`'s offset from UTC at each of the UTC times.
    private func assertOffsets(_ rule: PosixTZ, _ expected: KeyValuePairs<String, Int>, file: StaticString = #filePath, line: UInt = #line) throws {
        for (time, offset) in expected {
            XCTAssertEqual(rule.secondsFromGMT(atUnixSeconds: try seconds(time)), offset, time, file: file, line: line)
        }
    }

    func testCentralEuropeanRuleAfter2037() throws {
        let cet = try rule("CET-1CEST,M3.5.0,M10.5.0/3")
        // 2040: summer time from Sunday 25 March 01:00Z to Sunday 28 October 01:00Z.
        try assertOffsets(cet, [
            "2040-03-25T00:59:59.000Z": 3600,
            "2040-03-25T01:00:00.000Z": 7200,
            "2040-10-28T00:59:59.000Z": 7200,
            "2040-10-28T01:00:00.000Z": 3600,
            "2040-12-31T23:30:00.000Z": 3600,
        ])
    }

    func testSouthernHemisphereRuleSpansTheNewYear() throws {
        // Lord Howe: +10:30, +11 from the first Sunday of October 02:00 to the first
        // Sunday of April 02:00 (its own time).
        let lordHowe = try rule("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0")
        try assertOffsets(lordHowe, [
            "2045-01-01T00:00:00.000Z": 39600,
            "2045-06-01T00:00:00.000Z": 37800,
        ])
        // 2045-04-02 is the first Sunday of April: 02:00 at +11 is 15:00Z the day before.
        try assertOffsets(lordHowe, [
            "2045-04-01T14:59:59.000Z": 39600,
            "2045-04-01T15:00:00.000Z": 37800,
        ])
    }

    func testNegativeSummerTime() throws {
        // Dublin in tzdata: IST (+1) is standard, GMT the "summer" time of winter.
        let dublin = try rule("IST-1GMT0,M10.5.0,M3.5.0/1")
        try assertOffsets(dublin, [
            "2040-07-01T12:00:00.000Z": 3600,
            "2040-01-15T12:00:00.000Z": 0,
            "2040-03-25T00:59:59.000Z": 0,
            "2040-03-25T01:00:00.000Z": 3600,
        ])
    }

    func testVersion3RuleTimesBeforeMidnightAndPast24Hours() throws {
        // Nuuk from 2024: -02, and -01 from the last Sunday of March at -1:00 (22:00 on
        // Saturday) to the last Sunday of October at 0:00 (its own time).
        let nuuk = try rule("<-02>2<-01>,M3.5.0/-1,M10.5.0/0")
        try assertOffsets(nuuk, [
            "2040-03-25T00:59:59.000Z": -7200,
            "2040-03-25T01:00:00.000Z": -3600,
            "2040-10-28T00:59:59.000Z": -3600,
            "2040-10-28T01:00:00.000Z": -7200,
        ])
        // Summer time all year, written as a start at 00:00 on 1 January and an end at
        // 25:00 on 31 December (RFC 8536 §3.3.1).
        let always = try rule("EST5EDT,0/0,J365/25")
        for text in ["2040-01-01T00:00:00.000Z", "2040-01-01T05:00:00.000Z", "2040-07-01T00:00:00.000Z", "2040-12-31T23:59:59.000Z", "2041-01-01T04:30:00.000Z"] {
            XCTAssertEqual(always.secondsFromGMT(atUnixSeconds: try seconds(text)), -14400, text)
        }
        let late = try rule("XST0XDT,M3.2.0/26,M10.1.0/-3:30")
        // 2040-03-11 is the second Sunday of March: 26:00 is 02:00Z on the 12th.
        try assertOffsets(late, [
            "2040-03-12T01:59:59.000Z": 0,
            "2040-03-12T02:00:00.000Z": 3600,
        ])
        // 2040-10-07 is the first Sunday of October: -3:30 at +1 is 19:30Z on the 6th.
        try assertOffsets(late, [
            "2040-10-06T19:29:59.000Z": 3600,
            "2040-10-06T19:30:00.000Z": 0,
        ])
    }

    func testJulianDaysSkipTheLeapDayAndZeroBasedDaysCountIt() throws {
        // J60 is 1 March in every year; 59 (zero-based) is 29 February in a leap year.
        let julian = try rule("XST0XDT,J60/0,J300/0")
        try assertOffsets(julian, [
            "2040-02-29T23:59:59.000Z": 0,
            "2040-03-01T00:00:00.000Z": 3600,
            "2041-02-28T23:59:59.000Z": 0,
            "2041-03-01T00:00:00.000Z": 3600,
        ])
        let zeroBased = try rule("XST0XDT,59/0,300/0")
        try assertOffsets(zeroBased, [
            "2040-02-28T23:59:59.000Z": 0,
            "2040-02-29T00:00:00.000Z": 3600,
            "2041-03-01T00:00:00.000Z": 3600,
            "2041-02-28T23:59:59.000Z": 0,
        ])
    }

    func testRulesWithoutSummerTime() throws {
        XCTAssertEqual(try rule("<+0530>-5:30").secondsFromGMT(atUnixSeconds: 2_224_756_800), 19800)
        XCTAssertEqual(try rule("UTC0").secondsFromGMT(atUnixSeconds: 2_224_756_800), 0)
        XCTAssertEqual(try rule("<-03>3").secondsFromGMT(atUnixSeconds: 2_224_756_800), -10800)
        XCTAssertEqual(try rule("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45").secondsFromGMT(atUnixSeconds: 2_224_756_800), 45900)
    }

    func testWhatIsNotARuleIsRefused() {
        for bad in ["", "CET", "CE-1", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0",
                    "CET-1CEST,J0,J10", "CET-1CEST,366,10", "<+05", "CET-1CEST,M3.5.0,M10.5.0/3x", "CET-25"] {
            XCTAssertNil(PosixTZ(bad), bad)
        }
        // Summer time without a rule: the US rules, as tzcode assumes.
        XCTAssertNotNil(PosixTZ("EST5EDT"))
    }
}
