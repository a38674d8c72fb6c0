#if canImport(Glibc)
import Glibc
#endif

/// The members of a JSON object read in place from bytes that `CanonicalLine.scan`
/// already proved to be canonical strict JSON: no white space, names in order, every
/// value well formed. Nothing is checked again; values are decoded only when asked for,
/// through the strict parser whenever they are not plain (escapes, big numbers).
///
/// Valid only while the bytes it was made from are.
public struct CanonicalObject {
    /// The object, braces included.
    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The bytes of the value of member `name`, or nil when there is none.
    func value(_ name: StaticString) -> UnsafeRawBufferPointer? {
        let count = bytes.count
        let length = name.utf8CodeUnitCount
        var i = 1 // after "{"
        while i < count, bytes[i] == Self.quote {
            let nameEnd = Self.stringEnd(bytes, from: i + 1)
            let valueStart = nameEnd + 2 // past '"' and ':'
            let valueEnd = Self.valueEnd(bytes, from: valueStart)
            if nameEnd - i - 1 == length, memcmp(bytes.baseAddress! + i + 1, name.utf8Start, length) == 0 {
                return UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            }
            i = valueEnd + 1 // past ',' (or '}', ending the loop)
        }
        return nil
    }

    public func contains(_ name: StaticString) -> Bool { value(name) != nil }

    public func string(_ name: StaticString) -> String? { value(name).flatMap(Self.string) }

    public func integer(_ name: StaticString) -> Int? { value(name).flatMap(Self.integer) }

    public func object(_ name: StaticString) -> CanonicalObject? {
        guard let value = value(name), value.first == UInt8(ascii: "{") else { return nil }
        return CanonicalObject(value)
    }

    /// The strings of an array member, skipping anything else (as `compactMap(\.stringValue)`).
    public func strings(_ name: StaticString) -> [String] {
        guard let array = value(name), array.first == UInt8(ascii: "[") else { return [] }
        var result: [String] = []
        var i = 1
        while i < array.count - 1 {
            let end = Self.valueEnd(array, from: i)
            if let string = Self.string(UnsafeRawBufferPointer(rebasing: array[i..<end])) { result.append(string) }
            i = end + 1
        }
        return result
    }

    /// Every member with its value's bytes, in order.
    public func forEachMember(_ body: (String, UnsafeRawBufferPointer) -> Void) {
        var i = 1
        while i < bytes.count, bytes[i] == Self.quote {
            let nameEnd = Self.stringEnd(bytes, from: i + 1)
            let valueEnd = Self.valueEnd(bytes, from: nameEnd + 2)
            let name = Self.string(UnsafeRawBufferPointer(rebasing: bytes[i...nameEnd])) ?? ""
            body(name, UnsafeRawBufferPointer(rebasing: bytes[(nameEnd + 2)..<valueEnd]))
            i = valueEnd + 1
        }
    }

    /// A string value (quotes included) decoded; nil when the value is not a string.
    public static func string(_ value: UnsafeRawBufferPointer) -> String? {
        guard value.count >= 2, value[0] == quote else { return nil }
        let contents = UnsafeRawBufferPointer(rebasing: value[1..<(value.count - 1)])
        if !contents.contains(backslash) {
            return String(decoding: contents, as: UTF8.self)
        }
        return (try? JSONParser.parse(value))?.stringValue
    }

    /// An integer value; nil when the value is not one.
    public static func integer(_ value: UnsafeRawBufferPointer) -> Int? {
        guard let first = value.first, first == UInt8(ascii: "-") || first &- UInt8(ascii: "0") < 10 else { return nil }
        // Up to 15 digits is always within JSON's safe integers; longer goes the strict way.
        if value.count <= 15, value.dropFirst().allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) {
            var magnitude = 0
            for digit in value.dropFirst(first == UInt8(ascii: "-") ? 1 : 0) { magnitude = magnitude * 10 + Int(digit - UInt8(ascii: "0")) }
            return first == UInt8(ascii: "-") ? -magnitude : magnitude
        }
        return (try? JSONParser.parse(value, integersOnly: true))?.integerValue
    }

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

    /// The offset of the closing quote of the string whose contents start at `from`.
    private static func stringEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var i = start
        while bytes[i] != quote { i += bytes[i] == backslash ? 2 : 1 }
        return i
    }

    /// The offset just past the value starting at `from`.
    private static func valueEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        switch bytes[start] {
        case quote:
            return stringEnd(bytes, from: start + 1) + 1
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = start
            repeat {
                switch bytes[i] {
                case quote: i = stringEnd(bytes, from: i + 1)
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                default: break
                }
                i += 1
            } while depth > 0
            return i
        default:
            var i = start
            while i < bytes.count, bytes[i] != UInt8(ascii: ","), bytes[i] != UInt8(ascii: "}"), bytes[i] != UInt8(ascii: "]") { i += 1 }
            return i
        }
    }
}
