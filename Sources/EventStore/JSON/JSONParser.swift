/// A strict RFC 8259 parser over UTF-8 bytes.
///
/// It accepts exactly the JSON text of RFC 8259 §2–§8 and refuses everything else:
/// trailing commas, comments, single quotes, leading zeros, `NaN`/`Infinity`, unescaped
/// control characters, bytes after the value other than white space, a byte order mark,
/// invalid UTF-8 (overlong forms, encoded surrogates, code points past U+10FFFF,
/// truncated sequences), escapes that leave a surrogate alone, and an object that names
/// a member twice (names compared byte for byte on their decoded UTF-8, so a composed
/// and a decomposed "é" are two different names).
///
/// Numbers: a lexeme without fraction or exponent whose value is within
/// ±(2^53−1) becomes `.integer` (`-0` becomes `.integer(0)`, so a line holding `-0` is
/// not its own canonical form, which the log checks separately); any other number
/// becomes `.number` with the nearest `Double`, or is refused as "out of range" when its
/// magnitude overflows to infinity. A magnitude too small for a `Double` rounds to zero,
/// like any other rounding. With `integersOnly: true` every number that is not an
/// `.integer` is refused, naming the lexeme.
///
/// Nesting deeper than `maxDepth` arrays and objects is refused before it can exhaust
/// the stack. Errors carry the byte offset and a 1-based line and column (lines end at
/// `\n`; columns count Unicode scalars).
public enum JSONParser {
    /// The deepest nesting of arrays and objects the parser accepts.
    public static let maxDepth = 512

    /// Parses one JSON text.
    ///
    /// - Throws: `JSONParseError` naming the first place where the bytes are not strict JSON.
    /// - Complexity: O(n) in the number of bytes, plus O(m log m) per object of m members
    ///   that are not already in canonical order.
    public static func parse(_ bytes: UnsafeRawBufferPointer, integersOnly: Bool = false) throws(JSONParseError) -> JSONValue {
        var parser = Parser(bytes: bytes, integersOnly: integersOnly)
        return try parser.parseDocument()
    }

    /// Parses one JSON text held in an array of bytes. See `parse(_:integersOnly:)`.
    public static func parse(_ bytes: [UInt8], integersOnly: Bool = false) throws(JSONParseError) -> JSONValue {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try parse(buffer, integersOnly: integersOnly) }
        }
        return try result.get()
    }

    /// Parses one JSON text held in a string (its UTF-8). See `parse(_:integersOnly:)`.
    public static func parse(_ string: String, integersOnly: Bool = false) throws(JSONParseError) -> JSONValue {
        var string = string
        let result = string.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                try parse(UnsafeRawBufferPointer(buffer), integersOnly: integersOnly)
            }
        }
        return try result.get()
    }
}

/// Why and where a JSON text was refused.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line; lines end at `\n`.
    public let line: Int
    /// 1-based column, counted in Unicode scalars from the start of the line.
    public let column: Int
    /// 0-based byte offset of the offending byte (the byte count when the input ended too early).
    public let offset: Int
    /// What is wrong, e.g. `duplicate member name "a"`.
    public let reason: String

    public init(line: Int, column: Int, offset: Int, reason: String) {
        self.line = line
        self.column = column
        self.offset = offset
        self.reason = reason
    }

    /// `line 1, column 17: duplicate member name "a"`.
    public var description: String { "line \(line), column \(column): \(reason)" }
}

// MARK: - The parser

extension JSONParser {
    fileprivate enum ASCII {
        static let tab: UInt8 = 0x09, newline: UInt8 = 0x0A, carriageReturn: UInt8 = 0x0D, space: UInt8 = 0x20
        static let quote: UInt8 = 0x22, apostrophe: UInt8 = 0x27, plus: UInt8 = 0x2B, comma: UInt8 = 0x2C
        static let minus: UInt8 = 0x2D, period: UInt8 = 0x2E, slash: UInt8 = 0x2F, zero: UInt8 = 0x30
        static let nine: UInt8 = 0x39, colon: UInt8 = 0x3A, upperE: UInt8 = 0x45, openBracket: UInt8 = 0x5B
        static let backslash: UInt8 = 0x5C, closeBracket: UInt8 = 0x5D, lowerE: UInt8 = 0x65
        static let openBrace: UInt8 = 0x7B, closeBrace: UInt8 = 0x7D
    }

    fileprivate struct Parser {
        let bytes: UnsafeRawBufferPointer
        let count: Int
        let integersOnly: Bool
        var index = 0
        var depth = 0
        /// Decoded bytes of a string that holds escapes; reused from string to string.
        var scratch: [UInt8] = []
        /// Offsets of the member names of the objects being parsed, innermost last; only
        /// read to place a duplicate-name error.
        var nameOffsets: [Int] = []

        init(bytes: UnsafeRawBufferPointer, integersOnly: Bool) {
            self.bytes = bytes
            self.count = bytes.count
            self.integersOnly = integersOnly
        }

        mutating func parseDocument() throws(JSONParseError) -> JSONValue {
            if count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
                throw error("byte order mark (U+FEFF) before the JSON text; remove it", at: 0)
            }
            if looksLikeUTF16() {
                throw error("the input looks like UTF-16; JSON text must be UTF-8", at: 0)
            }
            skipWhitespace()
            if index == count {
                throw error(count == 0 ? "empty input; expected a JSON value" : "only white space; expected a JSON value", at: index)
            }
            let value = try parseValue()
            skipWhitespace()
            if index != count {
                throw unexpected(expected: "the end of the input after the JSON value")
            }
            return value
        }

        /// A UTF-16 byte order mark, or the zero bytes that ASCII gets in UTF-16.
        func looksLikeUTF16() -> Bool {
            guard count >= 2 else { return false }
            if (bytes[0], bytes[1]) == (0xFF, 0xFE) || (bytes[0], bytes[1]) == (0xFE, 0xFF) { return true }
            guard count >= 4, count % 2 == 0 else { return false }
            return (bytes[0] == 0 && bytes[2] == 0 && bytes[1] != 0 && bytes[3] != 0)
                || (bytes[1] == 0 && bytes[3] == 0 && bytes[0] != 0 && bytes[2] != 0)
        }

        // MARK: Values

        mutating func parseValue() throws(JSONParseError) -> JSONValue {
            guard index < count else { throw unexpected(expected: "a value") }
            switch bytes[index] {
            case ASCII.openBrace: return try parseObject()
            case ASCII.openBracket: return try parseArray()
            case ASCII.quote: return .string(try parseString())
            case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try parseLiteral("null"); return .null
            case ASCII.minus, ASCII.zero...ASCII.nine: return try parseNumber()
            default: throw unexpected(expected: "a value")
            }
        }

        mutating func parseArray() throws(JSONParseError) -> JSONValue {
            try enterContainer()
            index += 1
            skipWhitespace()
            var elements: [JSONValue] = []
            if index < count, bytes[index] == ASCII.closeBracket {
                index += 1
                depth -= 1
                return .array(elements)
            }
            while true {
                elements.append(try parseValue())
                skipWhitespace()
                guard index < count else { throw unexpected(expected: "',' or ']'") }
                switch bytes[index] {
                case ASCII.comma:
                    let comma = index
                    index += 1
                    skipWhitespace()
                    if index < count, bytes[index] == ASCII.closeBracket {
                        throw error("trailing comma before ']'", at: comma)
                    }
                case ASCII.closeBracket:
                    index += 1
                    depth -= 1
                    return .array(elements)
                default:
                    throw unexpected(expected: "',' or ']'")
                }
            }
        }

        mutating func parseObject() throws(JSONParseError) -> JSONValue {
            try enterContainer()
            index += 1
            skipWhitespace()
            if index < count, bytes[index] == ASCII.closeBrace {
                index += 1
                depth -= 1
                return .object(JSONObject())
            }
            var members: [JSONObject.Member] = []
            let firstName = nameOffsets.count
            defer { nameOffsets.removeSubrange(firstName...) }
            while true {
                guard index < count, bytes[index] == ASCII.quote else {
                    throw unexpected(expected: "a member name in double quotes")
                }
                nameOffsets.append(index)
                let name = try parseString()
                skipWhitespace()
                guard index < count, bytes[index] == ASCII.colon else {
                    throw unexpected(expected: "':' after the member name")
                }
                index += 1
                skipWhitespace()
                members.append((name, try parseValue()))
                skipWhitespace()
                guard index < count else { throw unexpected(expected: "',' or '}'") }
                switch bytes[index] {
                case ASCII.comma:
                    let comma = index
                    index += 1
                    skipWhitespace()
                    if index < count, bytes[index] == ASCII.closeBrace {
                        throw error("trailing comma before '}'", at: comma)
                    }
                case ASCII.closeBrace:
                    index += 1
                    depth -= 1
                    do {
                        return .object(try JSONObject(members: members))
                    } catch {
                        throw duplicateNameError(members, nameOffsets: nameOffsets[firstName...])
                    }
                default:
                    throw unexpected(expected: "',' or '}'")
                }
            }
        }

        /// The first member, in document order, whose name repeats an earlier one byte for byte.
        func duplicateNameError(_ members: [JSONObject.Member], nameOffsets: ArraySlice<Int>) -> JSONParseError {
            var seen = Set<[UInt8]>()
            for (member, offset) in zip(members, nameOffsets) {
                if !seen.insert(Array(member.key.utf8)).inserted {
                    return error("duplicate member name \(CanonicalJSON.string(.string(member.key)))", at: offset)
                }
            }
            return error("duplicate member name", at: nameOffsets.first ?? index)  // not reached: JSONObject compares the same bytes
        }

        mutating func enterContainer() throws(JSONParseError) {
            depth += 1
            if depth > JSONParser.maxDepth {
                throw error("arrays and objects nested deeper than \(JSONParser.maxDepth) levels", at: index)
            }
        }

        mutating func parseLiteral(_ word: StaticString) throws(JSONParseError) {
            let start = index
            let length = word.utf8CodeUnitCount
            let expected = word.utf8Start
            for k in 0..<length {
                guard start + k < count, bytes[start + k] == expected[k] else {
                    index = start + k
                    throw start + k < count
                        ? error("invalid literal \(describeWord(at: start)); expected '\(word)'", at: start)
                        : error("unexpected end of input inside '\(word)'", at: start + k)
                }
            }
            index = start + length
        }

        // MARK: Numbers

        mutating func parseNumber() throws(JSONParseError) -> JSONValue {
            let start = index
            let negative = bytes[index] == ASCII.minus
            if negative { index += 1 }
            let integerStart = index
            guard index < count, isDigit(bytes[index]) else {
                throw index < count
                    ? unexpected(expected: "a digit after '-'")
                    : error("unexpected end of input; expected a digit after '-'", at: index)
            }
            if bytes[index] == ASCII.zero {
                index += 1
                if index < count, isDigit(bytes[index]) {
                    throw error("leading zeros are not allowed in numbers", at: start)
                }
            } else {
                while index < count, isDigit(bytes[index]) { index += 1 }
            }
            let integerEnd = index
            var isInteger = true
            if index < count, bytes[index] == ASCII.period {
                isInteger = false
                index += 1
                try requireDigit(after: "the decimal point")
            }
            if index < count, bytes[index] == ASCII.lowerE || bytes[index] == ASCII.upperE {
                isInteger = false
                index += 1
                if index < count, bytes[index] == ASCII.plus || bytes[index] == ASCII.minus { index += 1 }
                try requireDigit(after: "the exponent mark")
            }

            // 16 digits hold every integer up to 2^53−1; more digits (no leading zeros) exceed it.
            if isInteger, integerEnd - integerStart <= 16 {
                var magnitude = 0
                for k in integerStart..<integerEnd { magnitude = magnitude &* 10 &+ Int(bytes[k] &- ASCII.zero) }
                if magnitude <= JSONValue.maxSafeInteger {
                    return .integer(negative ? -magnitude : magnitude)
                }
            }
            let lexeme = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if integersOnly {
                throw error("number \(abbreviated(lexeme)) is not an integer within ±(2^53−1)", at: start)
            }
            // The lexeme is valid JSON, hence a valid decimal for the C-locale `strtod` behind `Double.init`.
            guard let double = Double(lexeme), double.isFinite else {
                throw error("number \(abbreviated(lexeme)) is out of range (too large for a 64-bit double)", at: start)
            }
            return .number(double)
        }

        mutating func requireDigit(after what: String) throws(JSONParseError) {
            guard index < count, isDigit(bytes[index]) else {
                throw index < count
                    ? unexpected(expected: "a digit after \(what)")
                    : error("unexpected end of input; expected a digit after \(what)", at: index)
            }
            while index < count, isDigit(bytes[index]) { index += 1 }
        }

        func isDigit(_ byte: UInt8) -> Bool { byte &- ASCII.zero < 10 }

        func abbreviated(_ lexeme: String) -> String {
            lexeme.utf8.count <= 40 ? lexeme : String(lexeme.prefix(32)) + "…(\(lexeme.utf8.count) characters)"
        }

        // MARK: Strings

        /// Parses a string starting at its opening quote; leaves `index` after the closing quote.
        mutating func parseString() throws(JSONParseError) -> String {
            index += 1
            var segmentStart = index
            var escaped = false
            while true {
                // Skip eight plain ASCII bytes at a time: none is '"', '\', a control or above 0x7F.
                while index &+ 8 <= count {
                    let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    if UTF8Sequence.needsAttention(word) { break }
                    index &+= 8
                }
                guard index < count else {
                    throw error("unexpected end of input inside a string", at: index)
                }
                let byte = bytes[index]
                if byte == ASCII.quote {
                    let tail = UnsafeRawBufferPointer(rebasing: bytes[segmentStart..<index])
                    index += 1
                    if !escaped { return String(decoding: tail, as: UTF8.self) }
                    scratch.append(contentsOf: tail)
                    defer { scratch.removeAll(keepingCapacity: true) }
                    return String(decoding: scratch, as: UTF8.self)
                } else if byte == ASCII.backslash {
                    if !escaped { escaped = true; scratch.removeAll(keepingCapacity: true) }
                    scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[segmentStart..<index]))
                    try parseEscape()
                    segmentStart = index
                } else if byte < 0x20 {
                    throw error("control character \(scalarName(UInt32(byte))) in a string must be escaped", at: index)
                } else if byte < 0x80 {
                    index += 1
                } else {
                    try skipUTF8Sequence()
                }
            }
        }

        /// Decodes the escape at `index` (a backslash) into `scratch`.
        mutating func parseEscape() throws(JSONParseError) {
            let start = index
            index += 1
            guard index < count else { throw error("unexpected end of input inside an escape", at: index) }
            let decoded: UInt8
            switch bytes[index] {
            case ASCII.quote: decoded = ASCII.quote
            case ASCII.backslash: decoded = ASCII.backslash
            case ASCII.slash: decoded = ASCII.slash
            case UInt8(ascii: "b"): decoded = 0x08
            case UInt8(ascii: "f"): decoded = 0x0C
            case UInt8(ascii: "n"): decoded = ASCII.newline
            case UInt8(ascii: "r"): decoded = ASCII.carriageReturn
            case UInt8(ascii: "t"): decoded = ASCII.tab
            case UInt8(ascii: "u"):
                index += 1
                let unit = try hex4()
                var scalar = UInt32(unit)
                if (0xDC00...0xDFFF).contains(unit) {
                    throw error("lone low surrogate \\u\(hex(unit)) (not preceded by a high surrogate escape)", at: start)
                }
                if (0xD800...0xDBFF).contains(unit) {
                    guard index + 1 < count, bytes[index] == ASCII.backslash, bytes[index + 1] == UInt8(ascii: "u") else {
                        throw error("lone high surrogate \\u\(hex(unit)) (not followed by a \\uDC00–\\uDFFF escape)", at: start)
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw error("lone high surrogate \\u\(hex(unit)) (followed by \\u\(hex(low)), not by \\uDC00–\\uDFFF)", at: start)
                    }
                    scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                }
                appendUTF8(scalar)
                return
            case let byte:
                let escape = (0x21...0x7E).contains(byte) ? "'\\\(Character(Unicode.Scalar(byte)))'" : "'\\' followed by \(describeByte(byte))"
                throw error("invalid escape \(escape) in a string", at: start)
            }
            scratch.append(decoded)
            index += 1
        }

        /// Reads four hex digits at `index`.
        mutating func hex4() throws(JSONParseError) -> UInt16 {
            var value: UInt16 = 0
            for k in 0..<4 {
                guard index + k < count else { throw error("unexpected end of input inside a \\u escape", at: index + k) }
                let byte = bytes[index + k]
                let digit: UInt8
                switch byte {
                case ASCII.zero...ASCII.nine: digit = byte - ASCII.zero
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("\\u must be followed by four hex digits", at: index + k)
                }
                value = value << 4 | UInt16(digit)
            }
            index += 4
            return value
        }

        mutating func appendUTF8(_ scalar: UInt32) {
            switch scalar {
            case ..<0x80:
                scratch.append(UInt8(scalar))
            case ..<0x800:
                scratch.append(UInt8(0xC0 | scalar >> 6))
                scratch.append(UInt8(0x80 | scalar & 0x3F))
            case ..<0x10000:
                scratch.append(UInt8(0xE0 | scalar >> 12))
                scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                scratch.append(UInt8(0x80 | scalar & 0x3F))
            default:
                scratch.append(UInt8(0xF0 | scalar >> 18))
                scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
                scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                scratch.append(UInt8(0x80 | scalar & 0x3F))
            }
        }

        /// Checks the multi-byte UTF-8 sequence at `index` (RFC 3629 §4) and steps over it.
        mutating func skipUTF8Sequence() throws(JSONParseError) {
            let start = index
            let lead = bytes[index]
            guard let (second, length) = UTF8Sequence.shape(lead: lead) else {
                switch lead {
                case 0x80...0xBF:
                    throw error("invalid UTF-8: continuation byte 0x\(hex(lead)) without a lead byte", at: start)
                case 0xC0, 0xC1:
                    throw error("invalid UTF-8: overlong encoding (lead byte 0x\(hex(lead)))", at: start)
                case 0xF5...0xF7:
                    throw error("invalid UTF-8: lead byte 0x\(hex(lead)) encodes a code point above U+10FFFF", at: start)
                default:
                    throw error("invalid UTF-8: byte 0x\(hex(lead)) never occurs in UTF-8", at: start)
                }
            }
            guard start + 1 < count, (0x80...0xBF).contains(bytes[start + 1]) else {
                throw error("invalid UTF-8: truncated sequence (lead byte 0x\(hex(lead)) not followed by a continuation byte)", at: start)
            }
            let next = bytes[start + 1]
            guard second.contains(next) else {
                let what = switch lead {
                case 0xE0, 0xF0: "overlong encoding"
                case 0xED: "a surrogate (U+D800–U+DFFF) encoded in UTF-8"
                default: "a code point above U+10FFFF"
                }
                throw error("invalid UTF-8: \(what) (bytes 0x\(hex(lead)) 0x\(hex(next)))", at: start)
            }
            for k in 2..<length {
                guard start + k < count, (0x80...0xBF).contains(bytes[start + k]) else {
                    throw error("invalid UTF-8: truncated sequence (lead byte 0x\(hex(lead)) expects \(length) bytes)", at: start)
                }
            }
            index = start + length
        }

        // MARK: White space and errors

        @inline(__always)
        mutating func skipWhitespace() {
            while index < count {
                switch bytes[index] {
                case ASCII.space, ASCII.newline, ASCII.carriageReturn, ASCII.tab: index += 1
                default: return
                }
            }
        }

        /// An error for the byte at `index` (or the end of input), saying what was expected there.
        func unexpected(expected: String) -> JSONParseError {
            guard index < count else { return error("unexpected end of input; expected \(expected)", at: index) }
            let byte = bytes[index]
            switch byte {
            case ASCII.slash:
                return error("comments are not allowed in JSON; expected \(expected)", at: index)
            case ASCII.apostrophe:
                return error("single quotes are not JSON; strings and names use double quotes", at: index)
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                return error("unexpected \(describeWord(at: index)); expected \(expected)", at: index)
            default:
                return error("unexpected \(describeByte(byte)); expected \(expected)", at: index)
            }
        }

        /// `'NaN'`: the run of ASCII letters at `offset`, shortened if long.
        func describeWord(at offset: Int) -> String {
            var end = offset
            while end < count, end - offset < 20, (bytes[end] | 0x20) &- UInt8(ascii: "a") < 26 { end += 1 }
            if end == offset { return describeByte(bytes[offset]) }
            return "'" + String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), as: UTF8.self) + "'"
        }

        func describeByte(_ byte: UInt8) -> String {
            switch byte {
            case 0x21...0x7E: "'\(Character(Unicode.Scalar(byte)))'"
            case 0x00..<0x20, 0x7F: "control character \(scalarName(UInt32(byte)))"
            case 0x20: "space"
            default: "byte 0x\(hex(byte))"
            }
        }

        func scalarName(_ value: UInt32) -> String {
            let digits = String(value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        }

        func hex<T: BinaryInteger>(_ value: T) -> String {
            let digits = String(value, radix: 16, uppercase: true)
            let width = MemoryLayout<T>.size * 2
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }

        /// An error at `offset`, with its line and column worked out from the bytes before it.
        func error(_ reason: String, at offset: Int) -> JSONParseError {
            var line = 1, column = 1
            for k in 0..<min(offset, count) {
                let byte = bytes[k]
                if byte == ASCII.newline {
                    line += 1
                    column = 1
                } else if byte & 0xC0 != 0x80 {
                    column += 1
                }
            }
            return JSONParseError(line: line, column: column, offset: offset, reason: reason)
        }
    }
}
