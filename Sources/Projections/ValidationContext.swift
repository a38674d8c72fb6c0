import EventStore

/// What an append validates against: the state at the head (what exists, is closed,
/// employed or open, and the streams and texts the log names: `ValidationState`), and
/// where in the log it ends, so a writer catches up with only what was appended since
/// (from a checkpoint, see `Checkpoint`).
///
/// The full history (every event with its corrections) is read only when an append
/// needs it: an event with a caller-chosen id, a correction or retraction, or a seal.
struct ValidationContext: Sendable {
    var state = ValidationState()
    var position = LogPosition.start
    /// The whole history, once something needed it; kept current by `catchUp`.
    private(set) var history: History?
    /// Events of the batch being validated, not yet in the log, while no history is kept
    /// (the history holds those since it was read).
    private var provisional: [Event] = []
    /// Events read since the checkpoint this context was loaded from.
    private(set) var eventsSinceCheckpoint = 0
    /// Whether the state was folded again from the whole log (a retraction undid an
    /// earlier fact): what a checkpoint saved now spares the next writer.
    private(set) var refolded = false
    /// Ids whose entries in `state` may be out of date: a retraction of the batch
    /// undid an earlier event, and `state` was not folded again yet (see
    /// `applyProvisionally`). Empty when `state` is exact.
    private var staleIDs = IDSet()
    /// Whether a retraction of the batch left `state` to be folded again (`settle`).
    private var contentIsStale = false
    /// Events the batch being validated holds: room the history makes for them.
    var batchSize = 0
    /// Events found by id without the whole history (`event(id:log:)`), as the log holds
    /// them up to `position`; nil for an id no event has.
    private var foundByID: [String: ResolvedEvent?] = [:]

    init() {}

    init(checkpoint: Checkpoint) {
        state = checkpoint.state
        position = checkpoint.position
    }

    var checkpoint: Checkpoint { Checkpoint(position: position, state: state) }

    /// Whether the checkpoint this context was loaded from failed its MAC where it was
    /// read: every answer since is void (see `Ledger.append`).
    var readDamagedCheckpoint: Bool { state.readDamagedCheckpoint }

    /// Builds the context by reading the whole log (linking seq and prev on the way).
    static func replaying(_ log: EventLog) throws -> ValidationContext {
        var context = ValidationContext()
        try context.catchUp(log, to: nil)
        return context
    }

    /// The context from the checkpoint beside `log` if it still matches the chain, else
    /// from the start; either way caught up with the whole log.
    static func load(_ log: EventLog) throws -> ValidationContext {
        var context = Checkpoint.load(log).map(ValidationContext.init(checkpoint:)) ?? ValidationContext()
        try context.catchUp(log, to: nil)
        return context
    }

    /// Writes a checkpoint when this context had to read many events past the last one.
    func saveCheckpointIfWorthwhile(_ log: EventLog) {
        if eventsSinceCheckpoint >= Checkpoint.rewriteDistance { checkpoint.save(log) }
    }

    /// Reads what was appended after `position`. Under the writer's lock, `head` is the
    /// head the store found; reaching another one means the log changed underneath.
    mutating func catchUp(_ log: EventLog, to head: LogHead?) throws {
        if let head, head.seq == position.seq, head.hash == position.hash { return }
        try catchUp(log, upTo: head?.seq ?? Int.max)
        if let head, head.seq != position.seq || head.hash != position.hash {
            throw LogError.integrity(IntegrityFailure(
                place: LogPlace(seq: head.seq, file: EventLog.segmentName(position.segment), line: position.linesBefore),
                reason: "the head the writer found (\(head)) is not where reading the log ends (\(position.seq):\(position.hash))"))
        }
    }

    /// Reads events after `position` up to seq `last`.
    mutating func catchUp(_ log: EventLog, upTo last: Int) throws {
        guard position.seq < last else { return }
        var pass = try ReplayPass(self, log, upTo: last)
        // A writer recomputes the hashes: it appends after no damage it could have seen.
        let summary = try log.readLines(from: position, checks: .hashes) { line in
            try absorb(line, in: &pass)
            return line.seq < last
        }
        try finish(pass, at: summary.end, log)
    }

    /// What a pass that folds lines in (`absorb`) carries from line to line.
    struct ReplayPass {
        /// From the start, what the retractions up to the end of the pass undo (a cheap
        /// byte search, see `Amendments`): the pass leaves their targets out instead of
        /// folding everything again at the end.
        let retractedAhead: Set<UUIDKey>
        var leftOut = Set<UUIDKey>()
        /// A retraction undid something folded in: fold everything again at the end.
        var refold = false

        init(_ context: ValidationContext, _ log: EventLog, upTo last: Int) throws {
            retractedAhead = context.position.seq == 0 && context.history == nil ? try Amendments.retracted(in: log, upTo: last) : []
        }
    }

    /// Folds in the line after `position`, read in place (an event is built only when
    /// the history is kept).
    mutating func absorb(_ line: LogLine, in pass: inout ReplayPass) throws {
        let event = history == nil ? nil : try line.event()
        if let event { history!.append(event) }
        line.withStream { state.noteStream(bytes: $0) }
        note(texts: try line.textReferences())
        // A correction changes nothing validation reads (see `ValidationState`); a
        // retraction may undo what an earlier event folded in.
        let (kind, meta) = line.factKind
        if meta {
            // A retraction whose target this pass left out changes nothing more.
            if line.withType({ $0.elementsEqual(History.retractedType.utf8) }),
               try !pass.leftOut.contains(UUIDKey((event ?? line.event()).data["target"]?.stringValue ?? "")) { pass.refold = true }
        } else if !pass.refold {
            if pass.retractedAhead.contains(line.id) {
                pass.leftOut.insert(line.id)
            } else if let fact = LineFact(line, kind: kind) {
                state.apply(fact)
            } else {
                state.apply(ResolvedEvent(try event ?? line.event()))
            }
        }
        eventsSinceCheckpoint += 1
    }

    /// Ends a pass of `absorb` that read up to `end`.
    mutating func finish(_ pass: ReplayPass, at end: LogPosition, _ log: EventLog) throws {
        position = end
        foundByID = [:]
        if pass.refold { try refoldState(log) }
    }

    /// What validation keeps of every event: its stream, the text it names or erases.
    private mutating func note(_ event: Event) {
        state.noteStream(event.stream)
        note(texts: event.textReferences)
    }

    private mutating func note(texts: (text: String?, erased: String?)) {
        if let text = texts.text { state.noteText(text) }
        if let erased = texts.erased { state.noteErased(erased) }
    }

    /// A retraction undid an earlier fact: fold everything again.
    private mutating func refoldState(_ log: EventLog) throws {
        if history == nil, provisional.isEmpty {
            try refoldStreaming(log)
        } else {
            state.refold(try fullHistory(log).events.lazy.filter(\.isFact))
        }
        staleIDs = IDSet()
        contentIsStale = false
        refolded = true
    }

    /// `refoldState` without the history in memory (a writer without a checkpoint meets
    /// retractions in a long log): one pass finds what was retracted, a second folds
    /// every other fact, keeping no events. Corrections change nothing validation reads.
    private mutating func refoldStreaming(_ log: EventLog) throws {
        let last = position.seq
        let retracted = try Amendments.retracted(in: log, upTo: last)
        state.refold(EmptyCollection<ResolvedEvent>())
        let end = try log.readLines { line in
            guard line.seq <= last else { return false }
            let (kind, meta) = line.factKind
            if !meta, !retracted.contains(line.id) {
                if let fact = LineFact(line, kind: kind) { state.apply(fact) } else { state.apply(ResolvedEvent(try line.event())) }
            }
            return line.seq < last
        }.end
        try checkReadReachedPosition(end)
    }

    /// A read to `position` of a log that was read there before must end there.
    private func checkReadReachedPosition(_ end: LogPosition) throws {
        guard end.seq == position.seq else {
            throw LogError.integrity(IntegrityFailure(place: LogPlace(seq: position.seq, file: EventLog.segmentName(position.segment), line: position.linesBefore),
                                                      reason: "the log ends at seq \(end.seq) where seq \(position.seq) was read before"))
        }
    }

    /// The whole history up to `position`, read once and then kept current.
    mutating func fullHistory(_ log: EventLog) throws -> History {
        if let history { return history }
        var full = History()
        var end = LogPosition.start
        if position.seq > 0 {
            end = try log.read { event in
                full.append(event)
                return event.seq < position.seq
            }.end
        }
        try checkReadReachedPosition(end)
        full.reserveCapacity(forMore: batchSize)
        for event in provisional { full.append(event) }
        history = full
        return full
    }

    /// A batch of at most this many events finds an event by its id in one pass over the
    /// log that parses only the lines holding the id, instead of reading the whole history
    /// into memory (a correction on a log of a million events: seconds and a gigabyte).
    /// Changed only by the tests that run validation both ways.
    nonisolated(unsafe) static var findsByIDUpToBatchSize = 64

    /// Takes the events `lookups` found as `event(id:log:)` would find them, for those
    /// whose read ended exactly where this context stands (the log did not grow since).
    mutating func remember(_ lookups: [Ledger.IDLookup]) {
        for lookup in lookups where lookup.end?.seq == position.seq && lookup.end?.hash == position.hash {
            foundByID[lookup.id] = lookup.found
        }
    }

    /// `History.event(id:)` of the whole history: the event with `id` as the record stands
    /// at `position` with the batch's events so far. Reads the whole history for a large
    /// batch (which asks for many ids), else only the lines that hold `id`.
    mutating func event(id: String, log: EventLog) throws -> ResolvedEvent? {
        // An id that JSON must escape is not found by its bytes; no event has one anyway.
        if history == nil, batchSize > ValidationContext.findsByIDUpToBatchSize || !History.isFoundByItsBytes(id) { _ = try fullHistory(log) }
        if let history { return history.event(id: id) }
        var found: ResolvedEvent?
        if let known = foundByID[id] {
            found = known
        } else if position.seq > 0 {
            let end: LogPosition
            (found, end) = try History.event(id: id, in: log, upToSeq: position.seq)
            try checkReadReachedPosition(end)
            foundByID[id] = found
        }
        for event in provisional { History.resolve(&found, id: id, with: event) }
        return found
    }

    /// The event already in the log under `new.id`, when the content is the same (a
    /// retry). Throws a conflict when the id is taken by other content.
    mutating func existing(_ new: NewEvent, index: Int, count: Int, log: EventLog) throws -> Event? {
        guard let id = new.id, let found = try event(id: id, log: log)?.event else { return nil }
        let type = Catalog.type(named: new.type)
        var same = found.type == new.type && found.occurred == new.occurred && found.data.count == new.data.count
        if same {
            for (key, value) in new.data.members {
                let old = found.data[key]
                if old == value { continue }
                if type?.member(key)?.kind == .attachment, case .string(let reference)? = old, case .string(let text) = value,
                   log.readText(reference) == .text(text) { continue }
                same = false
            }
        }
        guard same else {
            let which = count > 1 ? "event \(index + 1): " : ""
            throw LogError.conflict("\(which)id \(id) is already in the log as seq \(found.seq) with other content; an id names one fact. Use a new id, or 'recoveryctl correct \(id)' to change that fact.")
        }
        return found
    }

    /// Checks `new` against the state (references, creation, corrections) and gives
    /// it its stream. `new` is already shape-checked (`type` is what that found), its
    /// texts stored, its id set.
    mutating func validate(_ new: NewEvent, type: EventType, log: EventLog) throws -> EventDraft {
        if !staleIDs.isEmpty, try names(new, anyOf: staleIDs, log: log) { try refoldState(log) }
        var stream = Catalog.stream(of: type, data: new.data)
        switch type.name {
        case History.correctedType, History.retractedType:
            let target = try correctionTarget(new.data, log: log)
            stream = target.event.stream
            if type.name == History.correctedType { try checkCorrection(new.data, of: target, log: log) }
        default:
            let needsHistory = type.members.contains { $0.kind == .seal && new.data[$0.name] != nil }
            let lookup = Validator.Lookup(history: needsHistory ? try fullHistory(log) : nil)
            try Validator.checkReferences(new.data, of: type, state: state, lookup: lookup)
        }
        return EventDraft(id: new.id, type: type.name, v: Catalog.version, stream: stream ?? type.streamKind,
                          occurred: new.occurred!, actor: new.actor, source: new.source, data: new.data)
    }

    private mutating func correctionTarget(_ data: JSONObject, log: EventLog) throws -> ResolvedEvent {
        let id = data["target"]?.stringValue ?? ""
        guard let target = try event(id: id, log: log) else { throw ValidationError("data.target", "no event with id \(id) in the log") }
        if History.isMetaType(target.event.type) {
            throw ValidationError("data.target", "seq \(target.event.seq) is a \(target.event.type); corrections, retractions and store events cannot be corrected or retracted")
        }
        if let by = target.retractedBy { throw ValidationError("data.target", "seq \(target.event.seq) was retracted by seq \(by); it counts for nothing and cannot be changed") }
        return target
    }

    private mutating func checkCorrection(_ data: JSONObject, of target: ResolvedEvent, log: EventLog) throws {
        guard let type = Catalog.type(named: target.event.type) else { return }
        if let occurred = data["occurred"]?.stringValue, !Timestamp.isValidOccurred(occurred) {
            throw ValidationError("data.occurred", "\"\(occurred)\" is not a real date YYYY-MM-DD or a date-time with Z or an offset")
        }
        guard case .object(let changes)? = data["changes"] else { return }
        var merged = target.data
        for (key, value) in changes.members {
            guard let member = type.member(key) else {
                throw ValidationError("data.changes.\(key)", "\(type.name) has no member \(key) (it takes: \(type.members.map(\.name).joined(separator: ", ")))")
            }

            if member.kind == .attachment {
                throw ValidationError("data.changes.\(key)", "a text cannot be corrected; erase it and record a new one")
            }
            merged[key] = value
            // The members a stream is derived from name what the event is about.
            if Catalog.stream(of: type, data: merged) != target.event.stream {
                throw ValidationError("data.changes.\(key)", "\(key) names what the event is about (\(target.event.stream)); retract the event and append a new one instead")
            }
        }
        // A seal is checked against the events by seq: only then is the whole history read.
        let needsHistory = type.members.contains { $0.kind == .seal && merged[$0.name] != nil }
        let lookup = Validator.Lookup(history: needsHistory ? try fullHistory(log) : nil)
        do throws(ValidationError) {
            try Validator.checkData(merged, of: type, texts: .reference, path: "data.changes")
            try Validator.checkReferences(merged, of: type, state: state, lookup: lookup, path: "data.changes", creating: false)
        } catch {
            throw ValidationError(error.member, "\(error.reason) (after the correction, the \(type.name) at seq \(target.event.seq) would be invalid)")
        }
    }

    /// Lets the next events of the same batch see this one.
    ///
    /// A correction or retraction changes an earlier event, and the fold cannot be
    /// undone, so the exact state is a fold of everything again. Doing that for each
    /// one made a large import quadratic. Instead:
    /// - a correction cannot change what the state holds (whether a thing exists, a
    ///   team is closed, a person employed, a handover open: the members that decide
    ///   those name the event's stream or are required, and cannot be corrected), so
    ///   it changes nothing;
    /// - a retraction can undo an existence, at the ids its target's fold writes (its
    ///   stream's key, and a meeting's body); those are noted (`staleIDs`) and the state
    ///   is folded again before an event naming one of them is validated.
    /// `settle` folds again at the end. `FastPathTests` compare this with folding again
    /// after every correction and retraction.
    mutating func applyProvisionally(_ draft: EventDraft, seq: Int, log: EventLog) throws {
        let event = Event(seq: seq, id: draft.id ?? "", type: draft.type, v: draft.v, stream: draft.stream, occurred: draft.occurred,
                          recorded: "", actor: draft.actor, source: draft.source, data: draft.data, prev: "", hash: "")
        note(event)
        // Kept for a history read later; one read already holds it.
        if history == nil { provisional.append(event) }
        let changesEarlier = history?.append(event) ?? (draft.type == History.correctedType || draft.type == History.retractedType)
        if changesEarlier {
            if ValidationContext.refoldsAtOnce {
                state.refold(try fullHistory(log).events.lazy.filter(\.isFact))
            } else if draft.type == History.retractedType {
                if let id = draft.data["target"]?.stringValue, let target = try self.event(id: id, log: log) {
                    for id in ValidationContext.writtenIDs(of: target) { staleIDs.insert(id) }
                }
                contentIsStale = true
            }
        } else if !History.isMetaType(event.type) {
            state.apply(type: event.type, data: event.data)
        }
    }

    /// Folds again after every correction and retraction of a batch, as before
    /// `staleIDs`: for the tests that compare the two.
    nonisolated(unsafe) static var refoldsAtOnce = false

    /// Whether `settle` needs nothing of the log (so it may run while the log is written).
    var settlesInMemory: Bool { !contentIsStale || history != nil }

    /// Folds the state again if a retraction left it out of date.
    mutating func settle(_ log: EventLog) throws {
        if contentIsStale { try refoldState(log) }
    }

    /// The ids at which folding `resolved` may write what validation reads: the thing
    /// its stream names (a unit, team, person, case, body, meeting, training or
    /// milestone), and for a meeting, its body. Notes, targets and counts write none.
    static func writtenIDs(of resolved: ResolvedEvent) -> [String] {
        guard let type = Catalog.type(named: resolved.event.type), let member = type.streamMember,
              let kind = type.member(member)?.kind else { return [] }
        var ids: [String] = []
        switch kind {
        case .creates, .reference:
            if let id = resolved.event.data[member]?.stringValue { ids.append(id) }
        default:
            return []
        }
        if resolved.event.type == "meeting.held" {
            if let body = resolved.event.data["body"]?.stringValue { ids.append(body) }
            if let body = resolved.data["body"]?.stringValue { ids.append(body) }
        }
        return ids
    }

    /// Whether `new` names one of `ids` in its data, or, for a correction or
    /// retraction, in its target's data.
    private mutating func names(_ new: NewEvent, anyOf ids: IDSet, log: EventLog) throws -> Bool {
        func mentions(_ value: JSONValue) -> Bool {
            switch value {
            case .string(let s): return ids.contains(s)
            case .array(let items): return items.contains(where: mentions)
            case .object(let object): return object.members.contains { ids.contains($0.key) || mentions($0.value) }
            default: return false
            }
        }
        if mentions(.object(new.data)) { return true }
        if new.type == History.correctedType || new.type == History.retractedType,
           let id = new.data["target"]?.stringValue, let target = try event(id: id, log: log) {
            return mentions(.object(target.data)) || mentions(.object(target.event.data)) || ids.endsAfterSlash(target.event.stream)
        }
        return false
    }
}

/// A set of ids asked about with every string of every event of a batch, nearly always
/// in vain: a bitmap of a cheap fingerprint (length, first and last bytes) answers most
/// of those questions before the set is hashed.
struct IDSet: Sendable {
    private var ids: Set<String> = []
    private var fingerprints = [UInt64](repeating: 0, count: IDSet.fingerprintBits / 64)
    private static let fingerprintBits = 1 << 14

    var isEmpty: Bool { ids.isEmpty }

    mutating func insert(_ id: String) {
        let bit = IDSet.fingerprint(id)
        fingerprints[bit >> 6] |= 1 << (bit & 63)
        ids.insert(id)
    }

    func contains(_ string: String) -> Bool {
        let bit = IDSet.fingerprint(string)
        return fingerprints[bit >> 6] & (1 << (bit & 63)) != 0 && ids.contains(string)
    }

    /// Whether `text` ends with "/" and one of the ids (a stream naming one).
    func endsAfterSlash(_ text: String) -> Bool {
        var rest = Substring(text)
        while let slash = rest.firstIndex(of: "/") {
            rest = rest[rest.index(after: slash)...]
            if contains(String(rest)) { return true }
        }
        return false
    }

    /// Which of `fingerprintBits` bits stands for `string`: a mix of its length and of
    /// up to eight bytes from each end.
    private static func fingerprint(_ string: String) -> Int {
        var utf8 = string
        let mixed = utf8.withUTF8 { bytes -> UInt64 in
            var first: UInt64 = 0, last: UInt64 = 0
            let n = min(8, bytes.count)
            for i in 0..<n {
                first = first << 8 | UInt64(bytes[i])
                last = last << 8 | UInt64(bytes[bytes.count - n + i])
            }
            return (first &* 0x9E37_79B9_7F4A_7C15 ^ last &* 0xC2B2_AE3D_27D4_EB4F ^ UInt64(bytes.count)) &* 0x1656_67B1_9E37_79F9
        }
        return Int(truncatingIfNeeded: mixed >> (64 - 14))
    }
}
