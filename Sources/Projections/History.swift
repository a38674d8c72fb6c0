import EventStore

/// An event as the record stands: its `data` and `occurred` after the corrections
/// recorded so far, and whether it was retracted.
public struct ResolvedEvent: Sendable, Equatable {
    public let event: Event
    public internal(set) var data: JSONObject
    public internal(set) var occurred: String
    /// Seqs of the corrections applied, in order.
    public internal(set) var correctedBy: [Int] = []
    public internal(set) var retractedBy: Int?

    init(_ event: Event) {
        self.event = event
        data = event.data
        occurred = event.occurred
    }

    /// A fact the folds count: not retracted, and not itself a correction, retraction
    /// or bookkeeping of the store.
    public var isFact: Bool { retractedBy == nil && !History.isMetaType(event.type) }

    /// Applies an `event.corrected` aimed at this event (SPEC §4): its `changes` replace
    /// those members of `data`, its `occurred` replaces `occurred`. The one place a
    /// correction takes effect, for the history and for the streaming fold alike.
    mutating func apply(correction: Event) {
        apply(Amendments.Correction(correction), seq: correction.seq)
    }

    /// `apply(correction:)`, with what it reads of the correction at `seq`.
    mutating func apply(_ correction: Amendments.Correction, seq: Int) {
        for (key, value) in correction.changes?.members ?? [] { data[key] = value }
        if let occurred = correction.occurred { self.occurred = occurred }
        correctedBy.append(seq)
    }

    /// Marks this event retracted by the `event.retracted` at `seq`.
    mutating func apply(retractionAt seq: Int) {
        retractedBy = seq
    }

    /// Whether this fact counts at the valid time `validAt` (milliseconds; nil: always):
    /// its `occurred`, as corrected, is not later. Plain dates start at midnight in `zone`.
    public func isValid(at validAt: Int64?, in zone: ZoneRules) -> Bool {
        ResolvedEvent.isValid(occurred: occurred, at: validAt, in: zone)
    }

    static func isValid(occurred: String, at validAt: Int64?, in zone: ZoneRules) -> Bool {
        guard let validAt else { return true }
        // A plain date two days before the valid time's UTC date is before it in any
        // zone (offsets stay within ±1 day): no time zone needed for most facts.
        let validDay = Int(validAt >= 0 ? validAt / 86_400_000 : (validAt - 86_399_999) / 86_400_000)
        if let date = Timestamp.CalendarDate(occurred), date.daysSinceEpoch + 2 <= validDay {
            return true
        }
        return (History.instant(ofOccurred: occurred, in: zone) ?? Int64.max) <= validAt
    }
}

/// The log read so far, with corrections and retractions applied to their targets
/// (SPEC §4: each counts from its own `recorded` time, so a history built from the
/// events recorded by T is what the record said at T).
public struct History: Sendable {
    public static let correctedType = "event.corrected"
    public static let retractedType = "event.retracted"
    /// The store's own types and the amendments: events the folds do not count as facts.
    static let metaTypes = [correctedType, retractedType, EventLog.textErasedType, EventLog.tailQuarantinedType]
    private static let metaTypeNames = metaTypes.map { Array($0.utf8) }

    static func isMetaType(_ type: String) -> Bool { metaTypes.contains(type) }

    private static let amendmentTypeNames = [correctedType, retractedType].map { Array($0.utf8) }

    /// Whether a type's bytes name a correction or a retraction.
    static func isAmendmentType(_ type: UnsafeRawBufferPointer) -> Bool { isOne(of: amendmentTypeNames, type) }

    /// `isMetaType`, for a type's bytes (no string made).
    static func isMetaType(_ type: UnsafeRawBufferPointer) -> Bool { isOne(of: metaTypeNames, type) }

    private static func isOne(of names: [[UInt8]], _ type: UnsafeRawBufferPointer) -> Bool {
        names.contains { $0.count == type.count && $0.elementsEqual(type) }
    }

    /// Every event in seq order (index = seq − 1).
    public private(set) var events: [ResolvedEvent] = []
    private var indexByID = IDIndex()
    public private(set) var erasedTexts: Set<String> = []

    public init() {}

    public var head: LogHead {
        events.last.map { LogHead(seq: $0.event.seq, hash: $0.event.hash, recorded: $0.event.recorded) } ?? .empty
    }

    /// Makes room for `count` more events, so a large batch grows the history once.
    mutating func reserveCapacity(forMore count: Int) {
        events.reserveCapacity(events.count + count)
        indexByID.reserveCapacity(indexByID.count + count)
    }

    public func event(id: String) -> ResolvedEvent? { indexByID[id].map { events[$0] } }
    public func event(seq: Int) -> ResolvedEvent? { seq >= 1 && seq <= events.count ? events[seq - 1] : nil }

    /// Adds the next event. Returns true when it changed an earlier event (a correction
    /// or retraction), so a fold over facts must be redone rather than extended.
    @discardableResult
    public mutating func append(_ event: Event) -> Bool {
        events.append(ResolvedEvent(event))
        indexByID[event.id] = events.count - 1
        switch event.type {
        case History.correctedType:
            guard case .string(let target)? = event.data["target"], let index = indexByID[target] else { return false }
            events[index].apply(correction: event)
            return true
        case History.retractedType:
            guard case .string(let target)? = event.data["target"], let index = indexByID[target] else { return false }
            events[index].apply(retractionAt: event.seq)
            return true
        case EventLog.textErasedType:
            if case .string(let reference)? = event.data["ref"] { erasedTexts.insert(reference) }
            return false
        default:
            return false
        }
    }

    /// What `append(event)` does to the event with `id` (nil while there is none):
    /// `append`'s rules, for one id.
    static func resolve(_ resolved: inout ResolvedEvent?, id: String, with event: Event) {
        if event.id == id { resolved = ResolvedEvent(event) }
        guard resolved != nil, case .string(let target)? = event.data["target"], target == id else { return }
        switch event.type {
        case correctedType: resolved!.apply(correction: event)
        case retractedType: resolved!.apply(retractionAt: event.seq)
        default: break
        }
    }

    /// `event(id:)` of the history of `log` up to seq `last` (nil: the end), without the
    /// history: one pass that parses only the lines whose bytes hold `id` (see
    /// `isFoundByItsBytes`). Also where the read ended.
    static func event(id: String, in log: EventLog, upToSeq last: Int?) throws -> (ResolvedEvent?, LogPosition) {
        var found: ResolvedEvent?
        let needle = Array(id.utf8)
        let end = try needle.withUnsafeBytes { needle in
            try log.readLines { line in
                if Bytes.contains(line.bytes, needle) { resolve(&found, id: id, with: try line.event()) }
                return last.map { line.seq < $0 } ?? true
            }.end
        }
        return (found, end)
    }

    /// `event(id:in:upToSeq:nil)` for the id of the event at `seq`, in the same one pass:
    /// what the lines before `seq` make of that id, the event at `seq` replaces (`resolve`).
    /// Nil for a seq the log does not hold.
    static func event(atSeq seq: Int, in log: EventLog) throws -> (ResolvedEvent, LogPosition)? {
        var found: ResolvedEvent?
        var needle: [UInt8] = []
        let end = try log.readLines { line in
            if line.seq == seq {
                found = ResolvedEvent(try line.event())
                needle = Array(found!.event.id.utf8)
            } else if line.seq > seq, needle.withUnsafeBytes({ Bytes.contains(line.bytes, $0) }) {
                resolve(&found, id: found!.event.id, with: try line.event())
            }
            return true
        }.end
        return found.map { ($0, end) }
    }

    /// Whether every line naming `id` holds its bytes: JSON escapes none of them.
    static func isFoundByItsBytes(_ id: String) -> Bool {
        !id.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
    }

    /// The facts in seq order, those whose `occurred` lies at or before `validAt`
    /// (milliseconds; nil: all of them). Plain dates start at midnight in `zone`.
    public func facts(validAt: Int64?, in zone: ZoneRules) -> [ResolvedEvent] {
        events.filter { $0.isFact && $0.isValid(at: validAt, in: zone) }
    }

    public static func instant(ofOccurred occurred: String, in zone: ZoneRules) -> Int64? {
        if let date = Timestamp.CalendarDate(occurred) { return Timestamp.startOfDay(date, in: zone) }
        return Timestamp.parseOffsetDateTime(occurred)
    }
}

/// A number for each event id (where it is in a history, the line an import read it
/// from). Ids are nearly always lower-case UUIDs, kept as their 16 bytes (hashed far
/// faster than the 36 characters); any other string as it is.
public struct IDIndex: Sendable {
    private var uuids: [UUIDKey: Int] = [:]
    private var others: [String: Int] = [:]

    public init() {}

    var count: Int { uuids.count + others.count }

    public mutating func reserveCapacity(_ capacity: Int) { uuids.reserveCapacity(capacity) }

    public subscript(id: String) -> Int? {
        get { UUIDKey(validID: id).map { uuids[$0] } ?? others[id] }
        set {
            if let key = UUIDKey(validID: id) { uuids[key] = newValue } else { others[id] = newValue }
        }
    }
}
