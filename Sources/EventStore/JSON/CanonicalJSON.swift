/// The canonical form of RFC 8785 (JSON Canonicalization Scheme).
///
/// No white space; members in the order `JSONObject` already keeps (UTF-16 code units);
/// strings escape only `"`, `\` and the controls below U+0020 (`\b \f \n \r \t`, the rest
/// as `\u00xx` in lower-case hex) and write every other scalar as UTF-8, including `/`,
/// U+007F and U+2028/U+2029; integers in plain decimal; other numbers as ECMAScript's
/// `Number.prototype.toString` writes them (RFC 8785 §3.2.2.3), with `-0` as `0`.
public enum CanonicalJSON {
    /// The canonical UTF-8 bytes of `value`.
    ///
    /// A `.number` that is NaN or infinite has no JSON form and stops the program; the
    /// parser never produces one.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        encode(value, into: &out)
        return out
    }

    /// Appends the canonical UTF-8 bytes of `value` to `out`. See `encode(_:)`.
    public static func encode(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(true): out.append(contentsOf: "true".utf8)
        case .bool(false): out.append(contentsOf: "false".utf8)
        case .integer(let integer): appendInteger(integer, into: &out)
        case .number(let number): appendNumber(number, into: &out)
        case .string(let string): appendString(string, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                encode(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (position, member) in object.members.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                appendString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                encode(member.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends the canonical bytes of `object` with one more member, `name`, whose value
    /// `value` appends (in canonical form): the bytes of the object holding it, without
    /// that value's tree ever being built.
    public static func encode(_ object: JSONObject, member name: String, into out: inout [UInt8], value: (inout [UInt8]) -> Void) {
        var object = object
        object[name] = .null // puts the member in its canonical place
        out.append(UInt8(ascii: "{"))
        for (position, member) in object.members.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            appendString(member.key, into: &out)
            out.append(UInt8(ascii: ":"))
            if member.key == name { value(&out) } else { encode(member.value, into: &out) }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// `encode(_:member:into:value:)` for an array of `count` elements that `element`
    /// appends one at a time: for outputs of many rows.
    public static func encode(_ object: JSONObject, array name: String, count: Int, into out: inout [UInt8],
                              element: (Int, inout [UInt8]) -> Void) {
        encode(object, member: name, into: &out) { encodeArray(count: count, into: &$0, element: element) }
    }

    /// Appends an array of `count` elements that `element` appends one at a time.
    public static func encodeArray(count: Int, into out: inout [UInt8], element: (Int, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "["))
        for index in 0..<count {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            element(index, &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// The canonical form of `value` as a string.
    public static func string(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    /// At least the length of `value`'s canonical bytes, found without encoding it: a
    /// string takes at most six bytes for each of its UTF-8 bytes (`\u00xx`) and its
    /// quotes; an integer at most 20; any other number at most 32 (ECMAScript writes none
    /// longer than 24).
    public static func lengthBound(of value: JSONValue) -> Int {
        switch value {
        case .null, .bool: 5
        case .integer: 20
        case .number: 32
        case .string(let string): 6 * string.utf8.count + 2
        case .array(let elements): elements.reduce(2) { $0 + lengthBound(of: $1) + 1 }
        case .object(let object): object.members.reduce(2) { $0 + 6 * $1.key.utf8.count + 3 + lengthBound(of: $1.value) + 1 }
        }
    }

    // MARK: Strings

    /// Appends `string` as a canonical JSON string, quotes included.
    public static func appendString(_ string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { appendEscaped($0, into: &out) }
        if done == nil {
            Array(string.utf8).withUnsafeBufferPointer { appendEscaped($0, into: &out) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Copies runs that need no escape whole; escapes `"`, `\` and controls (RFC 8785 §3.2.2.2).
    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        var runStart = 0
        for (position, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
            runStart = position + 1
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case 0x22: out.append(UInt8(ascii: "\""))
            case 0x5C: out.append(UInt8(ascii: "\\"))
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            default:
                let hexDigits: StaticString = "0123456789abcdef"
                out.append(contentsOf: "u00".utf8)
                out.append(hexDigits.utf8Start[Int(byte >> 4)])
                out.append(hexDigits.utf8Start[Int(byte & 0xF)])
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
    }

    // MARK: Numbers

    /// Appends `integer` in plain decimal.
    public static func appendInteger(_ integer: Int, into out: inout [UInt8]) {
        if integer < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = integer.magnitude
        let start = out.count
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        out[start...].reverse()
    }

    /// ECMAScript `Number.prototype.toString` (ECMA-262 §6.1.6.1.20), which RFC 8785
    /// §3.2.2.3 prescribes. Swift's `description` already gives the shortest digits that
    /// round-trip (closest to the value when several do); only their layout changes.
    static func appendNumber(_ number: Double, into out: inout [UInt8]) {
        precondition(number.isFinite, "CanonicalJSON: \(number) has no JSON form (RFC 8785 §3.2.2.2)")
        if number == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        if number < 0 { out.append(UInt8(ascii: "-")) }

        // `description` is "d.ddd", "ddd.d" or "d.ddde±x"; read it as digits × 10^(point − k).
        var digits: [UInt8] = []
        var pointPosition: Int?
        var exponent = 0
        var exponentSign = 1
        var inExponent = false
        for byte in number.magnitude.description.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9") where inExponent: exponent = exponent * 10 + Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits.append(byte)
            case UInt8(ascii: "."): pointPosition = digits.count
            case UInt8(ascii: "e"), UInt8(ascii: "E"): inExponent = true
            case UInt8(ascii: "-") where inExponent: exponentSign = -1
            default: break
            }
        }
        // n: the decimal point sits after the first n digits of s (ECMA-262's n, k, s).
        var n = (pointPosition ?? digits.count) + exponentSign * exponent
        let firstNonZero = digits.firstIndex { $0 != UInt8(ascii: "0") } ?? digits.count
        n -= firstNonZero
        let lastNonZero = digits.lastIndex { $0 != UInt8(ascii: "0") } ?? firstNonZero
        let s = digits[firstNonZero...lastNonZero]
        let k = s.count

        if k <= n && n <= 21 {
            out.append(contentsOf: s)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: n - k))
        } else if 0 < n && n <= 21 {
            out.append(contentsOf: s.prefix(n))
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: s.dropFirst(n))
        } else if -6 < n && n <= 0 {
            out.append(contentsOf: "0.".utf8)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -n))
            out.append(contentsOf: s)
        } else {
            out.append(s.first!)
            if k > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: s.dropFirst())
            }
            out.append(contentsOf: (n - 1 < 0 ? "e-" : "e+").utf8)
            appendInteger(abs(n - 1), into: &out)
        }
    }
}
