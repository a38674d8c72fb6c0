import EventStore

/// What an append validates against: the history and state at the head, and where in
/// the log they end, so the writer can catch up with what others appended meanwhile.
struct ValidationContext {
    var history = History()
    var state = ProjectState()
    var position = LogPosition.start

    /// Builds the context by reading the whole log (linking seq and prev on the way).
    static func replaying(_ log: EventLog) throws -> ValidationContext {
        var context = ValidationContext()
        try context.catchUp(log, to: nil)
        return context
    }

    /// Reads what was appended after `position`. Under the writer's lock, `head` is the
    /// head the store found; reaching another one means the log changed underneath.
    mutating func catchUp(_ log: EventLog, to head: LogHead?) throws {
        if let head, head.seq == position.seq, head.hash == position.hash { return }
        var refold = false
        let summary = try log.read(from: position) { event in
            if history.append(event) { refold = true } else if !refold, let last = history.events.last { state.apply(last) }
            return true
        }
        position = summary.end
        if refold { state = ProjectState(facts: history.events.filter(\.isFact)) }
        if let head, head.seq != position.seq || head.hash != position.hash {
            throw LogError.integrity(IntegrityFailure(place: LogPlace(seq: head.seq, file: EventLog.segmentName(position.segment), line: position.linesBefore),
                                                      reason: "the head the writer found (\(head)) is not where reading the log ends (\(position.seq):\(position.hash))"))
        }
    }

    /// The event already in the log under `new.id`, when the content is the same (a
    /// retry). Throws a conflict when the id is taken by other content.
    func existing(_ new: NewEvent, index: Int, count: Int, log: EventLog) throws -> Event? {
        guard let id = new.id, let found = history.event(id: id)?.event else { return nil }
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
    /// it its stream. `new` is already shape-checked, its texts stored, its id set.
    func validate(_ new: NewEvent, texts: Validator.TextForm = .reference) throws(ValidationError) -> EventDraft {
        let type = try Validator.checkShape(new, texts: texts)
        var stream = Catalog.stream(of: type, data: new.data)
        switch type.name {
        case History.correctedType, History.retractedType:
            let target = try correctionTarget(new.data)
            stream = target.event.stream
            if type.name == History.correctedType { try checkCorrection(new.data, of: target) }
        default:
            try Validator.checkReferences(new.data, of: type, state: state, history: history)
        }
        return EventDraft(id: new.id, type: type.name, v: Catalog.version, stream: stream ?? type.streamKind,
                          occurred: new.occurred!, actor: new.actor, source: new.source, data: new.data)
    }

    private func correctionTarget(_ data: JSONObject) throws(ValidationError) -> ResolvedEvent {
        let id = data["target"]?.stringValue ?? ""
        guard let target = history.event(id: id) else { throw ValidationError("data.target", "no event with id \(id) in the log") }
        if History.metaTypes.contains(target.event.type) {
            throw ValidationError("data.target", "seq \(target.event.seq) is a \(target.event.type); corrections, retractions and store events cannot be corrected or retracted")
        }
        if let by = target.retractedBy { throw ValidationError("data.target", "seq \(target.event.seq) was retracted by seq \(by); it counts for nothing and cannot be changed") }
        return target
    }

    private func checkCorrection(_ data: JSONObject, of target: ResolvedEvent) throws(ValidationError) {
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
            if key == type.streamMember {
                throw ValidationError("data.changes.\(key)", "\(key) names what the event is about; retract the event and append a new one instead")
            }
            if member.kind == .attachment {
                throw ValidationError("data.changes.\(key)", "a text cannot be corrected; erase it and record a new one")
            }
            merged[key] = value.isNull && !member.required ? nil : value
        }
        do {
            try Validator.checkData(merged, of: type, texts: .reference, path: "data.changes")
            try Validator.checkReferences(merged, of: type, state: state, history: history, path: "data.changes", creating: false)
        } catch {
            throw ValidationError(error.member, "\(error.reason) (after the correction, the \(type.name) at seq \(target.event.seq) would be invalid)")
        }
    }

    /// Lets the next events of the same batch see this one.
    mutating func applyProvisionally(_ draft: EventDraft, seq: Int) {
        let event = Event(seq: seq, id: draft.id ?? "", type: draft.type, v: draft.v, stream: draft.stream, occurred: draft.occurred,
                          recorded: "", actor: draft.actor, source: draft.source, data: draft.data, prev: "", hash: "")
        if history.append(event) {
            state = ProjectState(facts: history.events.filter(\.isFact))
        } else if let last = history.events.last {
            state.apply(last)
        }
    }
}
