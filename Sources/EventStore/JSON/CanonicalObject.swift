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
        var found: Range<Int>?
        forEachMemberRange { nameRange, valueRange in
            guard isName(nameRange, name) else { return true }
            found = valueRange
            return false
        }
        return found.map { UnsafeRawBufferPointer(rebasing: bytes[$0]) }
    }

    /// Whether the name whose contents lie at `range` is `name`.
    func isName(_ range: Range<Int>, _ name: StaticString) -> Bool {
        range.count == name.utf8CodeUnitCount && memcmp(bytes.baseAddress! + range.lowerBound, name.utf8Start, range.count) == 0
    }

    /// Calls `body` with the range of each member's name (its contents, without quotes)
    /// and of its value, in order, until it returns false.
    private func forEachMemberRange(_ body: (Range<Int>, Range<Int>) -> Bool) {
        let count = bytes.count
        var i = 1 // after "{"
        while i < count, bytes[i] == Self.quote {
            let nameEnd = Self.stringEnd(bytes, from: i + 1)
            let valueStart = nameEnd + 2 // past '"' and ':'
            let valueEnd = Self.valueEnd(bytes, from: valueStart)
            guard body((i + 1)..<nameEnd, valueStart..<valueEnd) else { return }
            i = valueEnd + 1 // past ',' (or '}', ending the loop)
        }
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
        forEachMemberName { name, value in body(String(decoding: name, as: UTF8.self), value) }
    }

    /// `forEachMember`, with each name's UTF-8 (decoded, as `string` decodes it).
    public func forEachMemberName(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        forEachMemberRange { name, value in
            // The name with its quotes, which `withString` decodes.
            let quoted = UnsafeRawBufferPointer(rebasing: bytes[(name.lowerBound - 1)...name.upperBound])
            _ = Self.withString(quoted) { body($0, UnsafeRawBufferPointer(rebasing: bytes[value])) }
            return true
        }
    }

    /// Its members, found once: see `Members`.
    public var members: Members { Members(self) }

    /// Where the members of an object lie, found in one pass: a lookup by name then
    /// compares names only, and decodes just the value asked for. Held inline (no
    /// allocation) for up to eight members; an object with more is searched the usual
    /// way. Valid only while the object's bytes are.
    public struct Members {
        /// Offsets in the object's bytes of a member's name contents and of its value.
        struct Place {
            var nameStart: Int32 = 0, nameEnd: Int32 = 0, valueStart: Int32 = 0, valueEnd: Int32 = 0
        }

        let object: CanonicalObject
        /// The first eight members: the catalog's types have fewer.
        private var places = InlineArray<8, Place>(repeating: Place())
        /// Members found; more than `places` holds means they were not all kept.
        private var count = 0

        init(_ object: CanonicalObject) {
            self.object = object
            object.forEachMemberRange { name, value in
                if count < places.count {
                    places[count] = Place(nameStart: Int32(name.lowerBound), nameEnd: Int32(name.upperBound),
                                          valueStart: Int32(value.lowerBound), valueEnd: Int32(value.upperBound))
                }
                count += 1
                return true
            }
        }

        /// The bytes of member `name`'s value, or nil when there is none.
        public func value(_ name: StaticString) -> UnsafeRawBufferPointer? {
            guard count <= places.count else { return object.value(name) }
            for index in 0..<count {
                let place = places[index]
                if object.isName(Int(place.nameStart)..<Int(place.nameEnd), name) {
                    return UnsafeRawBufferPointer(rebasing: object.bytes[Int(place.valueStart)..<Int(place.valueEnd)])
                }
            }
            return nil
        }

        public func contains(_ name: StaticString) -> Bool { value(name) != nil }
        public func string(_ name: StaticString) -> String? { value(name).flatMap(CanonicalObject.string) }
        public func integer(_ name: StaticString) -> Int? { value(name).flatMap(CanonicalObject.integer) }
    }

    /// A string value (quotes included) decoded; nil when the value is not a string.
    public static func string(_ value: UnsafeRawBufferPointer) -> String? {
        withString(value) { String(decoding: $0, as: UTF8.self) }
    }

    /// `body` with the UTF-8 of a string value (quotes included) decoded: the bytes in
    /// place when it has no escapes. Nil, without calling `body`, when it is not a string.
    public static func withString<R>(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        guard value.count >= 2, value[0] == quote else { return nil }
        let contents = UnsafeRawBufferPointer(rebasing: value[1..<(value.count - 1)])
        if !contents.contains(backslash) { return body(contents) }
        guard var decoded = (try? JSONParser.parse(value))?.stringValue else { return nil }
        return decoded.withUTF8 { body(UnsafeRawBufferPointer($0)) }
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

    /// The offset of the closing quote of the string whose contents start at `from`:
    /// eight bytes at a time while none is a quote, a backslash, a control or above 0x7F.
    private static func stringEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var i = start
        while true {
            while i &+ 8 <= bytes.count, !UTF8Sequence.needsAttention(bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { i &+= 8 }
            if bytes[i] == quote { return i }
            i += bytes[i] == backslash ? 2 : 1
        }
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
