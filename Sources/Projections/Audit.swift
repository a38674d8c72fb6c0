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
        guard let subject else { return entries(EventQuery().answer(from: history)) }
        let event = EventQuery(.event(id: subject)).answer(from: history)
        return entries(event.events.isEmpty ? EventQuery(stream: subject).answer(from: history) : event)
    }

    /// `entries(history, subject:)` of the history up to `head`, for one stream or
    /// event id, without that history in memory (`Ledger.events(_:through:)`). Throws
    /// when the log no longer holds `head`.
    public static func entries(of subject: String, in log: EventLog, through head: LogHead) throws -> [AuditEntry] {
        let ledger = Ledger(log: log)
        // Every id in a log is a UUID (`EventID`): any other subject can only be a stream.
        if UUIDKey(validID: subject) != nil {
            let event = try ledger.events(EventQuery(.event(id: subject)), through: head)
            if !event.events.isEmpty { return entries(event) }
        }
        return entries(try ledger.events(EventQuery(stream: subject), through: head))
    }

    /// An entry for each event of `answer`.
    public static func entries(_ answer: EventAnswer) -> [AuditEntry] {
        answer.events.map { entry($0, targetSeq: answer.targetSeq(of: $0.event)) }
    }

    /// The entry of one event, given the seq of what it aims at.
    public static func entry(_ resolved: ResolvedEvent, targetSeq: Int?) -> AuditEntry {
        AuditEntry(event: resolved.event, summary: summary(of: resolved.event, targetSeq: targetSeq),
                   correctedBy: resolved.correctedBy, retractedBy: resolved.retractedBy, targetSeq: targetSeq)
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
