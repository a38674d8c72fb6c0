import EventStore

/// Finds Danish CPR numbers (personal identity numbers) in what a caller wants to write,
/// so an append can refuse them (SPEC §3: a log line can never be erased).
///
/// A CPR-like number is six ASCII digits forming a valid date `DDMMYY`, then an optional
/// single `-` or space, then four ASCII digits, with no ASCII digit right before or after.
/// The century comes from the seventh digit as the CPR rules give it, so 29 February is
/// valid only in a leap year. There is deliberately no modulus-11 check: numbers issued
/// since 2007 need not pass it.
public enum CPRGuard {
    /// The first CPR-like number in `text`, exactly as written there, or nil.
    ///
    /// Complexity: O(n) in the UTF-8 length of `text`.
    public static func firstMatch(in text: String) -> String? {
        var text = text
        return text.withUTF8 { bytes in
            firstMatch(in: bytes).map { String(decoding: UnsafeBufferPointer(rebasing: bytes[$0]), as: UTF8.self) }
        }
    }

    /// The first string in `value`, at any depth, that holds a CPR-like number: every
    /// string value and every object member name, in canonical member order.
    ///
    /// `path` names where it is: `data.participants.cpi`, `data.agenda[2]`; for a
    /// member name it is the path of that member; for `value` itself it is empty.
    public static func firstMatch(in value: JSONValue) -> (path: String, match: String)? {
        firstMatch(in: value, path: "")
    }

    private static func firstMatch(in value: JSONValue, path: String) -> (path: String, match: String)? {
        switch value {
        case .string(let text):
            return firstMatch(in: text).map { (path, $0) }
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                if let found = firstMatch(in: element, path: "\(path)[\(index)]") { return found }
            }
            return nil
        case .object(let object):
            for member in object.members {
                let memberPath = path.isEmpty ? member.key : "\(path).\(member.key)"
                if let match = firstMatch(in: member.key) { return (memberPath, match) }
                if let found = firstMatch(in: member.value, path: memberPath) { return found }
            }
            return nil
        case .null, .bool, .integer, .number:
            return nil
        }
    }

    /// The byte range of the first CPR-like number in `bytes` (UTF-8), or nil.
    ///
    /// Only the start of a run of digits can start a match (a digit before disqualifies
    /// any other start), so the scan looks at each run once: a run of exactly ten digits,
    /// or of exactly six followed by one separator and a run of exactly four.
    static func firstMatch(in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        let count = bytes.count
        var start = 0
        while start < count {
            guard isDigit(bytes[start]) else {
                start += 1
                continue
            }
            let end = endOfDigits(in: bytes, from: start)
            switch end - start {
            case 10:
                if isDate(bytes, at: start, seventhDigit: bytes[start + 6]) { return start..<end }
            case 6:
                let tail = end + 1
                if tail < count, bytes[end] == UInt8(ascii: "-") || bytes[end] == UInt8(ascii: " "),
                    endOfDigits(in: bytes, from: tail) - tail == 4,
                    isDate(bytes, at: start, seventhDigit: bytes[tail])
                {
                    return start..<(tail + 4)
                }
            default:
                break
            }
            start = end
        }
        return nil
    }

    /// The full birth year from the two-digit year and the seventh digit of a CPR number.
    static func fullYear(twoDigitYear yy: Int, seventhDigit digit: Int) -> Int {
        switch digit {
        case 0...3: 1900 + yy
        case 4, 9: (yy <= 36 ? 2000 : 1900) + yy
        default: (yy <= 57 ? 2000 : 1800) + yy  // 5 … 8
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    private static func endOfDigits(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var end = start
        while end < bytes.count, isDigit(bytes[end]) { end += 1 }
        return end
    }

    /// Whether the six digits at `start` form a valid `DDMMYY` for that century.
    private static func isDate(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, seventhDigit: UInt8) -> Bool {
        func number(_ offset: Int) -> Int {
            Int(bytes[start + offset] &- UInt8(ascii: "0")) * 10 + Int(bytes[start + offset + 1] &- UInt8(ascii: "0"))
        }
        let day = number(0), month = number(2)
        let year = fullYear(twoDigitYear: number(4), seventhDigit: Int(seventhDigit &- UInt8(ascii: "0")))
        guard (1...12).contains(month) else { return false }
        return (1...daysIn(month: month, year: year)).contains(day)
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }
}
