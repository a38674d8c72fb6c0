import EventStore

/// The log read as the project's record: appends validated against the catalog and the
/// state at the head, and reads at any `asOf` / `validAt` (SPEC §3–5).
public struct Ledger: Sendable {
    public let log: EventLog

    public init(log: EventLog) { self.log = log }

    // MARK: reading

    /// The record as it stood at a transaction time, to be read at a valid time.
    public struct View: Sendable {
        /// Every event recorded by `asOf`, corrections applied. Read from the log the
        /// first time it is asked for (the projections do not need it), then kept.
        /// Throws when the log no longer holds what the view was made from (changed
        /// underneath, or a read failed).
        public var history: History {
            get throws { try source.history() }
        }
        /// The last event recorded by `asOf` (the whole log without it).
        public var head: LogHead
        public var tornTail: TornTail?
        /// Milliseconds, or nil for everything recorded.
        public var asOf: Int64?
        /// Milliseconds; now when not given.
        public var validAt: Int64
        public var validAtGiven: Bool
        public var timeZone: ZoneRules
        var source: ViewSource

        /// The facts valid at `validAt`, corrections applied.
        public var facts: [ResolvedEvent] {
            get throws { try history.facts(validAt: validAt, in: timeZone) }
        }
        /// The fold of `facts`; computed while the log was read (or read again when first
        /// asked for, when the view did not fold it), unless `validAt` was changed since.
        public var state: ProjectState {
            get throws {
                if source.validAt == validAt, let folded = try source.state() { return folded }
                return ProjectState(facts: try facts)
            }
        }
        /// The KPI rows at `validAt`: from the KPI checkpoint when it answers this
        /// question (see `KPICheckpoint`), else from the `KPIFigures` folded while the log
        /// was read (and kept there), else from `facts`.
        public var kpis: [KPIRow] {
            get throws {
                let validAt = validAt, zone = timeZone
                let fromFacts = { KPIFigures(facts: try facts).rows(validAt: validAt, in: zone) }
                guard source.validAt == validAt else { return try fromFacts() }
                return try source.kpis { figures in try figures?.rows(validAt: validAt, in: zone) ?? fromFacts() }
            }
        }
    }

    /// A view for reads that need the events themselves (`log`, `show`, `audit`):
    /// one pass that keeps the history, and no fold until `state` is asked for.
    public func historyView(asOf: String? = nil, validAt: String? = nil, now: Int64 = Timestamp.nowMillis()) throws -> View {
        let zone = log.timeZone
        let (asOfMillis, validAtMillis) = try instants(asOf: asOf, validAt: validAt)
        let (history, tornTail) = try Ledger.history(of: log, asOf: asOfMillis)
        return View(head: history.head, tornTail: tornTail, asOf: asOfMillis, validAt: validAtMillis ?? now,
                    validAtGiven: validAt != nil, timeZone: zone, source: ViewSource(history: history))
    }

    /// A view for `head`: one pass that checks every line (as `view` does) and keeps
    /// nothing but the last event recorded by `asOf`; anything else is read on demand.
    public func headView(asOf: String? = nil, validAt: String? = nil, now: Int64 = Timestamp.nowMillis()) throws -> View {
        let zone = log.timeZone
        let (asOfMillis, validAtMillis) = try instants(asOf: asOf, validAt: validAt)
        var head = LogHead.empty
        let summary = try log.readLines(checks: .hashes) { line in
            guard let asOfMillis else { return true }
            // Stops before the first line recorded after asOf: the head is the line before.
            if let recorded = line.recordedMillis, recorded > asOfMillis { return false }
            head = LogHead(seq: line.seq, hash: line.hash, recorded: line.recorded)
            return true
        }
        if asOfMillis == nil { head = summary.head }
        let log = self.log
        let last = head
        let source = ViewSource { try Ledger.history(of: log, asOf: asOfMillis, through: last) }
        return View(head: head, tornTail: summary.tornTail, asOf: asOfMillis, validAt: validAtMillis ?? now,
                    validAtGiven: validAt != nil, timeZone: zone, source: source)
    }

    /// What a view folds while it reads the log: what its command will ask for. The
    /// other is folded on demand, by a second read.
    public enum Folding: Sendable {
        /// `ProjectState`, for `state`.
        case state
        /// `KPIFigures`, for `kpi`: the compact fold (a cold `kpi` waits for it).
        case kpis
        /// Both in the one read, for `report`.
        case both
    }

    /// Reads the log up to `asOf` (`recorded` ≤ T) for reading at `validAt` (`occurred`
    /// ≤ D). Plain dates mean the end of that day in the log's time zone (SPEC §4).
    ///
    /// Every line is checked as `EventLog.read` with `.hashes` checks it. What `folding`
    /// names is folded while reading, without keeping the events (see `streamingFold`);
    /// the history is read only if the caller asks for it.
    ///
    /// - Throws: `ValidationError` for a time that is not one; `LogError` when the log
    ///   cannot be read or is damaged.
    public func view(asOf: String? = nil, validAt: String? = nil, now: Int64 = Timestamp.nowMillis(), folding: Folding = .both) throws -> View {
        let zone = log.timeZone
        let (asOfMillis, validAtMillis) = try instants(asOf: asOf, validAt: validAt)
        let valid = validAtMillis ?? now
        let log = self.log
        let ledger = self
        /// The state as the view's head has it, read again: for a view that did not fold it.
        func stateReadAgain(through head: LogHead) -> @Sendable () throws -> ProjectState {
            {
                let fold = try ledger.streamingFold(ProjectState(), asOf: asOfMillis, validAt: valid, upTo: head.seq)
                guard fold.head == head else { throw Ledger.changedWhileRead(head, fold.head) }
                return fold.folded
            }
        }
        // At the head, the rows a cold read kept may already answer the question.
        if asOfMillis == nil, let warm = KPICheckpoint.load(log, validAt: valid) {
            let head = LogHead(seq: warm.position.seq, hash: warm.position.hash, recorded: warm.recorded)
            let source = ViewSource(encodedRows: warm.encodedRows, validAt: valid, state: stateReadAgain(through: head),
                                    history: { try Ledger.history(of: log, asOf: nil, through: head) })
            return View(head: head, tornTail: nil, asOf: nil, validAt: valid, validAtGiven: validAt != nil, timeZone: zone, source: source)
        }
        let fold = try streamingFold(ViewFold(folding), asOf: asOfMillis, validAt: valid)
        // Rows of every fact, at the head, with nothing torn: worth keeping for the next read.
        var keepRows: (@Sendable ([UInt8]) -> Void)?
        if asOfMillis == nil, fold.tornTail == nil, fold.excludedFacts == 0, let end = fold.end {
            let recorded = fold.head.recorded
            keepRows = { rows in KPICheckpoint(position: end, recorded: recorded, validAt: valid, zone: zone, encodedRows: rows).save(log) }
        }
        let head = fold.head
        let source = ViewSource(state: fold.folded.state, readState: stateReadAgain(through: head), figures: fold.folded.figures,
                                validAt: valid, keepRows: keepRows) {
            try Ledger.history(of: log, asOf: asOfMillis, through: head)
        }
        return View(head: fold.head, tornTail: fold.tornTail, asOf: asOfMillis, validAt: valid,
                    validAtGiven: validAt != nil, timeZone: zone, source: source)
    }

    /// Every event recorded by `asOf`, corrections applied: the whole history in memory.
    static func history(of log: EventLog, asOf: Int64?, upTo last: Int = Int.max) throws -> (history: History, tornTail: TornTail?) {
        var history = History()
        // Every line's hash is recomputed: an answer never rests on a changed line.
        let summary = try log.read(checks: .hashes) { event in
            if event.seq > last { return false }
            if let asOf, let recorded = Timestamp.millis(ofRecorded: event.recorded), recorded > asOf { return false }
            history.append(event)
            return true
        }
        return (history, summary.tornTail)
    }

    /// The history of a view made earlier, read again up to its `head`: only as far as
    /// the view goes (a writer may have appended since), and throwing when the log no
    /// longer holds that head there.
    static func history(of log: EventLog, asOf: Int64?, through head: LogHead) throws -> History {
        let history = try Ledger.history(of: log, asOf: asOf, upTo: head.seq).history
        guard history.head == head else { throw Ledger.changedWhileRead(head, history.head) }
        return history
    }

    /// The state at `validAt` of the record as it stood at `asOf`, folded in one pass
    /// over the log that keeps no events: the same facts, in the same order, as
    /// `ProjectState(facts: history.facts(validAt:in:))`, through the same fold.
    ///
    /// Corrections and retractions change earlier events, so a first, cheap pass finds
    /// them (a byte search over the lines, then parsing only those); the second pass
    /// applies them to their targets as it meets them (time travel stays a filter in
    /// front of the fold: what was recorded by `asOf`, valid by `validAt`). When the two
    /// passes disagree (the log grew in between) or ids repeat, it falls back to the
    /// history, which gives the same answer the slow way.
    ///
    /// Complexity: two reads of the log; memory grows with the state and the number of
    /// corrections, not with the number of events.
    func streamingFold<Fold: FactFold>(_ empty: Fold, asOf: Int64?, validAt: Int64, upTo last: Int = Int.max) throws -> StreamingFold<Fold> {
        let zone = log.timeZone
        let amendments = try Amendments.find(in: log)
        func counts(_ amendment: Amendments.Amendment) -> Bool {
            guard amendment.seq <= last else { return false }
            guard let asOf else { return true }
            return (amendment.recordedMillis ?? Int64.max) <= asOf
        }
        var fold = StreamingFold(folded: empty)
        var metAmendments: [String] = []
        var targetsSeen = Set<String>()
        var consistent = true
        // A read that may stop before a line (the first recorded after asOf, or after
        // `last`) counts that line in its summary: its head is noted as the lines go by.
        // A read to the end takes the summary's.
        let mayStopBefore = asOf != nil || last != Int.max
        let summary = try log.readLines(checks: .hashes) { line in
            let seq = line.seq
            if seq > last { return false }
            if let asOf, let recorded = line.recordedMillis, recorded > asOf { return false }
            if mayStopBefore { fold.head = LogHead(seq: seq, hash: line.hash, recorded: line.recorded) }
            let (kind, meta) = line.factKind
            // The usual line: no amendment aims at it, so its data and occurred are as
            // written and it is folded in place. Amendments, their targets and lines the
            // strict parser read go the way of the history.
            let isTarget = amendments.targets.contains(line.id)
            if !meta, !isTarget, let fact = LineFact(line, kind: kind) {
                if ResolvedEvent.isValid(occurred: fact.occurred, at: validAt, in: zone) { fold.folded.fold(fact) } else { fold.excludedFacts += 1 }
                return seq < last
            }
            let event = try line.event()
            if event.type == History.correctedType || event.type == History.retractedType { metAmendments.append(event.hash) }
            // A second event with a target's id: which one a correction meant depends on the order; leave it to the history.
            if isTarget, !targetsSeen.insert(event.id).inserted {
                consistent = false
                return false
            }
            let resolved = amendments.resolve(event, counting: counts)
            if resolved.isFact {
                if resolved.isValid(at: validAt, in: zone) { fold.folded.fold(resolved) } else { fold.excludedFacts += 1 }
            }
            return seq < last
        }
        // Every amendment applied must be one this pass read, with the same bytes.
        if consistent { consistent = amendments.areExactly(metAmendments, counting: counts) }
        guard consistent else {
            let (history, tornTail) = try Ledger.history(of: log, asOf: asOf, upTo: last)
            var slow = StreamingFold(folded: empty)
            for fact in history.facts(validAt: validAt, in: zone) { slow.folded.fold(fact) }
            slow.head = history.head
            slow.tornTail = tornTail
            return slow
        }
        if !mayStopBefore { fold.head = summary.head }
        fold.tornTail = summary.tornTail
        fold.end = summary.end
        return fold
    }

    /// What `streamingFold` found.
    struct StreamingFold<Folded> {
        var folded: Folded
        var head = LogHead.empty
        var tornTail: TornTail?
        /// Where the fold stopped reading; nil when the history answered instead.
        var end: LogPosition?
        /// Facts left out because they occurred after the valid time.
        var excludedFacts = 0
    }

    static func changedWhileRead(_ before: LogHead, _ after: LogHead) -> LogError {
        .integrity(IntegrityFailure(place: LogPlace(seq: after.seq, file: "", line: 0),
                                    reason: "the log changed while it was read (head \(before), then \(after))"))
    }

    /// `--as-of` and `--valid-at` in milliseconds.
    private func instants(asOf: String?, validAt: String?) throws(ValidationError) -> (asOf: Int64?, validAt: Int64?) {
        let zone = log.timeZone
        return (try asOf.map { text throws(ValidationError) in try Ledger.instant(text, option: "--as-of", zone: zone) },
                try validAt.map { text throws(ValidationError) in try Ledger.instant(text, option: "--valid-at", zone: zone) })
    }

    /// A time given on the command line: a plain date is the end of that day in `zone`.
    public static func instant(_ text: String, option: String, zone: ZoneRules) throws(ValidationError) -> Int64 {
        if let date = Timestamp.CalendarDate(text) { return Timestamp.endOfDay(date, in: zone) }
        if let millis = Timestamp.parseOffsetDateTime(text) { return millis }
        throw ValidationError(option, "\"\(text)\" is not a real date YYYY-MM-DD or a date-time with Z or an offset (like 2021-06-30T12:00:00+02:00)")
    }

    // MARK: appending

    /// What became of one event given to `append`.
    public struct Appended: Sendable, Equatable {
        public var event: Event
        /// The id was already in the log with the same content: nothing was written.
        public var existing: Bool
    }

    public struct AppendReport: Sendable, Equatable {
        public var events: [Appended]
        public var quarantined: Quarantine?
        public var head: LogHead
    }

    /// Validates and appends `events` as one batch: all or nothing, one fsync.
    ///
    /// Texts in attachment members are checked, stored under `attachments/`, and
    /// replaced by their references. An event whose `id` is already in the log with the
    /// same type, data and occurred is a no-op reported as `existing`. With `dryRun`,
    /// everything is checked under the lock and nothing is stored or written, not even
    /// a torn tail moved aside (`BatchSummary.tornTailAhead`).
    ///
    /// - Throws: `BatchRefused` listing every refused event (nothing written);
    ///   `LogError.conflict` for `expectSeq` or an id reused with other content; other
    ///   `LogError`s from the store.
    ///
    /// `lookedUp` are what `lookUp(id:)` found before: validation takes an event it
    /// needs from them, instead of reading the log for it, when the log still ends where
    /// that lookup read it to (a `correct` or `retract` reads the log once, not twice).
    public func append(_ events: consuming [NewEvent], expectSeq: Int? = nil, dryRun: Bool = false,
                       lookedUp: [IDLookup] = []) throws -> AppendReport {
        try append(events, expectSeq: expectSeq, dryRun: dryRun, keepingEvents: true, lookedUp: lookedUp).report!
    }

    /// What a batch did, without its events: for an import, whose million events the
    /// caller would only count (a report of them takes a second to build at that size).
    public struct BatchSummary: Sendable, Equatable {
        /// Events given.
        public var events: Int
        /// Those already in the log under their id with the same content: not written.
        public var existing: Int
        /// The seqs of the first and the last event written (with `dryRun`, that would
        /// be); nil when there is none.
        public var first: Int?
        public var last: Int?
        public var quarantined: Quarantine?
        public var head: LogHead
        /// With `dryRun`, the torn tail an append would move aside first (and record, as
        /// the seq before `first`); the dry run leaves it where it is.
        public var tornTailAhead: TornTail?
    }

    /// `append`, answering with a summary.
    public func appendBatch(_ events: consuming [NewEvent], expectSeq: Int? = nil, dryRun: Bool = false) throws -> BatchSummary {
        try append(events, expectSeq: expectSeq, dryRun: dryRun, keepingEvents: false).summary
    }

    private func append(_ events: consuming [NewEvent], expectSeq: Int?, dryRun: Bool, keepingEvents: Bool,
                        lookedUp: [IDLookup] = []) throws -> (report: AppendReport?, summary: BatchSummary) {
        let today = Timestamp.calendarDate(ofMillis: Timestamp.nowMillis(), in: log.timeZone).description
        var refusals: [BatchRefused.Refusal] = []
        // The caller's array, taken over (no copy of a large batch when the caller keeps none).
        var pending = consume events
        let count = pending.count
        for index in pending.indices where pending[index].occurred == nil { pending[index].occurred = today }
        // Shapes need nothing of the log or of each other: a large batch is checked on every core.
        // Naming an event's texts (below) changes only their form, which the shape allows.
        // Each type is kept as its place in the catalog (not a copy of the type: 80 bytes an
        // event); a refused event's error is found again here (few are).
        let typeIndices = Parallel.map(count: count, threshold: Ledger.largeBatch) { index -> Int32 in
            (try? Validator.checkShape(pending[index], texts: .raw)).map { Int32(Catalog.index(of: $0)) } ?? -1
        }
        for index in typeIndices.indices where typeIndices[index] < 0 {
            let shape = Result { () throws(ValidationError) in try Validator.checkShape(pending[index], texts: .raw) }
            if case .failure(let error) = shape { refusals.append(.init(index: index, error: error)) }
        }
        // Events refused by their shape alone are left out, and the rest still checked
        // against the log (writing nothing), so one run reports every refusal.
        let misshapen = Set(refusals.map(\.index))
        let callerChoseID = pending.map { $0.id != nil }
        let checkOnly = dryRun || !misshapen.isEmpty

        // Settle reused ids before naming texts, so a retry stores no text.
        var context = try ValidationContext.load(log)
        context.batchSize = count
        // Texts are named here (salted and hashed in memory, by the index of their event)
        // and written at once on another thread while the batch is validated and sealed;
        // all of them are made durable together (`EventLog.storeTexts`: one syncfs) before
        // the first line that names one is written (`beforeWriting` below). Texts stored
        // are deleted again when the lines were surely not written (a refusal, a
        // conflict): a text no event names is one no erase reaches. After an I/O error
        // (a failed fsync leaves the lines in the file) they are kept: a stray text is
        // better than an event missing its text.
        var namedTexts: [Int: [EventLog.PreparedText]] = [:]
        var storedTexts: [String] = []
        var storing: Background<Void>?
        var keepTexts = false
        defer {
            storing?.wait()
            if !keepTexts { log.deleteTexts(storedTexts) }
        }
        for index in pending.indices where !misshapen.contains(index) {
            guard try context.existing(pending[index], index: index, count: count, log: log) == nil else { continue }
            if !checkOnly { nameTexts(of: &pending[index], index: index, named: &namedTexts) }
            if pending[index].id == nil { pending[index].id = EventID.random() }
        }
        // The references of each event's texts, to tell which were named by no line.
        var textReferences: [Int: [String]] = [:]
        if !namedTexts.isEmpty {
            let indices = namedTexts.keys.sorted()
            let texts = indices.flatMap { namedTexts[$0]! }
            for index in indices { textReferences[index] = namedTexts[index]!.map(\.reference) }
            namedTexts = [:]
            storedTexts = texts.map(\.reference)
            storing = Background { try log.storeTexts(texts) }
        }
        var unusedTexts: [String] = []

        // The events already in the log under their id with the same content, by index.
        var existing: [Int: Event] = [:]
        var dryRunEvents: [Event] = []
        var dryRunSeqs: ClosedRange<Int>?
        var tornTailAhead: TornTail?
        var sealedAfter = LogHead.empty
        var settling: Background<ValidationContext>?
        defer { settling?.wait() }
        var draftIndices: [Int] = []
        var drafted: [EventDraft] = []
        let shapeRefusals = refusals
        func prepare(_ head: LogHead) throws -> [EventDraft] {
            var drafts = try validatePending(after: head)
            if context.readDamagedCheckpoint {
                // A page of the checkpoint failed its MAC as validation read it: what it
                // answered is void. Validate again against the log alone.
                try? log.removeDerivedFile(Checkpoint.fileName)
                context = try ValidationContext.replaying(log)
                context.batchSize = count
                refusals = shapeRefusals
                drafts = try validatePending(after: head)
            }
            if !refusals.isEmpty { throw BatchRefused(refusals: refusals.sorted { $0.index < $1.index }) }
            if dryRun {
                // Seal the drafts as they would be written, without writing them; a line
                // the store would refuse is refused here too.
                let overlong = overlongRefusals(drafts, after: head)
                if !overlong.isEmpty { throw BatchRefused(refusals: overlong) }
                // An append would first record the torn tail it moves aside.
                var after = head
                if tornTailAhead != nil { after.seq += 1 }
                if !drafts.isEmpty { dryRunSeqs = (after.seq + 1)...(after.seq + drafts.count) }
                // A summary needs the seqs alone: the lines are checked, not sealed.
                if keepingEvents {
                    dryRunEvents = try log.sealForPreview(drafts, after: after)
                } else {
                    try log.checkLines(drafts, after: after)
                }
                return []
            }
            // An event another writer appended since its texts were named is not written:
            // no line names those texts.
            unusedTexts = textReferences.filter { existing[$0.key] != nil }.flatMap(\.value)
            let given = Ledger.take(&pending, leaving: [])
            if count >= Ledger.largeBatch { Parallel.release(consume given) }
            drafted = drafts
            // A batch that will leave a checkpoint folds in its retractions for it while
            // its lines are sealed and written (from the history in memory, not the log).
            if drafts.count >= Checkpoint.rewriteDistance, context.settlesInMemory {
                let taken = Ledger.take(&context, leaving: ValidationContext())
                settling = Background {
                    var settled = taken
                    try settled.settle(log)
                    return settled
                }
            }
            return drafts
        }
        /// Catches up with the log to `head` and validates each pending event,
        /// collecting the refusals.
        func validatePending(after head: LogHead) throws -> [EventDraft] {
            try context.catchUp(log, to: head)
            context.remember(lookedUp)
            existing = [:]
            sealedAfter = head
            draftIndices = []
            var drafts: [EventDraft] = []
            drafts.reserveCapacity(count - misshapen.count)
            for (index, new) in pending.enumerated() {
                if misshapen.contains(index) { continue }
                // Only an id the caller chose can already be in the log: the others were drawn at random
                // just now, and looking them up would read the whole history.
                if callerChoseID[index], let found = try context.existing(new, index: index, count: count, log: log) {
                    existing[index] = found
                    continue
                }
                do {
                    let draft = try context.validate(new, type: Catalog.types[Int(typeIndices[index])], log: log)
                    try context.applyProvisionally(draft, seq: head.seq + drafts.count + 1, log: log)
                    drafts.append(draft)
                    draftIndices.append(index)
                } catch let error as ValidationError {
                    refusals.append(.init(index: index, error: error))
                }
            }
            return drafts
        }
        /// The drafts whose lines the store would refuse as over 1 MiB, named by their
        /// events' places in the batch.
        func overlongRefusals(_ drafts: [EventDraft], after head: LogHead) -> [BatchRefused.Refusal] {
            log.overlongLines(drafts, after: head).map { draft, length in
                .init(index: draftIndices[draft], error: ValidationError("data", "the event would be a line of \(length) bytes; a line holds at most 1 MiB (\(EventLog.maxLineBytes) bytes). Keep long text in an attachment (text=@FILE) or split it"))
            }
        }
        var outcome: AppendOutcome
        do {
            if dryRun {
                outcome = try log.withLockedHead(expectSeq: expectSeq) { head, torn in
                    tornTailAhead = torn
                    _ = try prepare(head)
                    return AppendOutcome(nothingAfter: head)
                }
            } else {
                outcome = try log.append(expectSeq: expectSeq, keepingEvents: keepingEvents, prepare: prepare, beforeWriting: { try storing?.finish() })
            }
        } catch LogError.invalidInput(let message) where !drafted.isEmpty {
            // The store refuses a batch holding a line over 1 MiB; name each such event, so
            // an import can name its rows.
            let overlong = overlongRefusals(drafted, after: sealedAfter)
            if overlong.isEmpty { throw LogError.invalidInput(message) }
            throw BatchRefused(refusals: overlong)
        } catch LogError.io(let operation, let path, let code) {
            keepTexts = true
            throw LogError.io(operation: operation, path: path, errno: code)
        }
        keepTexts = true
        if !unusedTexts.isEmpty {
            storing?.wait()
            log.deleteTexts(unusedTexts)
        }
        if let settling { context = try settling.finish() }
        if dryRun {
            outcome.events = dryRunEvents
        } else if context.eventsSinceCheckpoint + outcome.count >= Checkpoint.rewriteDistance || context.refolded {
            // A context that folded the whole log again (a retraction since the checkpoint)
            // is kept at once: else every append until the next rewrite would fold it again.
            // `context` is where validation caught up to, the head the batch was sealed after.
            if let end = Ledger.end(of: outcome, after: context.position) {
                // The state validation folded the batch into is the state at its end: keep
                // that (once any retraction is folded in), without reading the batch back.
                try context.settle(log)
                context.position = end
                context.checkpoint.save(log)
            } else {
                // A torn tail was moved aside, or the batch is not where the head was: read
                // the log again from the last checkpoint (rare), up to the batch's end.
                try ValidationContext.load(log).saveCheckpointIfWorthwhile(log)
            }
        }
        let seqs = dryRun ? dryRunSeqs : outcome.seqs
        let summary = BatchSummary(events: count, existing: existing.count, first: seqs?.lowerBound, last: seqs?.upperBound,
                                   quarantined: outcome.quarantined, head: outcome.head, tornTailAhead: tornTailAhead)
        var report: AppendReport?
        if keepingEvents {
            var written = outcome.events.makeIterator()
            let appended = (0..<count).map { existing[$0].map { Appended(event: $0, existing: true) } ?? Appended(event: written.next()!, existing: false) }
            report = AppendReport(events: appended, quarantined: outcome.quarantined, head: outcome.head)
        }
        if count >= Ledger.largeBatch {
            // What validation kept of a large batch is freed on another thread.
            Parallel.release((Ledger.take(&context, leaving: ValidationContext()), Ledger.take(&drafted, leaving: []),
                              Ledger.take(&outcome.events, leaving: [])))
        }
        return (report, summary)
    }

    /// A batch this long has its shapes checked on every core and is freed on another thread.
    static let largeBatch = 4096

    /// `value`, leaving `empty` in its place, so that the caller holds the only copy.
    static func take<T>(_ value: inout T, leaving empty: T) -> T {
        var taken = empty
        swap(&taken, &value)
        return taken
    }

    /// Where a batch appended right after `start` (the head validation read to) ends;
    /// nil when the store wrote other lines too (a torn tail's `log.tail-quarantined`) or
    /// did not start at `start` or at the start of the next segment.
    static func end(of outcome: AppendOutcome, after start: LogPosition) -> LogPosition? {
        guard outcome.quarantined == nil, outcome.count > 0 else { return nil }
        let linesBefore: Int
        if outcome.segment == start.segment && outcome.startOffset == start.offset {
            linesBefore = start.linesBefore
        } else if outcome.segment == start.segment + 1 && outcome.startOffset == 0 {
            linesBefore = 0
        } else {
            return nil
        }
        return LogPosition(segment: outcome.segment, offset: outcome.endOffset, linesBefore: linesBefore + outcome.count,
                           seq: outcome.head.seq, hash: outcome.head.hash)
    }

    /// The event with seq `seq`, as written; nil when the log has none.
    public func event(seq: Int) throws -> Event? {
        try lookUp(seq: seq)?.event
    }

    /// The last event with `id`, as written (`History.event(id:)`): found in one pass
    /// that parses only the lines holding the id, not the whole history in memory.
    public func event(id: String) throws -> Event? {
        try lookUp(id: id).event
    }

    /// `event(id:)`, with what an append that names the event can take from it (see
    /// `append`'s `lookedUp`).
    public func lookUp(id: String) throws -> IDLookup {
        guard History.isFoundByItsBytes(id) else { return IDLookup(id: id, found: try historyView().history.event(id: id), end: nil) }
        let (found, end) = try History.event(id: id, in: log, upToSeq: nil)
        return IDLookup(id: id, found: found, end: end)
    }

    /// `lookUp(id:)` of the id of the event at `seq`, in one pass (not one to find the id
    /// and another to look it up); nil for a seq the log does not hold.
    public func lookUp(seq: Int) throws -> IDLookup? {
        guard seq >= 1, let (found, end) = try History.event(atSeq: seq, in: log) else { return nil }
        // An id that JSON escapes is not found by its bytes; no valid id is one.
        guard History.isFoundByItsBytes(found.event.id) else { return try lookUp(id: found.event.id) }
        return IDLookup(id: found.event.id, found: found, end: end)
    }

    /// What `lookUp(id:)` found: the event with `id` as corrected by the lines it read,
    /// and where those lines ended.
    public struct IDLookup: Sendable {
        public let id: String
        let found: ResolvedEvent?
        /// Nil when the lookup read the whole history instead (an id JSON escapes).
        let end: LogPosition?

        /// The event as written; nil when the log has none with the id.
        public var event: Event? { found?.event }
    }

    /// Erases a text (SPEC §3): appends `text.erased`, then deletes the file.
    public func erase(reference: String, reason: String, actor: String, source: String? = nil) throws -> AppendReport {
        let report = try append([NewEvent(type: EventLog.textErasedType, data: JSONObject(["ref": .string(reference), "reason": .string(reason)]),
                                          source: source, actor: actor)])
        try log.deleteText(reference)
        return report
    }

    /// Every event of a batch that was refused, and why (SPEC §6 import: every bad row).
    public struct BatchRefused: Error, Sendable, Equatable, CustomStringConvertible {
        public struct Refusal: Sendable, Equatable {
            /// Position in the batch, from 0.
            public var index: Int
            public var error: ValidationError
        }
        public var refusals: [Refusal]

        public var description: String {
            refusals.count == 1 ? refusals[0].error.description
                : refusals.map { "event \($0.index + 1): \($0.error)" }.joined(separator: "\n")
        }
    }

    /// Replaces the texts in `new`'s attachment members by the references they will be
    /// stored under, keeping the salted texts in `named` under `index` (see `append`).
    private func nameTexts(of new: inout NewEvent, index: Int, named: inout [Int: [EventLog.PreparedText]]) {
        guard let type = Catalog.type(named: new.type) else { return }
        for member in type.members where member.kind == .attachment {
            if case .string(let text)? = new.data[member.name] {
                let prepared = log.prepareText(text)
                named[index, default: []].append(prepared)
                new.data[member.name] = .string(prepared.reference)
            }
        }
    }

}

/// The corrections and retractions of a log, by the id of the event they aim at: what
/// the streaming fold must know before it meets their targets. Each is kept as what
/// resolving its target reads of it, not as its event: a long log has tens of
/// thousands of them (finding 33).
struct Amendments {
    /// What every amendment is to a reader that resolves it.
    struct Amendment {
        let seq: Int
        /// Nil when `recorded` is not a time (it then counts at no `--as-of`).
        let recordedMillis: Int64?
        let hash: String
    }

    /// What applying a correction reads of it besides its seq (`ResolvedEvent.apply`).
    struct Correction {
        let changes: JSONObject?
        let occurred: String?

        init(_ event: Event) {
            changes = event.data["changes"]?.objectValue
            occurred = event.data["occurred"]?.stringValue
        }
    }

    var corrections: [String: [(Amendment, Correction)]] = [:]
    var retractions: [String: [Amendment]] = [:]
    /// The ids aimed at, as keys of 16 bytes: what the fold asks of every line.
    var targets: Set<UUIDKey> = []
    /// In seq order.
    var all: [Amendment] = []

    /// One pass over the raw lines: only those whose last 64 bytes hold `"type":"event.`
    /// are parsed. A canonical line ends with its `type` and `v` members, so a
    /// correction's or retraction's always does; a line that is not canonical fails the
    /// checked read that follows.
    static func find(in log: EventLog) throws -> Amendments {
        var found = Amendments()
        let amendments = try log.pickRawLines { line -> (Amendment, target: String, correction: Correction?)? in
            guard Amendments.mayBeAmendment(line),
                  let event = Event(parsing: line),
                  event.type == History.correctedType || event.type == History.retractedType,
                  case .string(let target)? = event.data["target"] else { return nil }
            let amendment = Amendment(seq: event.seq, recordedMillis: Timestamp.millis(ofRecorded: event.recorded), hash: event.hash)
            return (amendment, target, event.type == History.correctedType ? Correction(event) : nil)
        }
        for (amendment, target, correction) in amendments {
            if let correction {
                found.corrections[target, default: []].append((amendment, correction))
            } else {
                found.retractions[target, default: []].append(amendment)
            }
            found.targets.insert(UUIDKey(target))
            found.all.append(amendment)
        }
        return found
    }
}

extension Amendments {
    /// The ids of the events that retractions up to seq `last` undo.
    static func retracted(in log: EventLog, upTo last: Int) throws -> Set<UUIDKey> {
        Set(try find(in: log).retractions.filter { _, retractions in retractions.contains { $0.seq <= last } }.keys.map(UUIDKey.init))
    }

    static func mayBeAmendment(_ line: UnsafeRawBufferPointer) -> Bool {
        Bytes.contains(UnsafeRawBufferPointer(rebasing: line[max(0, line.count - 64)...]), "\"type\":\"event.")
    }
}

/// Where a view's state, rows and history come from: computed once, on first use, and
/// shared by the view's copies (a reference type for that cache; the lock makes it safe
/// across threads).
final class ViewSource: @unchecked Sendable {
    /// The valid time the state and rows are for; nil when only a history was given.
    let validAt: Int64?
    private let lock = Lock()
    private var cachedState: ProjectState?
    /// Folded with the state (or instead of it) until the rows are made from them.
    private var figures: KPIFigures?
    private var cachedRows: [KPIRow]?
    private var cachedHistory: History?
    private let readState: (@Sendable () throws -> ProjectState)?
    private let readHistory: (@Sendable () throws -> History)?
    /// Given the rows' bytes (`KPIRow.encodedArray`) once they are made, to keep them.
    private let keepRows: (@Sendable ([UInt8]) -> Void)?
    /// The rows' bytes, from a KPI checkpoint, or once made for one.
    private var storedRows: [UInt8]?

    /// After a streaming fold: what it folded is known (the state, if folded; else it is
    /// folded again by `readState`), the history read on demand.
    init(state: ProjectState?, readState: @escaping @Sendable () throws -> ProjectState, figures: KPIFigures?, validAt: Int64,
         keepRows: (@Sendable ([UInt8]) -> Void)? = nil, read: @escaping @Sendable () throws -> History) {
        self.validAt = validAt
        cachedState = state
        self.readState = readState
        self.figures = figures
        readHistory = read
        self.keepRows = keepRows
    }

    /// From the KPI checkpoint: the rows are known (decoded when first asked for), the
    /// rest read on demand.
    init(encodedRows: [UInt8], validAt: Int64, state: @escaping @Sendable () throws -> ProjectState,
         history: @escaping @Sendable () throws -> History) {
        self.validAt = validAt
        storedRows = encodedRows
        readState = state
        readHistory = history
        keepRows = nil
    }

    /// Nothing known but the head: the history is read on demand, the state folded from it.
    init(read: @escaping @Sendable () throws -> History) {
        validAt = nil
        readState = nil
        readHistory = read
        keepRows = nil
    }

    init(history: History) {
        validAt = nil
        cachedHistory = history
        readState = nil
        readHistory = nil
        keepRows = nil
    }

    /// The state, read on first use when it was not known; nil when the view has none
    /// of its own (only a history). Throws what reading the log again threw.
    func state() throws -> ProjectState? {
        lock.lock()
        defer { lock.unlock() }
        if let cachedState { return cachedState }
        guard let readState else { return nil }
        cachedState = try readState()
        return cachedState
    }

    /// The rows' bytes (`KPIRow.encodedArray`) when a KPI checkpoint gave them or they
    /// were made to keep one; nil otherwise.
    var encodedRows: [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        return storedRows
    }

    /// The rows, made on first use by `compute` from the figures folded (nil when none
    /// were), which are then let go.
    func kpis(_ compute: (KPIFigures?) throws -> [KPIRow]) rethrows -> [KPIRow] {
        lock.lock()
        if let cachedRows {
            lock.unlock()
            return cachedRows
        }
        let (figures, stored) = (self.figures, storedRows)
        lock.unlock()
        // Rows a checkpoint kept are read as rows now; bytes that are not such rows are
        // computed again instead.
        let rows = try stored.flatMap(KPIRow.decodeArray) ?? compute(figures)
        // Rows to keep are encoded once, for the checkpoint and for `encodedRows`.
        let kept = keepRows == nil ? nil : KPIRow.encodedArray(rows)
        lock.lock()
        defer { lock.unlock() }
        if cachedRows == nil {
            cachedRows = rows
            self.figures = nil
            if let kept, let keepRows {
                storedRows = kept
                keepRows(kept)
            }
        }
        return rows
    }

    /// The history, read on first use. The same lines were read and checked when the
    /// view was made (or the checkpoint matched them): failing now means the log changed
    /// underneath or could not be read, and the error says which.
    func history() throws -> History {
        lock.lock()
        defer { lock.unlock() }
        if let cachedHistory { return cachedHistory }
        let history = try readHistory!()
        cachedHistory = history
        return history
    }
}
