/// A JSON value as the log and its tools see it.
///
/// Integers that fit in ±(2^53−1) are kept exactly as `.integer`; every other number
/// (fractions, exponents, larger magnitudes) is a `.number`, which events refuse
/// (SPEC §2) but the canonical encoder can still write for general JSON.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The largest integer magnitude an event may hold: 2^53 − 1, exact in every JSON reader.
    public static let maxSafeInteger = 9_007_199_254_740_991
}

/// A JSON object whose members are kept sorted the way RFC 8785 sorts them (by UTF-16
/// code units) and compared by their exact scalars, never by Swift's canonical
/// `String` equivalence (which would merge a composed and a decomposed "é").
public struct JSONObject: Sendable, Equatable {
    public typealias Member = (key: String, value: JSONValue)

    /// Members in canonical order, names unique by their Unicode scalars.
    public private(set) var members: [Member]

    public init() { members = [] }

    /// Builds an object from members in any order. Throws `JSONObject.DuplicateMember`
    /// when a name appears twice (compared scalar by scalar).
    public init(members unsorted: [Member]) throws {
        let sorted = unsorted.sorted { JSONObject.precedes($0.key, $1.key) }
        for i in sorted.indices.dropFirst() where JSONObject.sameName(sorted[i - 1].key, sorted[i].key) {
            throw DuplicateMember(name: sorted[i].key)
        }
        members = sorted
    }

    /// Builds an object from a dictionary literal-like list; a later duplicate replaces an earlier one.
    public init(_ pairs: KeyValuePairs<String, JSONValue>) {
        members = []
        for (key, value) in pairs { self[key] = value }
    }

    public struct DuplicateMember: Error, Sendable, Equatable {
        public let name: String
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map(\.key) }

    /// The member named `key`, compared scalar by scalar; setting `nil` removes it.
    public subscript(key: String) -> JSONValue? {
        get {
            let i = insertionIndex(of: key)
            return i < members.count && JSONObject.sameName(members[i].key, key) ? members[i].value : nil
        }
        set {
            let i = insertionIndex(of: key)
            let present = i < members.count && JSONObject.sameName(members[i].key, key)
            switch (present, newValue) {
            case (true, let value?): members[i].value = value
            case (true, nil): members.remove(at: i)
            case (false, let value?): members.insert((key, value), at: i)
            case (false, nil): break
            }
        }
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { sameName($0.key, $1.key) && $0.value == $1.value }
    }

    /// RFC 8785 §3.2.3: member names sorted by their UTF-16 code units.
    ///
    /// Compares the UTF-8 bytes up to the first difference: where that difference is
    /// between ASCII bytes (or one name ends first), byte order is UTF-16 order; only
    /// a difference between non-ASCII bytes is settled by the UTF-16 code units.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        // 0: undecided by the bytes, 1: a precedes b, 2: it does not.
        let verdict = a.utf8.withContiguousStorageIfAvailable { x -> Int in
            b.utf8.withContiguousStorageIfAvailable { y -> Int in
                let n = min(x.count, y.count)
                var i = 0
                while i < n && x[i] == y[i] { i += 1 }
                if i == n { return x.count < y.count ? 1 : 2 }
                guard x[i] < 0x80 && y[i] < 0x80 else { return 0 }
                return x[i] < y[i] ? 1 : 2
            } ?? 0
        } ?? 0
        if verdict != 0 { return verdict == 1 }
        return a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    static func sameName(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8)
    }

    private func insertionIndex(of key: String) -> Int {
        var low = 0, high = members.count
        while low < high {
            let mid = (low + high) / 2
            if JSONObject.precedes(members[mid].key, key) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

extension JSONValue {
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var integerValue: Int? { if case .integer(let i) = self { i } else { nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
}
