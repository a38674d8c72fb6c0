import EventStore

/// The audit trail of SPEC §5: every event of a stream (or one event), in seq order,
/// with what corrects or retracts it.
public struct AuditEntry: Sendable, Equatable {
    public var event: Event
    public var summary: String
    /// Seqs of the corrections of this event recorded by the view's `asOf`.
    public var correctedBy: [Int]
    public var retractedBy: Int?
    /// For a correction or retraction: the seq it applies to.
    public var targetSeq: Int?
}

public enum Audit {
    /// Entries for `subject`: an event id (that event, then its corrections and
    /// retraction), or a stream; nil for the whole log.
    public static func entries(_ history: History, subject: String?) -> [AuditEntry] {
        let selected: [ResolvedEvent]
        if let subject, let target = history.event(id: subject) {
            let related = Set(target.correctedBy + (target.retractedBy.map { [$0] } ?? []))
            selected = history.events.filter { $0.event.seq == target.event.seq || related.contains($0.event.seq) }
        } else if let subject {
            selected = history.events.filter { $0.event.stream == subject }
        } else {
            selected = history.events
        }
        return selected.map { resolved in
            let targetSeq = resolved.event.data["target"]?.stringValue.flatMap { history.event(id: $0)?.event.seq }
            return AuditEntry(event: resolved.event, summary: summary(of: resolved.event, targetSeq: targetSeq),
                              correctedBy: resolved.correctedBy, retractedBy: resolved.retractedBy, targetSeq: targetSeq)
        }
    }

    /// `entries(history, subject:)` of the history up to `head`, for one stream or
    /// event id, without that history in memory (a gigabyte for a million events).
    ///
    /// A first pass finds the ids the answer involves: those of the stream's events and
    /// what their corrections and retractions aim at, or the event's and what it aims
    /// at. A second pass, every line's hash recomputed, keeps only the events with those
    /// ids and the corrections and retractions of them, resolved by `History`'s rules.
    /// Every event an entry reads (the selected ones, what they correct, what corrects
    /// them, each id's latest holder) is kept, so the entries are the whole history's
    /// (a test compares them). Throws when the log no longer holds `head`.
    public static func entries(of subject: String, in log: EventLog, through head: LogHead) throws -> [AuditEntry] {
        let subjectKey = UUIDKey(validID: subject)
        var subjectIsID = false
        var aimedAt = (byID: Set<String>(), byStream: Set<String>())
        var streamIDs = Set<UUIDKey>()
        func target(of line: LogLine) throws -> String? {
            guard line.withType({ History.isAmendmentType($0) }) else { return nil }
            return try line.event().data["target"]?.stringValue
        }
        try log.readLines { line in
            guard line.seq <= head.seq else { return false }
            if let subjectKey, line.id == subjectKey {
                subjectIsID = true
                if let aimed = try target(of: line) { aimedAt.byID.insert(aimed) }
            }
            if line.stream == subject {
                streamIDs.insert(line.id)
                if let aimed = try target(of: line) { aimedAt.byStream.insert(aimed) }
            }
            return line.seq < head.seq
        }
        let ids = subjectIsID ? Set([subjectKey!]) : streamIDs
        let aimed = Set((subjectIsID ? aimedAt.byID : aimedAt.byStream).compactMap(UUIDKey.init(validID:)))
        func involved(_ key: UUIDKey) -> Bool { ids.contains(key) || aimed.contains(key) }

        // Only the events involved, in seq order: `History`'s rules resolve them as in
        // the whole history, since every event with their ids and every amendment of
        // them is here. (Its seqs are not its indices: only `event(id:)` is asked.)
        var involvedEvents = History()
        var last = LogHead.empty
        try log.readLines(checks: .hashes) { line in
            guard line.seq <= head.seq else { return false }
            let amends = try target(of: line).flatMap(UUIDKey.init(validID:))
            if involved(line.id) || amends.map(involved) == true { involvedEvents.append(try line.event()) }
            if line.seq == head.seq { last = LogHead(seq: line.seq, hash: line.hash, recorded: line.recorded) }
            return line.seq < head.seq
        }
        guard last == head else { throw Ledger.changedWhileRead(head, last) }
        return entries(involvedEvents, subject: subject)
    }

    /// One line saying what an event records, from its own data.
    public static func summary(of event: Event, targetSeq: Int? = nil) -> String {
        let d = event.data
        func s(_ key: String) -> String { d[key]?.stringValue ?? "?" }
        func i(_ key: String) -> String { d[key]?.integerValue.map(String.init) ?? "?" }
        switch event.type {
        case "unit.registered": return "\(s("unit")) registered as \"\(s("name"))\"" + (d["headcount"] != nil ? ", headcount \(i("headcount"))" : "")
        case "unit.updated":
            let changes = ["name", "headcount", "parent"].compactMap { key in d[key].map { "\(key) \(render($0))" } }
            return "\(s("unit")) updated: \(changes.joined(separator: ", "))"
        case "team.established":
            let plan = d["plan"]?.objectValue.map { " (plan: \(render(.object($0))))" } ?? ""
            return "\(s("team")) established, \(s("kind"))\(plan)"
        case "team.closed": return "\(s("team")) closed"
        case "staff.hired": return "\(s("person")) hired as \(s("role")) in \(s("team"))"
        case "staff.left": return "\(s("person")) left"
        case "training.held":
            let total = d["participants"]?.objectValue?.members.reduce(0) { $0 + ($1.value.integerValue ?? 0) } ?? 0
            return "\(s("kind")) \"\(s("title"))\", \(total) participants"
        case "handover.started": return "handover \(s("case")) from \(s("from")) to \(s("to"))" + (d["peer"] != nil ? " with \(s("peer"))" : "")
        case "handover.completed": return "handover \(s("case")) completed" + (d["outcome"] != nil ? " (\(s("outcome")))" : "")
        case "handover.cancelled": return "handover \(s("case")) cancelled"
        case "body.established": return "\(s("body")) established, \(s("kind"))" + (d["cadence"] != nil ? ", \(s("cadence"))" : "")
        case "meeting.held": return "\(s("body")) met (\(s("meeting")))"
        case "minutes.recorded": return "minutes of \(s("meeting"))" + (d["seal"] != nil ? ", sealing \(s("seal").prefix(20))…" : "")
        case "evaluation.milestone": return "milestone \(s("milestone")): \(s("title"))"
        case "target.set": return "target \(s("kpi")) for \(s("scope"))" + (d["period"] != nil ? " in \(s("period"))" : "") + " = \(i("value"))"
        case "attendance.counted": return "\(s("offer")) at \(s("venue")) in \(s("period")): \(i("contacts")) contacts"
        case "note.recorded": return "note about \(s("about"))"
        case "event.corrected":
            let changes = d["changes"].map { " \(render($0))" } ?? ""
            let occurred = d["occurred"] != nil ? " occurred \(s("occurred"))" : ""
            return "corrects seq \(targetSeq.map(String.init) ?? "?"):\(changes)\(occurred)"
        case "event.retracted": return "retracts seq \(targetSeq.map(String.init) ?? "?"): \(s("reason"))"
        case "text.erased": return "text \(s("ref").prefix(19))… erased: \(s("reason"))"
        case "log.tail-quarantined": return "\(i("bytes")) torn bytes of \(s("file")) moved to \(s("quarantine"))"
        default: return event.type
        }
    }

    static func render(_ value: JSONValue) -> String {
        String(decoding: CanonicalJSON.encode(value), as: UTF8.self)
    }
}
