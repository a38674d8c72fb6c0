import EventStore
import Foundation
import XCTest

final class JSONParserTests: XCTestCase {

    // MARK: JSONTestSuite (github.com/nst/JSONTestSuite, test_parsing)

    /// What the parser does with each implementation-defined (`i_`) file, and why.
    private static let implementationDefined: [String: Outcome] = [
        "i_number_double_huge_neg_exp.json": .accept,  // 123.456e-789 rounds to 0, as any too-small magnitude does
        "i_number_huge_exp.json": .refuse,  // 0.4e00669…999006 overflows a double: "out of range"
        "i_number_neg_int_huge_exp.json": .refuse,  // -1e+9999 overflows a double
        "i_number_pos_double_huge_exp.json": .refuse,  // 1.5e+9999 overflows a double
        "i_number_real_neg_overflow.json": .refuse,  // -123123e100000 overflows a double
        "i_number_real_pos_overflow.json": .refuse,  // 123123e100000 overflows a double
        "i_number_real_underflow.json": .accept,  // 123e-10000000 rounds to 0
        "i_number_too_big_neg_int.json": .accept,  // beyond ±(2^53−1): a .number (refused with integersOnly)
        "i_number_too_big_pos_int.json": .accept,  // beyond ±(2^53−1): a .number (refused with integersOnly)
        "i_number_very_big_negative_int.json": .accept,  // beyond ±(2^53−1): a .number (refused with integersOnly)
        "i_object_key_lone_2nd_surrogate.json": .refuse,  // \uDFAA alone in a name
        "i_string_1st_surrogate_but_2nd_missing.json": .refuse,  // \uDADA at the end of the string
        "i_string_1st_valid_surrogate_2nd_invalid.json": .refuse,  // \uD888 followed by \u1234
        "i_string_UTF-16LE_with_BOM.json": .refuse,  // not UTF-8
        "i_string_UTF-8_invalid_sequence.json": .refuse,  // 0xFA never occurs in UTF-8
        "i_string_UTF8_surrogate_U+D800.json": .refuse,  // ED A0 80: a surrogate encoded in UTF-8
        "i_string_incomplete_surrogate_and_escape_valid.json": .refuse,  // \uD800 followed by \n
        "i_string_incomplete_surrogate_pair.json": .refuse,  // \uDd1e is a lone low surrogate
        "i_string_incomplete_surrogates_escape_valid.json": .refuse,  // \uD800\uD800: high after high
        "i_string_invalid_lonely_surrogate.json": .refuse,  // \ud800 alone
        "i_string_invalid_surrogate.json": .refuse,  // \ud800 followed by plain text
        "i_string_invalid_utf-8.json": .refuse,  // 0xFF never occurs in UTF-8
        "i_string_inverted_surrogates_U+1D11E.json": .refuse,  // low surrogate before the high one
        "i_string_iso_latin_1.json": .refuse,  // a Latin-1 é (0xE9) is a truncated UTF-8 sequence
        "i_string_lone_second_surrogate.json": .refuse,  // \uDFAA alone
        "i_string_lone_utf8_continuation_byte.json": .refuse,  // 0x81 without a lead byte
        "i_string_not_in_unicode_range.json": .refuse,  // F4 BF BF BF is above U+10FFFF
        "i_string_overlong_sequence_2_bytes.json": .refuse,  // C0 AF: overlong
        "i_string_overlong_sequence_6_bytes.json": .refuse,  // FC …: no such lead byte
        "i_string_overlong_sequence_6_bytes_null.json": .refuse,  // FC …: no such lead byte
        "i_string_truncated-utf-8.json": .refuse,  // E0 FF: truncated sequence
        "i_string_utf16BE_no_BOM.json": .refuse,  // not UTF-8 (NUL bytes outside strings)
        "i_string_utf16LE_no_BOM.json": .refuse,  // not UTF-8 (NUL bytes outside strings)
        "i_structure_500_nested_arrays.json": .accept,  // 500 levels is within maxDepth (512)
        "i_structure_UTF-8_BOM_empty_object.json": .refuse,  // a byte order mark is not JSON text
    ]

    /// `y_` files that are valid JSON but that this parser refuses on purpose (SPEC §2).
    private static let validButRefusedByPolicy: [String: String] = [
        "y_object_duplicated_key.json": "duplicate member name",
        "y_object_duplicated_key_and_value.json": "duplicate member name",
    ]

    private enum Outcome { case accept, refuse }

    func testEveryValidSuiteFileParses() throws {
        let files = try suiteFiles(prefix: "y_")
        XCTAssertEqual(files.count, 95, "JSONTestSuite's test_parsing has 95 y_ files")
        var refused: [String] = []
        for (name, bytes) in files {
            do {
                _ = try JSONParser.parse(bytes)
                if Self.validButRefusedByPolicy[name] != nil { refused.append("\(name): accepted, expected refusal by policy") }
            } catch {
                if let expected = Self.validButRefusedByPolicy[name] {
                    XCTAssertTrue(error.reason.contains(expected), "\(name): \(error)")
                } else {
                    refused.append("\(name): \(error)")
                }
            }
        }
        XCTAssertEqual(refused, [], "valid files refused")
    }

    func testEveryInvalidSuiteFileIsRefused() throws {
        let files = try suiteFiles(prefix: "n_")
        XCTAssertEqual(files.count, 188, "JSONTestSuite's test_parsing has 188 n_ files")
        var accepted: [String] = []
        for (name, bytes) in files {
            do {
                let value = try JSONParser.parse(bytes)
                accepted.append("\(name) -> \(CanonicalJSON.string(value))")
            } catch {
                XCTAssertFalse(error.reason.isEmpty, name)
                XCTAssert((0...bytes.count).contains(error.offset), "\(name): offset \(error.offset)")
            }
        }
        XCTAssertEqual(accepted, [], "invalid files accepted")
    }

    func testEveryImplementationDefinedSuiteFileHasItsListedOutcome() throws {
        let files = try suiteFiles(prefix: "i_")
        XCTAssertEqual(Set(files.map(\.name)), Set(Self.implementationDefined.keys), "every i_ file must have an outcome listed here")
        for (name, bytes) in files {
            guard let expected = Self.implementationDefined[name] else { continue }
            let outcome: Outcome
            do {
                _ = try JSONParser.parse(bytes)
                outcome = .accept
            } catch {
                outcome = .refuse
            }
            XCTAssertEqual(outcome, expected, name)
        }
    }

    func testImplementationDefinedNumbersAreRefusedWhenOnlyIntegersAreAllowed() throws {
        for (name, bytes) in try suiteFiles(prefix: "i_number_") {
            XCTAssertThrowsError(try JSONParser.parse(bytes, integersOnly: true), name) { error in
                let reason = (error as? JSONParseError)?.reason ?? ""
                XCTAssert(reason.hasPrefix("number "), "\(name): \(reason)")
            }
        }
    }

    /// The files of the suite whose names start with `prefix`, sorted by name.
    private func suiteFiles(prefix: String) throws -> [(name: String, bytes: [UInt8])] {
        let folder = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/testdata/JSONTestSuite/test_parsing")
            .standardizedFileURL
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw XCTSkip("JSONTestSuite not found at \(folder.path) (expected <package root>/../shared/testdata/JSONTestSuite/test_parsing); these cases were NOT run")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }
            .sorted()
        return try names.map { ($0, Array(try Data(contentsOf: folder.appendingPathComponent($0)))) }
    }

    // MARK: Member names

    func testDuplicateMemberNameIsRefusedWithItsPlace() {
        let error = parseError(#"{"a": 1, "b": 2, "a": 3}"#)
        XCTAssertEqual(error, JSONParseError(line: 1, column: 18, offset: 17, reason: #"duplicate member name "a""#))
        XCTAssertEqual(error?.description, #"line 1, column 18: duplicate member name "a""#)
    }

    func testDuplicateIsFoundInNestedObjectsAndAcrossEscapes() {
        XCTAssertEqual(parseError(#"[{"x": {"k": 1, "k": 2}}]"#)?.offset, 16)
        // "\u00e9" decodes to the same bytes as a literal "é".
        XCTAssertEqual(parseError(#"{"\u00e9": 1, "é": 2}"#)?.reason, #"duplicate member name "é""#)
        // The first repeat in document order is named, not the first in sorted order.
        XCTAssertEqual(parseError(#"{"z": 1, "a": 1, "z": 2, "a": 2}"#)?.reason, #"duplicate member name "z""#)
    }

    func testComposedAndDecomposedNamesAreTwoMembers() throws {
        let composed = "\u{E9}", decomposed = "e\u{301}"
        XCTAssertEqual(composed, decomposed, "Swift's String equality merges them; the parser must not")
        for text in ["{\"\(composed)\": 1, \"\(decomposed)\": 2}", #"{"\u00e9": 1, "e\u0301": 2}"#] {
            let object = try XCTUnwrap(JSONParser.parse(text).objectValue)
            XCTAssertEqual(object.members.map { Array($0.key.utf8) }, [[0x65, 0xCC, 0x81], [0xC3, 0xA9]])
        }
        XCTAssertEqual(parseError("{\"\(composed)\": 1, \"\(composed)\": 2}")?.reason, "duplicate member name \"\(composed)\"")
        XCTAssertEqual(parseError("{\"\(decomposed)\": 1, \"\(decomposed)\": 2}")?.reason, "duplicate member name \"\(decomposed)\"")
    }

    func testMembersComeOutInCanonicalOrder() throws {
        let object = try XCTUnwrap(JSONParser.parse(#"{"b": 1, "a": {"d": [], "c": null}, "": true}"#).objectValue)
        XCTAssertEqual(object.keys, ["", "a", "b"])
        XCTAssertEqual(object["a"]?.objectValue?.keys, ["c", "d"])
    }

    // MARK: Errors and their place

    func testErrorCarriesLineAndColumn() {
        let text = "{\n  \"a\": 1,\n  \"b\": [1, 2,]\n}"
        XCTAssertEqual(parseError(text), JSONParseError(line: 3, column: 13, offset: 24, reason: "trailing comma before ']'"))
    }

    func testColumnCountsScalarsNotBytes() {
        let error = parseError("{\"é😀\": x}")
        XCTAssertEqual(error?.offset, 11)
        XCTAssertEqual(error?.line, 1)
        XCTAssertEqual(error?.column, 8)
        XCTAssertEqual(error?.reason, "unexpected 'x'; expected a value")
    }

    func testNonJSONIsRefusedWithAReason() {
        let cases: [(String, String)] = [
            ("", "empty input"),
            (" \n", "only white space"),
            ("[1,]", "trailing comma before ']'"),
            (#"{"a":1,}"#, "trailing comma before '}'"),
            ("[1] // note", "comments are not allowed"),
            ("/* c */ 1", "comments are not allowed"),
            ("['a']", "single quotes are not JSON"),
            ("[01]", "leading zeros are not allowed"),
            ("-01", "leading zeros are not allowed"),
            ("[NaN]", "unexpected 'NaN'"),
            ("[-Infinity]", "expected a digit after '-'"),
            ("[1.]", "expected a digit after the decimal point"),
            ("[.5]", "unexpected '.'"),
            ("[1e]", "expected a digit after the exponent mark"),
            ("[+1]", "unexpected '+'"),
            ("[0x10]", "unexpected 'x'"),
            ("[1] x", "expected the end of the input"),
            ("{} {}", "expected the end of the input"),
            ("[tru]", "invalid literal 'tru'"),
            ("nul", "unexpected end of input inside 'null'"),
            ("[1 2]", "expected ',' or ']'"),
            (#"{"a" 1}"#, "expected ':' after the member name"),
            ("{a: 1}", "expected a member name in double quotes"),
            ("{1: 1}", "expected a member name in double quotes"),
            ("\"tab\there\"", "control character U+0009 in a string must be escaped"),
            ("\"a", "unexpected end of input inside a string"),
            (#""\x""#, #"invalid escape '\x'"#),
            (#""\u12""#, #"\u must be followed by four hex digits"#),
            (#""\U0041""#, #"invalid escape '\U'"#),
            ("\"\\\t\"", #"invalid escape '\' followed by control character U+0009"#),
            ("\u{FEFF}{}", "byte order mark"),
            ("[\u{0}1\u{0}]\u{0}", "looks like UTF-16; JSON text must be UTF-8"),
            ("[1]\u{0}", "control character U+0000"),
            ("1e400", "number 1e400 is out of range"),
        ]
        for (text, expected) in cases {
            guard let error = parseError(text) else { continue }
            XCTAssertTrue(error.reason.contains(expected), "\(text.debugDescription): got \(error.reason.debugDescription), expected it to contain \(expected.debugDescription)")
        }
    }

    func testScalarsAtTheTopLevelAreJSONText() throws {
        XCTAssertEqual(try JSONParser.parse(" 12 "), .integer(12))
        XCTAssertEqual(try JSONParser.parse("\"x\""), .string("x"))
        XCTAssertEqual(try JSONParser.parse("null"), .null)
        XCTAssertEqual(try JSONParser.parse("\t\r\nfalse\n"), .bool(false))
    }

    // MARK: Strings and UTF-8

    func testEscapesDecode() throws {
        let text = #""\"\\\/\b\f\n\r\t\u0000\u001f\u00e9\u20AC\ud83d\ude02 plain""#
        XCTAssertEqual(try JSONParser.parse(text), .string("\"\\/\u{8}\u{C}\n\r\t\u{0}\u{1F}é€😂 plain"))
    }

    func testLongStringsWithMixedContentDecode() throws {
        // Exercises the 8-bytes-at-a-time scan on both sides of every kind of interruption.
        let pieces = ["abcdefghij", "é", "\\n", "😀", "\\u00e9", "0123456789abcdef", "\\\"", "€"]
        var text = "\"", expected = ""
        for round in 0..<200 {
            let piece = pieces[round % pieces.count]
            text += piece
            expected += try XCTUnwrap(JSONParser.parse("\"\(piece)\"").stringValue)
            text += String(repeating: "x", count: round % 11)
            expected += String(repeating: "x", count: round % 11)
        }
        text += "\""
        XCTAssertEqual(try JSONParser.parse(text).stringValue.map { Array($0.utf8) }, Array(expected.utf8))
    }

    func testLoneSurrogateEscapesAreRefused() {
        let cases: [(String, String)] = [
            (#"["\uD800"]"#, #"lone high surrogate \uD800"#),
            (#"["\uD800x"]"#, #"lone high surrogate \uD800"#),
            (#"["\uD800\n"]"#, #"lone high surrogate \uD800"#),
            (#"["\uDBFF\u0041"]"#, #"lone high surrogate \uDBFF (followed by \u0041"#),
            (#"["\uD800\uD800"]"#, #"lone high surrogate \uD800"#),
            (#"["\uDC00"]"#, #"lone low surrogate \uDC00"#),
            (#"["\uDFFF\uD800"]"#, #"lone low surrogate \uDFFF"#),
            (#"{"\uDFAA": 0}"#, #"lone low surrogate \uDFAA"#),
        ]
        for (text, expected) in cases {
            let error = parseError(text)
            XCTAssertTrue(error?.reason.hasPrefix(expected) == true, "\(text): \(String(describing: error))")
        }
        XCTAssertEqual(parseError(#"["ab\uD800"]"#)?.offset, 4, "placed at the backslash")
    }

    func testSurrogatePairsDecode() throws {
        XCTAssertEqual(try JSONParser.parse(#""\uD800\uDC00\uDBFF\uDFFF\ud834\udd1e""#), .string("\u{10000}\u{10FFFF}\u{1D11E}"))
    }

    func testInvalidUTF8IsRefused() {
        let cases: [([UInt8], String)] = [
            ([0xC0, 0xAF], "overlong encoding"),
            ([0xC1, 0xBF], "overlong encoding"),
            ([0xE0, 0x80, 0xAF], "overlong encoding"),
            ([0xE0, 0x9F, 0xBF], "overlong encoding"),
            ([0xF0, 0x80, 0x80, 0xAF], "overlong encoding"),
            ([0xF0, 0x8F, 0xBF, 0xBF], "overlong encoding"),
            ([0xED, 0xA0, 0x80], "a surrogate"),
            ([0xED, 0xBF, 0xBF], "a surrogate"),
            ([0xF4, 0x90, 0x80, 0x80], "above U+10FFFF"),
            ([0xF5, 0x80, 0x80, 0x80], "above U+10FFFF"),
            ([0xF8, 0x88, 0x80, 0x80, 0x80], "never occurs in UTF-8"),
            ([0xFF], "never occurs in UTF-8"),
            ([0x80], "continuation byte 0x80 without a lead byte"),
            ([0xBF], "continuation byte 0xBF without a lead byte"),
            ([0xC3], "truncated sequence"),
            ([0xE2, 0x82], "truncated sequence"),
            ([0xF0, 0x9F, 0x98], "truncated sequence"),
            ([0xE9, 0x41], "truncated sequence"),
        ]
        for (sequence, expected) in cases {
            let bytes: [UInt8] = Array("[\"ok".utf8) + sequence + Array("\"]".utf8)
            do {
                let value = try JSONParser.parse(bytes)
                XCTFail("\(sequence): accepted as \(value)")
            } catch {
                XCTAssertTrue(error.reason.hasPrefix("invalid UTF-8: ") && error.reason.contains(expected), "\(sequence): \(error.reason)")
                XCTAssertEqual(error.offset, 4, "\(sequence): placed at the lead byte")
            }
        }
        // Outside strings, any byte above 0x7F is simply unexpected.
        XCTAssertEqual(try? JSONParser.parse([0x5B, 0xC3, 0xA9, 0x5D]), nil)
    }

    func testValidUTF8AtEveryBoundaryIsAccepted() throws {
        let scalars: [UInt32] = [0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0xFFFFF, 0x100000, 0x10FFFF]
        for value in scalars {
            let scalar = try XCTUnwrap(Unicode.Scalar(value))
            let string = String(Character(scalar))
            XCTAssertEqual(try JSONParser.parse(Array("\"\(string)\"".utf8)), .string(string), "U+\(String(value, radix: 16))")
        }
    }

    // MARK: Depth

    func testNestingUpToTheLimitIsAccepted() throws {
        let depth = JSONParser.maxDepth
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        XCTAssertNoThrow(try JSONParser.parse(arrays))
        let objects = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        XCTAssertNoThrow(try JSONParser.parse(objects))
    }

    func testNestingBeyondTheLimitIsRefusedWithoutExhaustingTheStack() {
        let depth = JSONParser.maxDepth + 1
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        XCTAssertEqual(parseError(arrays), JSONParseError(line: 1, column: depth, offset: depth - 1, reason: "arrays and objects nested deeper than 512 levels"))
        let mixed = String(repeating: #"{"a":["#, count: depth)
        XCTAssertEqual(parseError(mixed)?.reason, "arrays and objects nested deeper than 512 levels")
        XCTAssertEqual(parseError(String(repeating: "[", count: 1_000_000))?.offset, JSONParser.maxDepth)
    }

    // MARK: Numbers

    func testIntegerBounds() throws {
        let max = JSONValue.maxSafeInteger
        XCTAssertEqual(try JSONParser.parse("9007199254740991", integersOnly: true), .integer(max))
        XCTAssertEqual(try JSONParser.parse("-9007199254740991", integersOnly: true), .integer(-max))
        XCTAssertEqual(try JSONParser.parse("9007199254740992"), .number(9_007_199_254_740_992))
        XCTAssertEqual(try JSONParser.parse("-9007199254740992"), .number(-9_007_199_254_740_992))
        XCTAssertEqual(try JSONParser.parse("12345678901234567890"), .number(12_345_678_901_234_567_168))
        XCTAssertEqual(
            parseError("9007199254740992", integersOnly: true)?.reason,
            "number 9007199254740992 is not an integer within ±(2^53−1)")
        XCTAssertEqual(
            parseError("[0, -9007199254740992]", integersOnly: true),
            JSONParseError(line: 1, column: 5, offset: 4, reason: "number -9007199254740992 is not an integer within ±(2^53−1)"))
        let long = String(repeating: "9", count: 400)
        XCTAssertEqual(
            parseError(long, integersOnly: true)?.reason,
            "number \(String(repeating: "9", count: 32))…(400 characters) is not an integer within ±(2^53−1)")
    }

    func testFractionsAndExponentsAreNumbersUnlessOnlyIntegersAreAllowed() throws {
        XCTAssertEqual(try JSONParser.parse("[1.5, 1.0, 1e2, -0.0, 2E-3, 0]"), .array([.number(1.5), .number(1), .number(100), .number(-0.0), .number(0.002), .integer(0)]))
        for lexeme in ["1.5", "1.0", "1e2", "-0.0", "2E-3", "0e0"] {
            XCTAssertEqual(parseError("[\(lexeme)]", integersOnly: true)?.reason, "number \(lexeme) is not an integer within ±(2^53−1)")
        }
    }

    /// `-0` is an integer lexeme whose value is 0; its canonical form is `0`, so a log line
    /// holding `-0` fails the log's separate "line equals its canonical form" check.
    func testNegativeZeroIsTheIntegerZero() throws {
        XCTAssertEqual(try JSONParser.parse("-0"), .integer(0))
        XCTAssertEqual(try JSONParser.parse("-0", integersOnly: true), .integer(0))
        XCTAssertEqual(CanonicalJSON.string(try JSONParser.parse("-0")), "0")
    }

    func testOverflowIsRefusedAndUnderflowRoundsToZero() throws {
        XCTAssertEqual(parseError("[1, -1.5e400]"), JSONParseError(line: 1, column: 5, offset: 4, reason: "number -1.5e400 is out of range (too large for a 64-bit double)"))
        XCTAssertEqual(try JSONParser.parse("1e-400"), .number(0))
        XCTAssertEqual(try JSONParser.parse("1.7976931348623157e308"), .number(.greatestFiniteMagnitude))
        XCTAssertEqual(try JSONParser.parse("5e-324"), .number(.leastNonzeroMagnitude))
    }

    func testEveryEntryPointAgrees() throws {
        let text = #"{"a": [1, "é"]}"#
        let fromString = try JSONParser.parse(text)
        XCTAssertEqual(try JSONParser.parse(Array(text.utf8)), fromString)
        let fromBuffer = try Array(text.utf8).withUnsafeBytes { buffer in
            try Result { () throws(JSONParseError) in try JSONParser.parse(buffer) }.get()
        }
        XCTAssertEqual(fromBuffer, fromString)
        XCTAssertThrowsError(try JSONParser.parse([UInt8]()), "empty input is not JSON text")
    }

    // MARK: Randomized round trips and mutations

    func testRandomValuesRoundTripThroughTheCanonicalForm() throws {
        var random = SplitMix64(seed: 0x5EED_0001)
        for round in 0..<20_000 {
            let value = randomValue(depth: 0, using: &random)
            let encoded = CanonicalJSON.encode(value)
            let parsed: JSONValue
            do {
                parsed = try JSONParser.parse(encoded, integersOnly: !value.holdsNumber)
            } catch {
                return XCTFail("round \(round): \(error) in \(String(decoding: encoded, as: UTF8.self).debugDescription)")
            }
            XCTAssertEqual(parsed, value, "round \(round)")
            XCTAssertEqual(CanonicalJSON.encode(parsed), encoded, "round \(round): the canonical form is not a fixed point")
        }
    }

    func testMutatedDocumentsNeverCrashTheParser() throws {
        var random = SplitMix64(seed: 0x5EED_0002)
        let documents = (0..<300).map { _ in CanonicalJSON.encode(randomValue(depth: 0, using: &random)) }
            + [Array(#"{"seq":1,"id":"3f0c","data":{"a":[1,-2,3.5e-7,true,null,"\u0001é😀"]}}"#.utf8)]
        let interesting: [UInt8] = Array(#"{}[],:"\-+.eE0123456789 tfn/"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
        var accepted = 0, refused = 0
        for round in 0..<20_000 {
            var bytes = documents[Int.random(in: 0..<documents.count, using: &random)]
            for _ in 0...Int.random(in: 0..<3, using: &random) {
                let position = Int.random(in: 0...bytes.count, using: &random)
                switch Int.random(in: 0..<5, using: &random) {
                case 0 where position < bytes.count: bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                case 1 where position < bytes.count: bytes[position] = interesting.randomElement(using: &random)!
                case 2: bytes.insert(interesting.randomElement(using: &random)!, at: position)
                case 3 where position < bytes.count: bytes.remove(at: position)
                case 4: bytes.removeSubrange(position...)
                default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
                }
            }
            do {
                let value = try JSONParser.parse(bytes)
                accepted += 1
                let encoded = CanonicalJSON.encode(value)
                XCTAssertEqual(CanonicalJSON.encode(try JSONParser.parse(encoded)), encoded, "round \(round)")
            } catch {
                refused += 1
                XCTAssert((0...bytes.count).contains(error.offset) && error.line >= 1 && error.column >= 1 && !error.reason.isEmpty, "round \(round): \(error)")
            }
        }
        XCTAssertGreaterThan(accepted, 500, "mutations should sometimes still be JSON")
        XCTAssertGreaterThan(refused, 10_000)
    }

    // MARK: Helpers

    private func parseError(_ text: String, integersOnly: Bool = false, file: StaticString = #filePath, line: UInt = #line) -> JSONParseError? {
        do {
            let value = try JSONParser.parse(text, integersOnly: integersOnly)
            XCTFail("accepted \(text.debugDescription) as \(CanonicalJSON.string(value))", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    private func randomValue(depth: Int, using random: inout SplitMix64) -> JSONValue {
        let kinds = depth >= 4 ? 5 : 7
        switch Int.random(in: 0..<kinds, using: &random) {
        case 0: return Bool.random(using: &random) ? .null : .bool(Bool.random(using: &random))
        case 1, 2: return .integer(randomInteger(using: &random))
        case 3: return Int.random(in: 0..<4, using: &random) == 0 ? .number(randomDouble(using: &random)) : .integer(randomInteger(using: &random))
        case 4: return .string(randomString(using: &random))
        case 5: return .array((0..<Int.random(in: 0...5, using: &random)).map { _ in randomValue(depth: depth + 1, using: &random) })
        default:
            var object = JSONObject()
            for _ in 0..<Int.random(in: 0...5, using: &random) {
                object[randomString(using: &random)] = randomValue(depth: depth + 1, using: &random)
            }
            return .object(object)
        }
    }

    private func randomInteger(using random: inout SplitMix64) -> Int {
        let max = JSONValue.maxSafeInteger
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return [0, 1, -1, max, -max, max - 1, -max + 1].randomElement(using: &random)!
        case 1: return Int.random(in: -1000...1000, using: &random)
        default: return Int.random(in: -max...max, using: &random)
        }
    }

    /// A finite double that does not read back as an `.integer` (an integral value within
    /// ±(2^53−1), or −0, is written like an integer).
    private func randomDouble(using random: inout SplitMix64) -> Double {
        while true {
            let candidate = Bool.random(using: &random)
                ? Double(bitPattern: random.next())
                : Double(Int.random(in: -1_000_000...1_000_000, using: &random)) / 1000
            if candidate.isFinite, !(candidate.rounded() == candidate && candidate.magnitude <= Double(JSONValue.maxSafeInteger)) {
                return candidate
            }
        }
    }

    private func randomString(using random: inout SplitMix64) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...12, using: &random) {
            let value: UInt32
            switch Int.random(in: 0..<10, using: &random) {
            case 0...3: value = UInt32.random(in: 0x20...0x7E, using: &random)
            case 4: value = UInt32.random(in: 0x00...0x1F, using: &random)
            case 5: value = [0x22, 0x5C, 0x2F, 0x7F, 0x2028, 0x2029, 0xFEFF, 0xE9, 0x301, 0xFFFF].randomElement(using: &random)!
            case 6, 7: value = UInt32.random(in: 0x80...0xD7FF, using: &random)
            case 8: value = UInt32.random(in: 0xE000...0xFFFF, using: &random)
            default: value = UInt32.random(in: 0x10000...0x10FFFF, using: &random)
            }
            scalars.append(Unicode.Scalar(value)!)
        }
        return String(scalars)
    }
}

private extension JSONValue {
    var holdsNumber: Bool {
        switch self {
        case .number: true
        case .array(let elements): elements.contains { $0.holdsNumber }
        case .object(let object): object.members.contains { $0.value.holdsNumber }
        default: false
        }
    }
}

