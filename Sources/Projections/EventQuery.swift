import EventStore

/// Which events `log`, `show` and `audit` read from the history: all of them (from a
/// seq on, of one type or stream), or one event with the corrections and retractions
/// applied to it.
public struct EventQuery: Sendable, Equatable {
    public enum Subject: Sendable, Equatable {
        case events
        /// The event `History.event(id:)` gives (the latest with the id), and what amends it.
        case event(id: String)
        /// The event at the seq, and what amends it.
        case eventAt(seq: Int)
    }

    /// A valid time: an instant (milliseconds) and the zone its plain dates are read in.
    public struct ValidTime: Sendable, Equatable {
        public var instant: Int64
        public var zone: ZoneRules

        public init(_ instant: Int64, in zone: ZoneRules) {
            self.instant = instant
            self.zone = zone
        }
    }

    public var subject: Subject
    public var from: Int
    public var type: String?
    public var stream: String?
    /// Only the events valid then, as corrected (`ResolvedEvent.isValid`); nil: all.
    public var validAt: ValidTime?
    /// The first this many of the events that pass; nil: all.
    public var limit: Int?

    public init(_ subject: Subject = .events, from: Int = 1, type: String? = nil, stream: String? = nil,
                validAt: ValidTime? = nil, limit: Int? = nil) {
        self.subject = subject
        self.from = from
        self.type = type
        self.stream = stream
        self.validAt = validAt
        self.limit = limit
    }

    /// Whether an event this query reads through its subject passes its other filters.
    func passes(seq: Int, type: () -> String, stream: () -> String) -> Bool {
        seq >= from && self.type.map { $0 == type() } ?? true && self.stream.map { $0 == stream() } ?? true
    }

    func passes(_ resolved: ResolvedEvent) -> Bool {
        let event = resolved.event
        return passes(seq: event.seq, type: { event.type }, stream: { event.stream })
            && validAt.map { resolved.isValid(at: $0.instant, in: $0.zone) } ?? true
    }

    /// The events of `picked` that pass, up to the limit.
    func kept(_ picked: [ResolvedEvent]) -> [ResolvedEvent] {
        let passing = picked.filter(passes)
        return limit.map { Array(passing.prefix($0)) } ?? passing
    }

    /// The answer the whole history gives.
    public func answer(from history: History) -> EventAnswer {
        let picked: [ResolvedEvent]
        switch subject {
        case .events:
            picked = history.events
        case .event(let id):
            picked = history.event(id: id).map { EventQuery.withItsAmendments($0, in: history.events) } ?? []
        case .eventAt(let seq):
            picked = history.event(seq: seq).map { EventQuery.withItsAmendments($0, in: history.events) } ?? []
        }
        let events = kept(picked)
        return EventAnswer(events: events, targetSeqs: EventAnswer.seqs(ofTargetsOf: events) { history.event(id: $0)?.event.seq },
                           erasedTexts: history.erasedTexts)
    }

    /// `target` and the events among `candidates` that correct or retract it, in seq order.
    static func withItsAmendments(_ target: ResolvedEvent, in candidates: some Sequence<ResolvedEvent>) -> [ResolvedEvent] {
        let related = Set(target.correctedBy + (target.retractedBy.map { [$0] } ?? []))
        return candidates.filter { $0.event.seq == target.event.seq || related.contains($0.event.seq) }
    }
}

/// What an `EventQuery` found: its events in seq order, as the history resolves them.
public struct EventAnswer: Sendable, Equatable {
    public var events: [ResolvedEvent]
    /// The seq of the event each `data.target` of those events names (the latest with
    /// that id); absent when the log holds none.
    var targetSeqs: [String: Int]
    /// Every text a `text.erased` erased (`History.erasedTexts`).
    public var erasedTexts: Set<String>

    /// The seq `seq(of:)` gives for each `target` the events name.
    static func seqs(ofTargetsOf events: [ResolvedEvent], _ seq: (String) -> Int?) -> [String: Int] {
        var seqs: [String: Int] = [:]
        for target in events.compactMap({ $0.event.data["target"]?.stringValue }) { seqs[target] = seq(target) }
        return seqs
    }

    /// For a correction or retraction (any event whose data names a `target`): the seq of
    /// the event it aims at; nil when there is none.
    public func targetSeq(of event: Event) -> Int? {
        event.data["target"]?.stringValue.flatMap { targetSeqs[$0] }
    }
}

extension Ledger {
    /// `query.answer(from:)` of the history up to `head` (a head the log held, such as
    /// `headView`'s), without that history in memory: a gigabyte for a million events.
    ///
    /// The corrections and retractions are found first (`Amendments.find`, on every
    /// core, unchecked), and which line holds each id they aim at (`holdersOfTargets`,
    /// a look at the raw lines). Then one pass recomputes every line's hash and keeps
    /// the events the query picks, each with the amendments recorded after it applied.
    ///
    /// That resolves each event as `History` does when every id aimed at is held by one
    /// event at most, and nothing but a correction or retraction names a `target`: the
    /// catalog allows nothing else. A forged log that breaks this is answered from the
    /// whole history instead.
    ///
    /// - Throws: `LogError` when the log is damaged, changed between the passes, or no
    ///   longer holds `head`.
    public func events(_ query: EventQuery, through head: LogHead) throws -> EventAnswer {
        try answer(query, through: head).answer
    }

    /// `events(_:through:)`, and whether it read the whole history.
    func answer(_ query: EventQuery, through head: LogHead) throws -> (answer: EventAnswer, readTheHistory: Bool) {
        let amendments = try Amendments.find(in: log)
        guard let holders = try holdersOfTargets(amendments, through: head) else {
            return (query.answer(from: try Ledger.history(of: log, asOf: nil, through: head)), true)
        }
        func amendmentSeqs(aimingAt id: String) -> Set<Int> {
            Set((amendments.corrections[id] ?? []).map(\.0.seq) + (amendments.retractions[id] ?? []).map(\.seq))
        }
        var picked: [ResolvedEvent] = []
        var erasedTexts = Set<String>()
        // An event subject's own id, and the seqs of what aims at it (known at the start
        // for an id, once the seq is reached for a seq).
        var subjectID: String?
        var aimingAtSubject = Set<Int>()
        var subjectKey: UUIDKey?
        if case .event(let id) = query.subject {
            subjectID = id
            subjectKey = UUIDKey(id)
            aimingAtSubject = amendmentSeqs(aimingAt: id)
        }

        try resolvingPass(amendments, holders: holders, through: head) { line in
            if line.withType({ $0.elementsEqual(EventLog.textErasedType.utf8) }), case .string(let reference)? = try line.event().data["ref"] {
                erasedTexts.insert(reference)
            }
            let picks: Bool
            switch query.subject {
            case .events:
                picks = picked.count < query.limit ?? Int.max
                    && query.passes(seq: line.seq, type: { line.withType { String(decoding: $0, as: UTF8.self) } }, stream: { line.stream })
            case .event(let id):
                // The 16 bytes first: a string is made only for a line that may hold the id.
                if line.id == subjectKey, line.idString == id {
                    // A later event with the id replaces the one before (`History.event(id:)`).
                    picked.removeAll { $0.event.id == id }
                    picks = true
                } else {
                    picks = aimingAtSubject.contains(line.seq)
                }
            case .eventAt(let seq):
                if line.seq == seq {
                    subjectID = line.idString
                    aimingAtSubject = amendmentSeqs(aimingAt: line.idString)
                }
                picks = line.seq == seq || aimingAtSubject.contains(line.seq)
            }
            guard picks else { return true }
            let resolved = amendments.resolve(try line.event()) { $0.seq <= head.seq }
            if query.subject != .events || query.passes(resolved) { picked.append(resolved) }
            return true
        }
        if let subjectID, query.subject != .events {
            // The subject and what was applied to it: an amendment aiming at its id from
            // before it was recorded applies to nothing.
            picked = picked.first { $0.event.id == subjectID }.map { EventQuery.withItsAmendments($0, in: picked) } ?? []
        }
        let events = query.kept(picked)
        return (EventAnswer(events: events, targetSeqs: EventAnswer.seqs(ofTargetsOf: events) { holders[$0] }, erasedTexts: erasedTexts), false)
    }

    /// `events(_:through:)` for `.events`, handing over each event as it is read, with
    /// the seq of what it aims at, instead of keeping them: for answers as long as the
    /// log (`audit` of all of it, `log`). `body` sees the events in seq order, up to the
    /// query's limit. Nothing is handed over before the log is known to resolve without
    /// the whole history (`holdersOfTargets`); a forged log that does not is answered
    /// from it.
    public func forEachEvent(_ query: EventQuery, through head: LogHead, _ body: (ResolvedEvent, _ targetSeq: Int?) throws -> Void) throws {
        precondition(query.subject == .events, "an event with what amends it is asked of `events(_:through:)`")
        guard query.limit != 0 else { return }
        let amendments = try Amendments.find(in: log)
        guard let holders = try holdersOfTargets(amendments, through: head) else {
            let answer = query.answer(from: try Ledger.history(of: log, asOf: nil, through: head))
            for resolved in answer.events { try body(resolved, answer.targetSeq(of: resolved.event)) }
            return
        }
        var handedOver = 0
        try resolvingPass(amendments, holders: holders, through: head) { line in
            guard query.passes(seq: line.seq, type: { line.withType { String(decoding: $0, as: UTF8.self) } }, stream: { line.stream }) else {
                return true
            }
            let resolved = amendments.resolve(try line.event()) { $0.seq <= head.seq }
            guard query.passes(resolved) else { return true }
            try body(resolved, resolved.event.data["target"]?.stringValue.flatMap { holders[$0] })
            handedOver += 1
            return handedOver < query.limit ?? Int.max
        }
    }

    /// From a look at the raw lines (on every core): the seq of the line holding each id
    /// that the amendments aim at, up to `head`. Nil when the log needs the whole history
    /// to resolve: such an id held twice, or a line other than an amendment naming a
    /// `target`.
    private func holdersOfTargets(_ amendments: Amendments, through head: LogHead) throws -> [String: Int]? {
        let found = try log.pickRawLinesWithSeqs { line -> (namesTarget: Bool, id: String?)? in
            let namesTarget = Bytes.contains(line, #""target":"#) && !Amendments.mayBeAmendment(line)
            let id = EventLog.envelopeID(of: line, where: amendments.targets.contains)?.string
            return namesTarget || id != nil ? (namesTarget, id) : nil
        }
        var holders: [String: Int] = [:]
        for (seq, line) in found where seq <= head.seq {
            guard !line.namesTarget else { return nil }
            if let id = line.id, holders.updateValue(seq, forKey: id) != nil { return nil }
        }
        return holders
    }

    /// The checked pass of `events` and `forEachEvent`, after `holdersOfTargets`: every
    /// line up to `head`, its hash recomputed, to `body` (false stops). Throws when a
    /// line disagrees with the raw looks (a holder, the amendments), or a pass that read
    /// to the head no longer finds it: the log changed in between.
    private func resolvingPass(_ amendments: Amendments, holders: [String: Int], through head: LogHead,
                               _ body: (LogLine) throws -> Bool) throws {
        var metAmendments: [String] = []
        var last = LogHead.empty
        var stopped = false
        try log.readLines(checks: .hashes) { line in
            guard line.seq <= head.seq else { return false }
            if line.seq == head.seq { last = LogHead(seq: line.seq, hash: line.hash, recorded: line.recorded) }
            if amendments.targets.contains(line.id), amendments.aimAt(line.idString), holders[line.idString] != line.seq {
                throw Ledger.changedWhileRead(head, LogHead(seq: line.seq, hash: line.hash, recorded: line.recorded))
            }
            if line.withType({ History.isAmendmentType($0) }) { metAmendments.append(line.hash) }
            guard try body(line) else {
                stopped = true
                return false
            }
            return line.seq < head.seq
        }
        // Every line handed on was checked; a pass stopped early needs no more.
        guard stopped || last == head && amendments.areExactly(metAmendments, counting: { $0.seq <= head.seq }) else {
            throw Ledger.changedWhileRead(head, last)
        }
    }
}

extension Amendments {
    /// Whether the hashes of the amendments a checked pass read, in order, are those of
    /// the amendments found that `counts`: the log did not change between the two looks.
    func areExactly(_ readHashes: [String], counting counts: (Amendment) -> Bool) -> Bool {
        all.filter(counts).map(\.hash) == readHashes
    }

    /// Whether a correction or retraction aims at `id`.
    func aimAt(_ id: String) -> Bool { corrections[id] != nil || retractions[id] != nil }

    /// `event` with the corrections and retractions of it recorded after it that `counts`
    /// (those up to the head read) applied: as `History` resolves it when no other
    /// event holds its id.
    func resolve(_ event: Event, counting counts: (Amendment) -> Bool) -> ResolvedEvent {
        var resolved = ResolvedEvent(event)
        for (amendment, correction) in corrections[event.id] ?? [] where amendment.seq > event.seq && counts(amendment) {
            resolved.apply(correction, seq: amendment.seq)
        }
        for retraction in retractions[event.id] ?? [] where retraction.seq > event.seq && counts(retraction) {
            resolved.apply(retractionAt: retraction.seq)
        }
        return resolved
    }
}
