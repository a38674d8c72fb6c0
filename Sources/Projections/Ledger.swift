import EventStore
import Foundation

/// The log read as the project's record: appends validated against the catalog and the
/// state at the head, and reads at any `asOf` / `validAt` (SPEC §3–5).
public struct Ledger: Sendable {
    public let log: EventLog

    public init(log: EventLog) { self.log = log }

    // MARK: reading

    /// The record as it stood at a transaction time, to be read at a valid time.
    public struct View: Sendable {
        public var history: History
        /// The last event recorded by `asOf` (the whole log without it).
        public var head: LogHead
        public var tornTail: TornTail?
        /// Milliseconds, or nil for everything recorded.
        public var asOf: Int64?
        /// Milliseconds; now when not given.
        public var validAt: Int64
        public var validAtGiven: Bool
        public var timeZone: TimeZone

        /// The facts valid at `validAt`, corrections applied.
        public var facts: [ResolvedEvent] { history.facts(validAt: validAt, in: timeZone) }
        public var state: ProjectState { ProjectState(facts: facts) }
        public var kpis: [KPIRow] { KPI.rows(of: state, validAt: validAt, in: timeZone) }
    }

    /// Reads the log up to `asOf` (`recorded` ≤ T) for reading at `validAt` (`occurred`
    /// ≤ D). Plain dates mean the end of that day in the log's time zone (SPEC §4).
    ///
    /// - Throws: `ValidationError` for a time that is not one; `LogError` when the log
    ///   cannot be read or is damaged.
    public func view(asOf: String? = nil, validAt: String? = nil, now: Int64 = Timestamp.nowMillis()) throws -> View {
        let zone = log.timeZone
        let asOfMillis = try asOf.map { text throws(ValidationError) in try Ledger.instant(text, option: "--as-of", zone: zone) }
        let validAtMillis = try validAt.map { text throws(ValidationError) in try Ledger.instant(text, option: "--valid-at", zone: zone) }
        var history = History()
        // Every line's hash is recomputed: an answer never rests on a changed line.
        let summary = try log.read(checks: .hashes) { event in
            if let asOfMillis, let recorded = Timestamp.millis(ofRecorded: event.recorded), recorded > asOfMillis { return false }
            history.append(event)
            return true
        }
        return View(history: history, head: history.head, tornTail: summary.tornTail, asOf: asOfMillis,
                    validAt: validAtMillis ?? now, validAtGiven: validAt != nil, timeZone: zone)
    }

    /// A time given on the command line: a plain date is the end of that day in `zone`.
    public static func instant(_ text: String, option: String, zone: TimeZone) throws(ValidationError) -> Int64 {
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
    /// everything is checked under the lock and nothing is stored or written.
    ///
    /// - Throws: `BatchRefused` listing every refused event (nothing written);
    ///   `LogError.conflict` for `expectSeq` or an id reused with other content; other
    ///   `LogError`s from the store.
    public func append(_ events: [NewEvent], expectSeq: Int? = nil, dryRun: Bool = false) throws -> AppendReport {
        let today = Timestamp.calendarDate(ofMillis: Timestamp.nowMillis(), in: log.timeZone).description
        var refusals: [BatchRefused.Refusal] = []
        var pending = events.map { new in
            var new = new
            if new.occurred == nil { new.occurred = today }
            return new
        }
        for (index, new) in pending.enumerated() {
            do { _ = try Validator.checkShape(new, texts: .raw) } catch { refusals.append(.init(index: index, error: error)) }
        }
        // Events refused by their shape alone are left out, and the rest still checked
        // against the log (writing nothing), so one run reports every refusal.
        let misshapen = Set(refusals.map(\.index))
        let checkOnly = dryRun || !misshapen.isEmpty

        // Settle reused ids before storing texts, so a retry leaves no stray attachment.
        var context = try ValidationContext.load(log)
        // Texts stored for this batch are deleted again when its lines were surely not
        // written: a refused text must not stay on disk, where no event names it and no
        // erase reaches it. After an I/O error (a failed fsync leaves the lines in the
        // file) they are kept: a stray text is better than an event missing its text.
        var storedTexts: [String] = []
        var keepTexts = false
        defer { if !keepTexts { for reference in storedTexts { try? log.deleteText(reference) } } }
        for index in pending.indices where !misshapen.contains(index) {
            guard try context.existing(pending[index], index: index, count: events.count, log: log) == nil else { continue }
            if !checkOnly { pending[index] = try storeTexts(of: pending[index], stored: &storedTexts) }
            if pending[index].id == nil { pending[index].id = EventID.random() }
        }

        var results: [Appended?] = []
        var dryRunEvents: [Event] = []
        var caughtUp = context
        var sealedAfter = LogHead.empty
        var draftIndices: [Int] = []
        var drafted: [EventDraft] = []
        func prepare(_ head: LogHead) throws -> [EventDraft] {
            try context.catchUp(log, to: head)
            caughtUp = context
            results = []
            sealedAfter = head
            draftIndices = []
            var drafts: [EventDraft] = []
            for (index, new) in pending.enumerated() {
                if misshapen.contains(index) {
                    results.append(nil)
                    continue
                }
                if let existing = try context.existing(new, index: index, count: events.count, log: log) {
                    results.append(Appended(event: existing, existing: true))
                    continue
                }
                do {
                    let draft = try context.validate(new, log: log, texts: checkOnly ? .raw : .reference)
                    try context.applyProvisionally(draft, seq: head.seq + drafts.count + 1, log: log)
                    drafts.append(draft)
                    draftIndices.append(index)
                } catch let error as ValidationError {
                    refusals.append(.init(index: index, error: error))
                }
                results.append(nil)
            }
            if !refusals.isEmpty { throw BatchRefused(refusals: refusals.sorted { $0.index < $1.index }) }
            if dryRun {
                // Seal the drafts as they would be written, without writing them.
                dryRunEvents = try log.sealForPreview(drafts, after: head)
                return []
            }
            drafted = drafts
            return drafts
        }
        var outcome: AppendOutcome
        do {
            outcome = try log.append(expectSeq: expectSeq, prepare: prepare)
        } catch LogError.invalidInput(let message) where !drafted.isEmpty {
            // The store refuses a batch holding a line over 1 MiB; name the event, so an
            // import can name its row.
            let overlong = try zip(draftIndices, drafted).compactMap { index, draft -> BatchRefused.Refusal? in
                guard let line = try log.sealForPreview([draft], after: sealedAfter).first?.lineBytes(),
                      line.count > EventLog.maxLineBytes else { return nil }
                return .init(index: index, error: ValidationError("data", "the event would be a line of \(line.count) bytes; a line holds at most 1 MiB (\(EventLog.maxLineBytes) bytes). Keep long text in an attachment (text=@FILE) or split it"))
            }
            if overlong.isEmpty { throw LogError.invalidInput(message) }
            throw BatchRefused(refusals: overlong)
        } catch LogError.io(let operation, let path, let code) {
            keepTexts = true
            throw LogError.io(operation: operation, path: path, errno: code)
        }
        keepTexts = true
        if dryRun {
            outcome.events = dryRunEvents
        } else {
            try caughtUp.catchUp(log, to: outcome.head)
            caughtUp.saveCheckpointIfWorthwhile(log)
        }
        var written = outcome.events.makeIterator()
        let appended = results.map { $0 ?? Appended(event: written.next()!, existing: false) }
        return AppendReport(events: appended, quarantined: outcome.quarantined, head: outcome.head)
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

    private func storeTexts(of new: NewEvent, stored: inout [String]) throws -> NewEvent {
        guard let type = Catalog.type(named: new.type) else { return new }
        var new = new
        for member in type.members where member.kind == .attachment {
            if case .string(let text)? = new.data[member.name] {
                let reference = try log.storeText(text)
                stored.append(reference)
                new.data[member.name] = .string(reference)
            }
        }
        return new
    }

}
