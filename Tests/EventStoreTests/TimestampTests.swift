import EventStore
import Foundation
import XCTest

/// The two clocks of SPEC §2 and the day boundaries of SPEC §4.
final class TimestampTests: XCTestCase {
    private typealias CalendarDate = Timestamp.CalendarDate
    private let copenhagen = ZoneRules(identifier: "Europe/Copenhagen")!

    private func date(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> CalendarDate {
        try XCTUnwrap(CalendarDate(text), text, file: file, line: line)
    }

    /// An instant written as `recorded`, for readable expectations.
    private func utc(_ millis: Int64) -> String { Timestamp.recordedString(millis: millis) }

    // MARK: calendar dates

    func testOnlyRealDatesExist() {
        XCTAssertNil(CalendarDate(year: 2021, month: 2, day: 30))
        XCTAssertNil(CalendarDate(year: 2021, month: 2, day: 29))
        XCTAssertNotNil(CalendarDate(year: 2020, month: 2, day: 29))
        XCTAssertNotNil(CalendarDate(year: 2000, month: 2, day: 29), "divisible by 400: a leap year")
        XCTAssertNil(CalendarDate(year: 1900, month: 2, day: 29), "divisible by 100 only: not a leap year")
        XCTAssertNil(CalendarDate(year: 2021, month: 4, day: 31))
        XCTAssertNotNil(CalendarDate(year: 2021, month: 12, day: 31))
        XCTAssertNil(CalendarDate(year: 2021, month: 13, day: 1))
        XCTAssertNil(CalendarDate(year: 2021, month: 0, day: 1))
        XCTAssertNil(CalendarDate(year: 2021, month: 1, day: 0))
        XCTAssertNil(CalendarDate(year: 0, month: 1, day: 1))
    }

    func testDatesParseFromExactlyYYYYMMDD() throws {
        XCTAssertEqual(try date("2020-02-29").description, "2020-02-29")
        XCTAssertEqual(try date("0001-01-01"), CalendarDate(year: 1, month: 1, day: 1))
        for bad in ["2021-02-30", "2021-02-29", "2021-2-03", "2021-02-3", "21-02-03", "2021/02/03", " 2021-02-03", "2021-02-03 ",
                    "2021-02-03T00:00:00Z", "２０２１-02-03", "2021-0a-03", "+2021-02-03", ""] {
            XCTAssertNil(CalendarDate(bad), bad)
        }
    }

    func testDaysSinceEpochRoundTrip() throws {
        XCTAssertEqual(try date("1970-01-01").daysSinceEpoch, 0)
        XCTAssertEqual(try date("1969-12-31").daysSinceEpoch, -1)
        XCTAssertEqual(try date("2000-03-01").daysSinceEpoch, 11_017)
        XCTAssertEqual(CalendarDate(daysSinceEpoch: 18_717).description, "2021-03-31")
        var previous: CalendarDate?
        for day in stride(from: -719_162, through: 2_932_896, by: 997) {  // 0001-01-01 … 9999-12-31
            let date = CalendarDate(daysSinceEpoch: day)
            XCTAssertEqual(date.daysSinceEpoch, day)
            XCTAssertEqual(CalendarDate(year: date.year, month: date.month, day: date.day), date)
            if let previous { XCTAssertLessThan(previous, date) }
            previous = date
        }
    }

    // MARK: recorded

    func testRecordedIsUTCWithMilliseconds() {
        XCTAssertEqual(Timestamp.recordedString(millis: 0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(Timestamp.recordedString(millis: 1_616_976_000_123), "2021-03-29T00:00:00.123Z")
        XCTAssertEqual(Timestamp.recordedString(millis: 1_617_184_800_000), "2021-03-31T10:00:00.000Z")
        XCTAssertEqual(Timestamp.recordedString(millis: 951_868_799_999), "2000-02-29T23:59:59.999Z")
        XCTAssertEqual(Timestamp.recordedString(millis: -1), "1969-12-31T23:59:59.999Z")
        XCTAssertEqual(Timestamp.recordedString(millis: 253_402_300_799_999), "9999-12-31T23:59:59.999Z")
    }

    func testRecordedParsesBackToTheSameInstant() {
        for millis: Int64 in [0, 1, 999, 1_616_976_000_123, 951_868_799_999, -1, -86_400_001] {
            let text = Timestamp.recordedString(millis: millis)
            XCTAssertTrue(Timestamp.isValidRecorded(text), text)
            XCTAssertEqual(Timestamp.millis(ofRecorded: text), millis, text)
        }
        let now = Timestamp.nowMillis()
        XCTAssertEqual(Timestamp.millis(ofRecorded: Timestamp.recordedString(millis: now)), now)
    }

    func testRecordedHasExactlyOneForm() {
        for bad in ["2021-03-31T10:00:00Z", "2021-03-31T10:00:00.0Z", "2021-03-31T10:00:00.0000Z", "2021-03-31T10:00:00.000+00:00",
                    "2021-03-31 10:00:00.000Z", "2021-03-31t10:00:00.000z", "2021-02-30T10:00:00.000Z", "2021-03-31T24:00:00.000Z",
                    "2021-03-31T10:60:00.000Z", "2021-03-31T10:00:60.000Z", "2021-03-31T10:00:00.00aZ", "2021-03-31"] {
            XCTAssertFalse(Timestamp.isValidRecorded(bad), bad)
            XCTAssertNil(Timestamp.millis(ofRecorded: bad), bad)
        }
    }

    // MARK: occurred

    func testOffsetDateTimesNameOneInstant() {
        let instant: Int64 = 1_617_184_800_000  // 2021-03-31T10:00:00Z
        XCTAssertEqual(Timestamp.parseOffsetDateTime("2021-03-31T10:00:00Z"), instant)
        XCTAssertEqual(Timestamp.parseOffsetDateTime("2021-03-31T12:00:00+02:00"), instant)
        XCTAssertEqual(Timestamp.parseOffsetDateTime("2021-03-31T05:30:00-04:30"), instant)
        XCTAssertEqual(Timestamp.parseOffsetDateTime("2021-03-31T10:00:00+00:00"), instant)
        XCTAssertEqual(Timestamp.parseOffsetDateTime("2021-03-31T10:00:00-00:00"), instant)
        XCTAssertEqual(Timestamp.parseOffsetDateTime("2021-04-01T00:00:00+14:00"), instant)
        XCTAssertEqual(Timestamp.parseOffsetDateTime("2021-03-30T22:00:00-12:00"), instant)
    }

    func testFractionsOfASecondAreReadToTheMillisecond() {
        let base: Int64 = 1_617_184_800_000
        XCTAssertEqual(Timestamp.parseOffsetDateTime("2021-03-31T10:00:00.5Z"), base + 500)
        XCTAssertEqual(Timestamp.parseOffsetDateTime("2021-03-31T10:00:00.05Z"), base + 50)
        XCTAssertEqual(Timestamp.parseOffsetDateTime("2021-03-31T10:00:00.123Z"), base + 123)
        XCTAssertEqual(Timestamp.parseOffsetDateTime("2021-03-31T10:00:00.123999999Z"), base + 123, "truncated, not rounded")
        XCTAssertEqual(Timestamp.parseOffsetDateTime("2021-03-31T12:00:00.250+02:00"), base + 250)
        XCTAssertNil(Timestamp.parseOffsetDateTime("2021-03-31T10:00:00.1234567890Z"), "more than nine digits")
        XCTAssertNil(Timestamp.parseOffsetDateTime("2021-03-31T10:00:00.Z"))
    }

    func testOffsetDateTimesWithoutAZoneOrOutOfRangeAreRefused() {
        for bad in ["2021-03-31T10:00:00", "2021-03-31T10:00:00z", "2021-03-31T10:00:00+2:00", "2021-03-31T10:00:00+0200",
                    "2021-03-31T10:00:00+02", "2021-03-31T10:00:00+24:00", "2021-03-31T10:00:00+02:60", "2021-03-31T24:00:00Z",
                    "2021-03-31T10:00:60Z", "2021-02-29T10:00:00Z", "2021-03-31 10:00:00Z", "2021-03-31T10:00Z", "2021-03-31",
                    "2021-03-31T10:00:00ZZ", "2021-03-31T10:00:00+02:00 "] {
            XCTAssertNil(Timestamp.parseOffsetDateTime(bad), bad)
        }
    }

    func testOccurredIsADateOrADateTimeWithAZone() {
        XCTAssertTrue(Timestamp.isValidOccurred("2021-03-31"))
        XCTAssertTrue(Timestamp.isValidOccurred("2021-03-31T10:00:00Z"))
        XCTAssertTrue(Timestamp.isValidOccurred("2021-03-31T10:00:00.5+02:00"))
        XCTAssertFalse(Timestamp.isValidOccurred("2021-03-31T10:00:00"))
        XCTAssertFalse(Timestamp.isValidOccurred("31-03-2021"))
        XCTAssertFalse(Timestamp.isValidOccurred("2021-02-29"))
        XCTAssertFalse(Timestamp.isValidOccurred("2021"))
    }

    func testTheCalendarDateOfAnOccurredIsTheDateAsWritten() throws {
        XCTAssertEqual(Timestamp.calendarDate(ofOccurred: "2021-03-31"), try date("2021-03-31"))
        // 23:30 at -02:00 is already 1 April in UTC, but the fact happened on 31 March where it was written.
        XCTAssertEqual(Timestamp.calendarDate(ofOccurred: "2021-03-31T23:30:00-02:00"), try date("2021-03-31"))
        XCTAssertEqual(Timestamp.calendarDate(ofOccurred: "2021-04-01T00:30:00+02:00"), try date("2021-04-01"))
        XCTAssertNil(Timestamp.calendarDate(ofOccurred: "2021-03-31T23:30:00"))
    }

    // MARK: days in a time zone

    func testAnOrdinaryDayInCopenhagen() throws {
        XCTAssertEqual(utc(Timestamp.startOfDay(try date("2021-03-31"), in: copenhagen)), "2021-03-30T22:00:00.000Z")
        XCTAssertEqual(utc(Timestamp.endOfDay(try date("2021-03-31"), in: copenhagen)), "2021-03-31T21:59:59.999Z")
        XCTAssertEqual(utc(Timestamp.startOfDay(try date("2021-12-31"), in: copenhagen)), "2021-12-30T23:00:00.000Z")
        XCTAssertEqual(utc(Timestamp.endOfDay(try date("2021-12-31"), in: copenhagen)), "2021-12-31T22:59:59.999Z")
    }

    /// 28 March 2021: clocks go from 02:00 CET to 03:00 CEST; the day has 23 hours.
    func testTheDaySummerTimeStartsInCopenhagen() throws {
        let day = try date("2021-03-28")
        let start = Timestamp.startOfDay(day, in: copenhagen), end = Timestamp.endOfDay(day, in: copenhagen)
        XCTAssertEqual(utc(start), "2021-03-27T23:00:00.000Z")
        XCTAssertEqual(utc(end), "2021-03-28T21:59:59.999Z")
        XCTAssertEqual(end + 1 - start, 23 * 3_600_000)
        XCTAssertEqual(Timestamp.calendarDate(ofMillis: end, in: copenhagen), day)
        XCTAssertEqual(Timestamp.calendarDate(ofMillis: end + 1, in: copenhagen), try date("2021-03-29"))
        XCTAssertEqual(Timestamp.calendarDate(ofMillis: start - 1, in: copenhagen), try date("2021-03-27"))
    }

    /// 31 October 2021: clocks go from 03:00 CEST back to 02:00 CET; the day has 25 hours.
    func testTheDaySummerTimeEndsInCopenhagen() throws {
        let day = try date("2021-10-31")
        let start = Timestamp.startOfDay(day, in: copenhagen), end = Timestamp.endOfDay(day, in: copenhagen)
        XCTAssertEqual(utc(start), "2021-10-30T22:00:00.000Z")
        XCTAssertEqual(utc(end), "2021-10-31T22:59:59.999Z")
        XCTAssertEqual(end + 1 - start, 25 * 3_600_000)
        XCTAssertEqual(Timestamp.calendarDate(ofMillis: end, in: copenhagen), day)
        XCTAssertEqual(Timestamp.calendarDate(ofMillis: end + 1, in: copenhagen), try date("2021-11-01"))
    }

    func testAWallClockTimeInTheRepeatedHourIsTheEarlierInstant() throws {
        // 02:30 happens twice on 31 October 2021: at 00:30Z (CEST) and at 01:30Z (CET).
        let millis = Timestamp.millis(of: try date("2021-10-31"), secondsIntoDay: 2 * 3600 + 1800, in: copenhagen)
        XCTAssertEqual(utc(millis), "2021-10-31T00:30:00.000Z")
    }

    /// Where summer time starts at midnight, the day starts at 01:00: the first instant
    /// that has that date, not the last hour of the day before.
    func testADayWhoseMidnightDoesNotExistStartsWhenItsClockDoes() throws {
        for (zone, day, start) in [("America/Sao_Paulo", "2018-11-04", "2018-11-04T03:00:00.000Z"),
                                   ("America/Santiago", "2022-09-11", "2022-09-11T04:00:00.000Z")] {
            let timeZone = try XCTUnwrap(ZoneRules(identifier: zone))
            let transition = try XCTUnwrap(Timestamp.millis(ofRecorded: start)) / 1000
            // Whether the change is known is decided by Foundation's (ICU's) data, not by the
            // code under test: where ICU knows it, ZoneRules must find it too.
            let oracle = try XCTUnwrap(Foundation.TimeZone(identifier: zone))
            func icuOffset(_ seconds: Int64) -> Int { oracle.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))) }
            guard icuOffset(transition - 1) != icuOffset(transition) else {
                continue  // the toolchain's time zone data lacks the change
            }
            let date = try date(day)
            XCTAssertEqual(utc(Timestamp.startOfDay(date, in: timeZone)), start, zone)
            XCTAssertEqual(Timestamp.calendarDate(ofMillis: Timestamp.startOfDay(date, in: timeZone), in: timeZone), date, zone)
            let before = CalendarDate(daysSinceEpoch: date.daysSinceEpoch - 1)
            XCTAssertEqual(Timestamp.endOfDay(before, in: timeZone) + 1, Timestamp.startOfDay(date, in: timeZone), zone)
        }
    }

    func testConsecutiveDaysMeetExactlyInCopenhagenAllYear() throws {
        var day = try date("2021-01-01")
        while day.year == 2021 {
            let next = CalendarDate(daysSinceEpoch: day.daysSinceEpoch + 1)
            XCTAssertEqual(Timestamp.endOfDay(day, in: copenhagen) + 1, Timestamp.startOfDay(next, in: copenhagen), "\(day)")
            XCTAssertEqual(Timestamp.calendarDate(ofMillis: Timestamp.startOfDay(day, in: copenhagen), in: copenhagen), day)
            XCTAssertEqual(Timestamp.calendarDate(ofMillis: Timestamp.endOfDay(day, in: copenhagen), in: copenhagen), day)
            day = next
        }
    }
}
