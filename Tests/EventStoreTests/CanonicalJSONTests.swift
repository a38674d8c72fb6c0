import EventStore
import Foundation
import XCTest

final class CanonicalJSONTests: XCTestCase {

    // MARK: RFC 8785 test vectors (github.com/cyberphone/json-canonicalization, testdata)

    func testEveryJCSVectorCanonicalizesToItsExpectedBytes() throws {
        let folder = try jcsFolder()
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("input").path)
            .filter { $0.hasSuffix(".json") }
            .sorted()
        XCTAssertEqual(names, ["arrays.json", "french.json", "structures.json", "unicode.json", "values.json", "weird.json"])
        for name in names {
            let input = try Data(contentsOf: folder.appendingPathComponent("input/\(name)"))
            let expected = try Data(contentsOf: folder.appendingPathComponent("output/\(name)"))
            let value = try JSONParser.parse(Array(input))
            let encoded = CanonicalJSON.encode(value)
            XCTAssertEqual(
                encoded, Array(expected),
                "\(name): got \(String(decoding: encoded, as: UTF8.self)), expected \(String(decoding: expected, as: UTF8.self))")
            XCTAssertEqual(CanonicalJSON.encode(try JSONParser.parse(encoded)), encoded, "\(name): the canonical form is a fixed point")
        }
    }

    /// The store refuses a line over 1 MiB by this bound before it encodes anything
    /// (`LineSealer.check`): a bound below the encoded length would let such a line be
    /// written. Escapes (six bytes for one), every control character, keys that need
    /// them, the longest numbers, nesting; the JCS vectors in the next test.
    func testTheLengthBoundIsNeverBelowTheEncodedLength() throws {
        let controls = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) })
        var values: [JSONValue] = [
            .null, .bool(false), .bool(true), .integer(0), .integer(-9_007_199_254_740_991), .integer(Int.min), .integer(Int.max),
            .number(-1.2345678901234567e-300), .number(Double.leastNonzeroMagnitude), .number(-1.7976931348623157e308), .number(0.1),
            .string(""), .string(controls), .string(String(repeating: "\u{01}", count: 1000)), .string("\"\\/\u{7F}\u{2028}æøå🙂"),
            .array([.array([]), .object(JSONObject()), .string(controls)]),
            .object(JSONObject(["\u{01}key\"": .string(controls), "b": .array([.integer(1), .number(2.5), .null])])),
        ]
        values.append(.array(values))
        values.append(.object(try JSONObject(members: values.enumerated().map { ("\($0.offset)\u{02}", $0.element) })))
        assertTheBoundHolds(for: values)
    }

    /// The same, for the values of the JCS vectors; skipped with a message where they
    /// are absent.
    func testTheLengthBoundHoldsForTheJCSVectors() throws {
        let folder = try jcsFolder()
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("input").path).filter { $0.hasSuffix(".json") }
        XCTAssertFalse(names.isEmpty)
        assertTheBoundHolds(for: try names.map { try JSONParser.parse(Array(try Data(contentsOf: folder.appendingPathComponent("input/\($0)")))) })
    }

    private func assertTheBoundHolds(for values: [JSONValue], file: StaticString = #filePath, line: UInt = #line) {
        for value in values {
            XCTAssertGreaterThanOrEqual(CanonicalJSON.lengthBound(of: value), CanonicalJSON.encode(value).count, "\(value)", file: file, line: line)
        }
    }

    func testFractionsInTheJCSValuesVectorAreRefusedWhenOnlyIntegersAreAllowed() throws {
        let input = try Data(contentsOf: try jcsFolder().appendingPathComponent("input/values.json"))
        XCTAssertThrowsError(try JSONParser.parse(Array(input), integersOnly: true)) { error in
            XCTAssertEqual(
                (error as? JSONParseError)?.description,
                "line 2, column 15: number 333333333.33333329 is not an integer within ±(2^53−1)")
        }
    }

    private func jcsFolder() throws -> URL {
        let folder = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/testdata/jcs/testdata")
            .standardizedFileURL
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("input").path) else {
            throw XCTSkip("JCS test vectors not found at \(folder.path) (expected <package root>/../shared/testdata/jcs/testdata/{input,output}); these cases were NOT run")
        }
        return folder
    }

    // MARK: Strings

    func testControlCharactersAreEscapedTheJCSWay() {
        let short: [UInt8: String] = [0x08: #"\b"#, 0x09: #"\t"#, 0x0A: #"\n"#, 0x0C: #"\f"#, 0x0D: #"\r"#]
        for byte in UInt8(0)..<0x20 {
            let expected = short[byte] ?? "\\u00" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
            XCTAssertEqual(CanonicalJSON.string(.string(String(UnicodeScalar(byte)))), "\"\(expected)\"", "U+00\(String(byte, radix: 16))")
        }
        XCTAssertEqual(CanonicalJSON.string(.string("\u{1F}\u{1B}")), #""\u001f\u001b""#, "lower-case hex")
        XCTAssertEqual(CanonicalJSON.string(.string(#"say "hi" \ bye"#)), #""say \"hi\" \\ bye""#)
    }

    func testEverythingElseIsWrittenAsUTF8() {
        let text = "/ \u{7F} \u{2028}\u{2029} é e\u{301} € \u{FEFF} 😀 \u{10FFFF} </script>"
        XCTAssertEqual(CanonicalJSON.encode(.string(text)), [0x22] + Array(text.utf8) + [0x22])
    }

    // MARK: Numbers

    func testIntegersAreWrittenPlainly() {
        let cases: [(Int, String)] = [
            (0, "0"), (7, "7"), (-7, "-7"), (10, "10"), (-100, "-100"),
            (JSONValue.maxSafeInteger, "9007199254740991"), (-JSONValue.maxSafeInteger, "-9007199254740991"),
            (Int.max, "9223372036854775807"), (Int.min, "-9223372036854775808"),
        ]
        for (integer, expected) in cases {
            XCTAssertEqual(CanonicalJSON.string(.integer(integer)), expected)
        }
    }

    /// Expected strings are what ECMAScript's `Number.prototype.toString` prints (Node.js),
    /// including the samples in the JCS test data README.
    func testNumbersAreWrittenTheECMAScriptWay() {
        let cases: [(UInt64, String)] = [
            (0x4340_0000_0000_0001, "9007199254740994"),
            (0x4340_0000_0000_0002, "9007199254740996"),
            (0x444B_1AE4_D6E2_EF50, "1e+21"),
            (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"),
            (0x4415_AF1D_78B5_8C40, "100000000000000000000"),
            (0x44B5_2D02_C7E1_4AF6, "1e+23"),
            (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
            (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"),
            (0x3EA0_C6F7_A0B5_ED8D, "5e-7"),
            (0x3F50_624D_D2F1_A9FC, "0.001"),
            (0x8000_0000_0000_0000, "0"),
            (0x0000_0000_0000_0000, "0"),
            (0x0000_0000_0000_0001, "5e-324"),
            (0x8000_0000_0000_0001, "-5e-324"),
            (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
            (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"),
            (0x0010_0000_0000_0000, "2.2250738585072014e-308"),
            (0x000F_FFFF_FFFF_FFFF, "2.225073858507201e-308"),
            (0x3FB9_9999_9999_999A, "0.1"),
            (0x3FD5_5555_5555_5555, "0.3333333333333333"),
            (0xC0AA_0AAA_AAAA_AAAA, "-3333.333333333333"),
            (0x4202_A05F_2000_0000, "10000000000"),
            (0x3FF0_0000_0000_0000, "1"),
            (0xBFF8_0000_0000_0000, "-1.5"),
            (0x4059_0000_0000_0000, "100"),
        ]
        for (bits, expected) in cases {
            let number = Double(bitPattern: bits)
            XCTAssertEqual(CanonicalJSON.string(.number(number)), expected, "\(number) (0x\(String(bits, radix: 16)))")
        }
    }

    func testNumbersReadBackExactly() throws {
        var state: UInt64 = 0x0123_4567_89AB_CDEF
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let number = Double(bitPattern: state)
            guard number.isFinite else { continue }
            let text = CanonicalJSON.string(.number(number))
            let read: Double
            switch try JSONParser.parse(text) {
            case .number(let value): read = value
            case .integer(let value): read = Double(value)
            default: return XCTFail(text)
            }
            XCTAssertEqual(read.bitPattern == number.bitPattern || (read == 0 && number == 0), true, "\(number) written as \(text)")
        }
    }

    // MARK: Structure

    func testMembersAreOrderedByUTF16CodeUnits() throws {
        // U+10000 is D800 DC00 in UTF-16, so it sorts before U+E000 though its scalar is larger.
        let object = try JSONObject(members: [("\u{E000}", .integer(1)), ("\u{10000}", .integer(2)), ("a", .null), ("", .bool(true))])
        XCTAssertEqual(CanonicalJSON.string(.object(object)), "{\"\":true,\"a\":null,\"\u{10000}\":2,\"\u{E000}\":1}")
    }

    func testNestedStructuresHaveNoWhiteSpace() throws {
        let value = try JSONParser.parse(" { \"b\" : [ 1 , { } , [ ] , \"x\" ] , \"a\" : { \"c\" : null } } ")
        XCTAssertEqual(CanonicalJSON.string(value), #"{"a":{"c":null},"b":[1,{},[],"x"]}"#)
    }

    func testEncodeIntoAppends() {
        var out = Array("prefix:".utf8)
        CanonicalJSON.encode(.array([.bool(true), .bool(false), .null]), into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "prefix:[true,false,null]")
    }

    /// An array member written element by element gives the bytes of the whole tree,
    /// wherever its name sorts (UTF-16 order, so "\u{10000}" before "\u{FFFF}").
    func testAnArrayMemberStreamedEncodesAsTheTree() throws {
        let object = JSONObject(["b": .integer(1), "d": .string("x"), "\u{FFFF}": .null, "\u{10000}": .bool(true)])
        let elements: [JSONValue] = [.integer(1), .object(JSONObject(["z": .string("é"), "a": .array([])])), .string("\n")]
        for name in ["a", "c", "e", "b0", "\u{FFFF}0", "\u{10000}0", "\u{E000}"] {
            for count in [0, 1, elements.count] {
                var tree = object
                tree[name] = .array(Array(elements.prefix(count)))
                var streamed: [UInt8] = [0x20]
                CanonicalJSON.encode(object, array: name, count: count, into: &streamed) { index, out in
                    CanonicalJSON.encode(elements[index], into: &out)
                }
                XCTAssertEqual(streamed, [0x20] + CanonicalJSON.encode(.object(tree)), "\(name), \(count) elements")
            }
        }
    }
}
