import EventStore
@testable import Projections
import XCTest

final class CPRGuardTests: XCTestCase {
    // MARK: Forms that are refused

    func testNumberWithDashIsFound() {
        XCTAssertEqual(CPRGuard.firstMatch(in: "010190-1234"), "010190-1234")
    }

    func testNumberWithoutSeparatorIsFound() {
        XCTAssertEqual(CPRGuard.firstMatch(in: "0101901234"), "0101901234")
    }

    func testNumberWithOneSpaceIsFound() {
        XCTAssertEqual(CPRGuard.firstMatch(in: "010190 1234"), "010190 1234")
    }

    func testNumberInsideFreeTextIsFound() {
        XCTAssertEqual(CPRGuard.firstMatch(in: "Borger (cpr 241285-4321) deltog i mødet."), "241285-4321")
        XCTAssertEqual(CPRGuard.firstMatch(in: "a 010190-1234"), "010190-1234")
        XCTAssertEqual(CPRGuard.firstMatch(in: "nr.0101901234, tak"), "0101901234")
        XCTAssertEqual(CPRGuard.firstMatch(in: "Ålborg–010190-1234–æøå"), "010190-1234")
    }

    func testFirstOfSeveralIsReturned() {
        XCTAssertEqual(CPRGuard.firstMatch(in: "020290-1111 and 010190-2222"), "020290-1111")
    }

    func testValidNumberFailingModulus11IsStillRefused() {
        // Numbers issued since 2007 need not pass the old modulus-11 check.
        let number = "150515-4001"
        let digits = number.compactMap(\.wholeNumberValue)
        let weighted = zip(digits, [4, 3, 2, 7, 6, 5, 4, 3, 2, 1]).map(*).reduce(0, +)
        XCTAssertNotEqual(weighted % 11, 0, "the example must fail modulus 11")
        XCTAssertEqual(CPRGuard.firstMatch(in: number), number)
    }

    // MARK: Non-matches must not hide a later match

    func testFailedCandidateDoesNotHideALaterOne() {
        // A bad date, then a good number right after the separator's run.
        XCTAssertEqual(CPRGuard.firstMatch(in: "311390 0101901234"), "0101901234")
        // Six digits whose "four" run is too long, then a real number.
        XCTAssertEqual(CPRGuard.firstMatch(in: "010190 010190-1234"), "010190-1234")
        XCTAssertEqual(CPRGuard.firstMatch(in: "12345678901 and 010190-1234"), "010190-1234")
        XCTAssertEqual(CPRGuard.firstMatch(in: "1234 010190-1234"), "010190-1234")
    }

    // MARK: Forms that pass

    func testTwoSpacesOrOtherSeparatorsPass() {
        XCTAssertNil(CPRGuard.firstMatch(in: "010190  1234"))
        XCTAssertNil(CPRGuard.firstMatch(in: "010190--1234"))
        XCTAssertNil(CPRGuard.firstMatch(in: "010190- 1234"))
        XCTAssertNil(CPRGuard.firstMatch(in: "010190/1234"))
        XCTAssertNil(CPRGuard.firstMatch(in: "010190.1234"))
        XCTAssertNil(CPRGuard.firstMatch(in: "010190\t1234"))
    }

    func testDigitRightBeforeOrAfterPasses() {
        XCTAssertNil(CPRGuard.firstMatch(in: "01019012345"))
        XCTAssertNil(CPRGuard.firstMatch(in: "10101901234"))
        XCTAssertNil(CPRGuard.firstMatch(in: "010190-12345"))
        XCTAssertNil(CPRGuard.firstMatch(in: "9010190-1234"))
        XCTAssertNil(CPRGuard.firstMatch(in: "010190123412"))  // 12 digits
        XCTAssertNil(CPRGuard.firstMatch(in: "20240101123456"))
    }

    func testTooFewDigitsPass() {
        XCTAssertNil(CPRGuard.firstMatch(in: "010190-123"))
        XCTAssertNil(CPRGuard.firstMatch(in: "01019-1234"))
        XCTAssertNil(CPRGuard.firstMatch(in: "010190123"))
        XCTAssertNil(CPRGuard.firstMatch(in: "010190-"))
        XCTAssertNil(CPRGuard.firstMatch(in: ""))
    }

    func testEverydayNumbersPass() {
        XCTAssertNil(CPRGuard.firstMatch(in: "+45 8915 1515"))
        XCTAssertNil(CPRGuard.firstMatch(in: "tlf. 89 15 15 15"))
        XCTAssertNil(CPRGuard.firstMatch(in: "mødet 2024-03-14 kl. 10:00"))
        XCTAssertNil(CPRGuard.firstMatch(in: "sag 2023-112233"))
        XCTAssertNil(CPRGuard.firstMatch(in: "CVR 29189838"))
    }

    func testNonASCIIDigitsDoNotCount() {
        // Arabic-Indic and fullwidth digits are not ASCII digits: no match ...
        XCTAssertNil(CPRGuard.firstMatch(in: "٠١٠١٩٠-١٢٣٤"))
        XCTAssertNil(CPRGuard.firstMatch(in: "０１０１９０-１２３４"))
        // ... and not "a digit right before" either.
        XCTAssertEqual(CPRGuard.firstMatch(in: "５0101901234"), "0101901234")
    }

    // MARK: Date validity

    func testInvalidDatesPass() {
        XCTAssertNil(CPRGuard.firstMatch(in: "310290-1234"), "31 February")
        XCTAssertNil(CPRGuard.firstMatch(in: "300290-1234"), "30 February")
        XCTAssertNil(CPRGuard.firstMatch(in: "310490-1234"), "31 April")
        XCTAssertNil(CPRGuard.firstMatch(in: "000190-1234"), "day 00")
        XCTAssertNil(CPRGuard.firstMatch(in: "320190-1234"), "day 32")
        XCTAssertNil(CPRGuard.firstMatch(in: "011390-1234"), "month 13")
        XCTAssertNil(CPRGuard.firstMatch(in: "010090-1234"), "month 00")
    }

    func testLastDaysOfMonthsAreRefused() {
        for number in ["310190-1234", "300490-1234", "311290-1234", "280290-1234", "300990-1234"] {
            XCTAssertEqual(CPRGuard.firstMatch(in: number), number)
        }
    }

    func testTwentyNinthOfFebruaryFollowsTheFullYear() {
        XCTAssertNil(CPRGuard.firstMatch(in: "290201-4000"), "2001 is not a leap year")
        XCTAssertEqual(CPRGuard.firstMatch(in: "290200-4000"), "290200-4000", "2000 is a leap year")
        XCTAssertNil(CPRGuard.firstMatch(in: "290200-0000"), "1900 is not a leap year")
        XCTAssertEqual(CPRGuard.firstMatch(in: "290296-1234"), "290296-1234", "1996 is a leap year")
        XCTAssertNil(CPRGuard.firstMatch(in: "290297-1234"), "1997 is not a leap year")
    }

    func testYear00IsLeapOnlyWhereTheSeventhDigitGivesTheYear2000() {
        // Only for YY = 00 does the century change whether 29 February exists.
        for digit in 0...9 {
            let number = "290200-\(digit)123"
            if digit <= 3 {
                XCTAssertNil(CPRGuard.firstMatch(in: number), "\(number): 1900")
            } else {
                XCTAssertEqual(CPRGuard.firstMatch(in: number), number, "\(number): 2000")
            }
        }
    }

    func testCenturyRulesAtTheirBoundaries() {
        for digit in 0...3 {
            XCTAssertEqual(CPRGuard.fullYear(twoDigitYear: 0, seventhDigit: digit), 1900)
            XCTAssertEqual(CPRGuard.fullYear(twoDigitYear: 99, seventhDigit: digit), 1999)
        }
        for digit in [4, 9] {
            XCTAssertEqual(CPRGuard.fullYear(twoDigitYear: 0, seventhDigit: digit), 2000)
            XCTAssertEqual(CPRGuard.fullYear(twoDigitYear: 36, seventhDigit: digit), 2036)
            XCTAssertEqual(CPRGuard.fullYear(twoDigitYear: 37, seventhDigit: digit), 1937)
            XCTAssertEqual(CPRGuard.fullYear(twoDigitYear: 99, seventhDigit: digit), 1999)
        }
        for digit in 5...8 {
            XCTAssertEqual(CPRGuard.fullYear(twoDigitYear: 0, seventhDigit: digit), 2000)
            XCTAssertEqual(CPRGuard.fullYear(twoDigitYear: 57, seventhDigit: digit), 2057)
            XCTAssertEqual(CPRGuard.fullYear(twoDigitYear: 58, seventhDigit: digit), 1858)
            XCTAssertEqual(CPRGuard.fullYear(twoDigitYear: 99, seventhDigit: digit), 1899)
        }
    }

    // MARK: JSON values

    func testStringInsideAListIsFoundWithItsIndex() {
        let value = JSONValue.object(JSONObject([
            "data": .object(JSONObject([
                "agenda": .array([.string("Velkomst"), .string("Budget 2024"), .string("Sag om 010190-1234")]),
            ])),
        ]))
        let found = CPRGuard.firstMatch(in: value)
        XCTAssertEqual(found?.path, "data.agenda[2]")
        XCTAssertEqual(found?.match, "010190-1234")
    }

    func testStringInNestedObjectsIsFoundWithItsPath() {
        let value = JSONValue.object(JSONObject([
            "type": .string("training.held"),
            "data": .object(JSONObject([
                "participants": .object(JSONObject(["cpi": .string("ref 0101901234")])),
                "hours": .integer(101_901_234),
            ])),
        ]))
        let found = CPRGuard.firstMatch(in: value)
        XCTAssertEqual(found?.path, "data.participants.cpi")
        XCTAssertEqual(found?.match, "0101901234")
    }

    func testMemberNameIsChecked() {
        let value = JSONValue.object(JSONObject([
            "data": .object(JSONObject([
                "participants": .object(JSONObject(["010190-1234": .integer(3)])),
            ])),
        ]))
        let found = CPRGuard.firstMatch(in: value)
        XCTAssertEqual(found?.path, "data.participants.010190-1234")
        XCTAssertEqual(found?.match, "010190-1234")
    }

    func testObjectsInsideArraysAndTopLevelValues() {
        let value = JSONValue.array([.object(JSONObject(["a": .array([.null, .string("x 010190 1234")])]))])
        XCTAssertEqual(CPRGuard.firstMatch(in: value)?.path, "[0].a[1]")
        XCTAssertEqual(CPRGuard.firstMatch(in: .string("010190-1234"))?.path, "")
    }

    func testCleanValuesPass() {
        let value = JSONValue.object(JSONObject([
            "data": .object(JSONObject([
                "agenda": .array([.string("+45 8915 1515"), .string("310290-1234")]),
                "attendees": .integer(1_234_567_890),
                "ok": .bool(true),
                "none": .null,
            ])),
        ]))
        XCTAssertNil(CPRGuard.firstMatch(in: value))
    }
}
