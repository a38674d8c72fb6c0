import EventStore
#if canImport(Glibc)
import Glibc
#endif

/// The event types the state folds (SPEC §3); the others change nothing in it.
enum FactKind: String, CaseIterable {
    case unitRegistered = "unit.registered", unitUpdated = "unit.updated"
    case teamEstablished = "team.established", teamClosed = "team.closed"
    case staffHired = "staff.hired", staffLeft = "staff.left"
    case trainingHeld = "training.held"
    case handoverStarted = "handover.started", handoverCompleted = "handover.completed", handoverCancelled = "handover.cancelled"
    case bodyEstablished = "body.established", meetingHeld = "meeting.held", minutesRecorded = "minutes.recorded"
    case evaluationMilestone = "evaluation.milestone"
    case targetSet = "target.set"
    case attendanceCounted = "attendance.counted"

    /// Each kind's name as its length and its first and last eight bytes (every name is
    /// at least ten long), which tell the names apart: a line's type is matched by three
    /// integer comparisons a kind, not a call to `memcmp`. Bytes between the two (names of
    /// more than 16) are compared only for the kind matched so.
    private struct Key: Hashable {
        var count: Int
        var head: UInt64
        var tail: UInt64

        init(_ bytes: UnsafeRawBufferPointer) {
            count = bytes.count
            head = bytes.loadUnaligned(as: UInt64.self)
            tail = bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)
        }
    }

    private static let kinds = allCases
    private static let names = kinds.map { Array($0.rawValue.utf8) }
    private static let keys: [Key] = {
        precondition(names.allSatisfy { $0.count >= 8 }, "a fact kind's name is shorter than eight bytes")
        let keys = names.map { $0.withUnsafeBytes(Key.init) }
        precondition(Set(keys).count == keys.count, "fact kinds are no longer told apart by length, head and tail")
        return keys
    }()

    /// The kind a type's bytes name, without making a string of them.
    init?(type: UnsafeRawBufferPointer) {
        guard type.count >= 8 else { return nil }
        let key = Key(type)
        guard let index = FactKind.keys.withUnsafeBufferPointer({ $0.firstIndex(of: key) }),
              type.count <= 16 || FactKind.names[index].withUnsafeBytes({ $0.elementsEqual(type) }) else { return nil }
        self = FactKind.kinds[index]
    }
}

extension LogLine {
    /// What a line's type is to a fold, read once from its bytes: the fact it folds, if
    /// any, and whether it is a store event (a correction, retraction, erasure, …)
    /// rather than a fact. A fact type is never a store event.
    var factKind: (kind: FactKind?, meta: Bool) {
        withType { type in
            let kind = FactKind(type: type)
            return (kind, kind == nil && History.isMetaType(type))
        }
    }
}

/// What `ProjectState`'s fold reads of a fact: an event with its corrections applied
/// (`ResolvedEvent`), or a canonical line of the log read in place (`LineFact`). One
/// fold serves both, so both give the same state.
protocol FactReading {
    var kind: FactKind? { get }
    var seq: Int { get }
    /// As corrected.
    var occurred: String { get }
    func contains(_ member: StaticString) -> Bool
    func string(_ member: StaticString) -> String?
    func integer(_ member: StaticString) -> Int?
    /// The strings of an array member (anything else in it skipped).
    func strings(_ member: StaticString) -> [String]
    func integer(_ object: StaticString, _ member: StaticString) -> Int?
    /// The members of an object member whose values are integers (others count 0).
    func integerMembers(_ object: StaticString) -> [(String, Int)]
    /// `body` with the UTF-8 of a string member, as `string` decodes it; nil (and
    /// `body` not called) when the member is not a string. No `String` is made for a
    /// string read in place without escapes.
    func withString<R>(_ member: StaticString, _ body: (UnsafeRawBufferPointer) -> R) -> R?
    /// `integerMembers`, with each name's UTF-8.
    func forEachIntegerMember(_ object: StaticString, _ body: (UnsafeRawBufferPointer, Int) -> Void)
}

extension FactReading {
    func hasString(_ member: StaticString) -> Bool { withString(member) { _ in true } ?? false }
}

extension String {
    /// `body` with the string's UTF-8 (made contiguous first when it is not).
    func withUTF8Bytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var string = self
        return string.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}

/// A fold of facts in seq order that a read builds as it goes (`Ledger.streamingFold`).
protocol FactFold: Sendable {
    mutating func fold(_ fact: some FactReading)
}

extension ProjectState: FactFold {}

/// What a view folds as it reads (`Ledger.Folding`): the state, the KPI figures, or both
/// in the one read.
struct ViewFold: FactFold {
    var state: ProjectState?
    var figures: KPIFigures?

    init(_ folding: Ledger.Folding) {
        state = folding == .kpis ? nil : ProjectState()
        figures = folding == .state ? nil : KPIFigures()
    }

    mutating func fold(_ fact: some FactReading) {
        state?.fold(fact)
        figures?.fold(fact)
    }
}

/// A fact whose `data` is a parsed tree.
protocol TreeFact: FactReading {
    var data: JSONObject { get }
}

extension ResolvedEvent: TreeFact {
    var kind: FactKind? { FactKind(rawValue: event.type) }
    var seq: Int { event.seq }
}

/// A fact given as its type and data alone (validation's fold, and its tests).
struct DataFact: TreeFact {
    let kind: FactKind?
    let data: JSONObject
    var seq: Int { 0 }
    var occurred: String { "" }

    init(type: String, data: JSONObject) {
        kind = FactKind(rawValue: type)
        self.data = data
    }
}

extension TreeFact {
    func contains(_ member: StaticString) -> Bool { data[member.description] != nil }
    func string(_ member: StaticString) -> String? { data[member.description]?.stringValue }
    func integer(_ member: StaticString) -> Int? { data[member.description]?.integerValue }
    func strings(_ member: StaticString) -> [String] { data[member.description]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    func integer(_ object: StaticString, _ member: StaticString) -> Int? {
        data[object.description]?.objectValue?[member.description]?.integerValue
    }
    func integerMembers(_ object: StaticString) -> [(String, Int)] {
        (data[object.description]?.objectValue?.members ?? []).map { ($0.key, $0.value.integerValue ?? 0) }
    }
    func withString<R>(_ member: StaticString, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        string(member)?.withUTF8Bytes(body)
    }
    func forEachIntegerMember(_ object: StaticString, _ body: (UnsafeRawBufferPointer, Int) -> Void) {
        for (name, count) in integerMembers(object) { name.withUTF8Bytes { body($0, count) } }
    }
}

/// A fact read straight from a canonical line: no `Event`, no `data` tree. Only for a
/// line no correction or retraction aims at (its data and occurred are as written).
struct LineFact: FactReading {
    let kind: FactKind?
    let seq: Int
    let occurred: String
    let data: CanonicalObject
    /// `data`'s members, found once.
    let members: CanonicalObject.Members

    /// Nil when the strict parser read the line: fold its event instead.
    init?(_ line: LogLine, kind: FactKind?) {
        guard let data = line.data else { return nil }
        self.kind = kind
        seq = line.seq
        occurred = line.occurred
        self.data = data
        members = data.members
    }

    func contains(_ member: StaticString) -> Bool { members.contains(member) }
    func string(_ member: StaticString) -> String? { members.string(member) }
    func integer(_ member: StaticString) -> Int? { members.integer(member) }
    func strings(_ member: StaticString) -> [String] { data.strings(member) }
    func integer(_ object: StaticString, _ member: StaticString) -> Int? { data.object(object)?.integer(member) }
    func integerMembers(_ object: StaticString) -> [(String, Int)] {
        var members: [(String, Int)] = []
        forEachIntegerMember(object) { name, count in members.append((String(decoding: name, as: UTF8.self), count)) }
        return members
    }
    func withString<R>(_ member: StaticString, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        members.value(member).flatMap { CanonicalObject.withString($0, body) }
    }
    func forEachIntegerMember(_ object: StaticString, _ body: (UnsafeRawBufferPointer, Int) -> Void) {
        data.object(object)?.forEachMemberName { name, value in body(name, CanonicalObject.integer(value) ?? 0) }
    }
}
