import EventStore
import Projections

extension Commands {
    static func initLog(_ invocation: Invocation) throws -> Int32 {
        let segmentSize = try invocation.integer("segment-size", in: 4096...Int.max) ?? Manifest.defaultSegmentSize
        let zone = invocation.value("time-zone") ?? Manifest.defaultTimeZone
        let log = try EventLog.create(at: invocation.logPath, timeZone: zone, segmentSize: segmentSize)
        if invocation.json {
            Output.writeLine(CanonicalJSON.string(log.manifest.json))
        } else {
            Output.writeLine("Created an empty log at \(log.path) (plain dates in \(log.manifest.timeZone)).")
        }
        return ExitStatus.success
    }

    static func head(_ invocation: Invocation) throws -> Int32 {
        let session = Session(invocation)
        let view = try session.view(.head)
        if invocation.json {
            session.printJSON(.object(JSONObject([
                "head": .string(view.head.description), "seq": .integer(view.head.seq), "hash": .string(view.head.hash),
                "recorded": view.head.recorded.map(JSONValue.string) ?? .null,
            ])))
        } else {
            Output.writeLine(view.head.description)
        }
        return ExitStatus.success
    }

    static func log(_ invocation: Invocation) throws -> Int32 {
        let session = Session(invocation)
        let from = try invocation.integer("from", in: 1...Int.max) ?? 1
        let limit = try invocation.integer("limit", in: 0...Int.max)
        let view = try session.view(.head)
        // The events the filters pick, as they are read, not the whole history (see `Ledger.forEachEvent`).
        let query = EventQuery(from: from, type: invocation.value("type"), stream: invocation.value("stream"),
                               validAt: view.validAtGiven ? EventQuery.ValidTime(view.validAt, in: view.timeZone) : nil, limit: limit)
        let ledger = try session.ledger()
        if invocation.json {
            try ledger.forEachEvent(query, through: view.head) { resolved, _ in session.printJSON(.object(resolved.event.jsonObject())) }
            return ExitStatus.success
        }
        var table = Table(["SEQ", "RECORDED", "OCCURRED", "TYPE", "SUMMARY"], alignments: [.right, .left, .left, .left, .left])
        var rows = 0
        try ledger.forEachEvent(query, through: view.head) { resolved, targetSeq in
            let event = resolved.event
            var summary = Audit.summary(of: event, targetSeq: targetSeq)
            if let by = resolved.retractedBy { summary = "[retracted by \(by)] " + summary } else if !resolved.correctedBy.isEmpty { summary = "[corrected] " + summary }
            table.append([String(event.seq), Session.localDate(ofRecorded: event.recorded, zone: view.timeZone, withTime: false), event.occurred, event.type, summary])
            rows += 1
        }
        Output.write(table.rendered())
        if rows == 0 { Output.writeLine("(no events)") }
        return ExitStatus.success
    }

    static func show(_ invocation: Invocation) throws -> Int32 {
        let session = Session(invocation)
        guard let given = invocation.argument("id-or-seq") else { try invocation.usageError("Missing expected argument '<id-or-seq>'") }
        let view = try session.view(.head)
        // The event and what amends it, not the whole history (see `Ledger.events`).
        let ledger = try session.ledger()
        var answer = try Int(given).map { try ledger.events(EventQuery(.eventAt(seq: $0)), through: view.head) }
        // Every id in a log is a UUID (`EventID`): nothing else needs a read.
        if answer?.events.isEmpty ?? true, UUIDKey(validID: given) != nil {
            answer = try ledger.events(EventQuery(.event(id: given)), through: view.head)
        }
        guard let answer, let resolved = answer.events.first else {
            throw CLIFailure.invalidInput("no event with id or seq \(given) in the log" + (view.asOf != nil ? " as of \(invocation.asOf!)" : ""),
                                          hint: "'recoveryctl log' lists the events with their seqs.")
        }
        let log = ledger.log
        let related = answer.events.dropFirst().map(\.event)
        if invocation.json {
            session.printJSON(.object(JSONObject([
                "event": .object(resolved.event.jsonObject()),
                "current": .object(JSONObject(["data": .object(resolved.data), "occurred": .string(resolved.occurred),
                                               "retracted": .bool(resolved.retractedBy != nil)])),
                "correctedBy": .array(resolved.correctedBy.map(JSONValue.integer)),
                "retractedBy": resolved.retractedBy.map(JSONValue.integer) ?? .null,
                "related": .array(related.map { .object($0.jsonObject()) }),
            ])))
            return ExitStatus.success
        }
        let event = resolved.event
        var lines: [(String, String)] = [
            ("seq", String(event.seq)), ("id", event.id), ("type", event.type), ("stream", event.stream),
            ("occurred", event.occurred), ("recorded", "\(event.recorded) (\(Session.localDate(ofRecorded: event.recorded, zone: view.timeZone)) local)"),
            ("actor", event.actor),
        ]
        if let source = event.source { lines.append(("source", source)) }
        lines.append(("summary", Audit.summary(of: event, targetSeq: answer.targetSeq(of: event))))
        for (key, value) in event.data.members {
            var text = CanonicalJSON.string(value)
            if case .string(let reference) = value, EventLog.isTextReference(reference) {
                switch log.readText(reference) {
                case .text(let body): text = "\(reference)\n" + body.split(separator: "\n", omittingEmptySubsequences: false).map { "    │ \($0)" }.joined(separator: "\n")
                case .missing: text = "\(reference) " + (answer.erasedTexts.contains(reference) ? "(erased)" : "(MISSING: run 'recoveryctl verify')")
                case .altered: text = "\(reference) (ALTERED: run 'recoveryctl verify')"
                }
            }
            lines.append(("data.\(key)", text))
        }
        lines.append(("prev", event.prev))
        lines.append(("hash", event.hash))
        let width = lines.map(\.0.count).max() ?? 0
        for (key, value) in lines { Output.writeLine(key + String(repeating: " ", count: max(0, width - key.count)) + "  " + value) }
        if let by = resolved.retractedBy { Output.writeLine("\nRetracted by seq \(by): it counts for nothing.") }
        for correction in related where correction.type == History.correctedType {
            Output.writeLine("\nCorrected by seq \(correction.seq) (\(correction.recorded)): \(Audit.summary(of: correction, targetSeq: event.seq)); reason: \(correction.data["reason"]?.stringValue ?? "")")
        }
        if !resolved.correctedBy.isEmpty {
            Output.writeLine("As corrected: occurred \(resolved.occurred), data \(CanonicalJSON.string(.object(resolved.data)))")
        }
        return ExitStatus.success
    }

    static func types(_ invocation: Invocation) throws -> Int32 {
        if invocation.json {
            Session(invocation).printJSON(.array(Catalog.types.map { type in
                .object(JSONObject([
                    "type": .string(type.name), "summary": .string(type.summary), "v": .integer(Catalog.version),
                    "stream": .string(type.streamMember.map { "\(type.streamKind.isEmpty ? "<\($0)>" : "\(type.streamKind)/<\($0)>")" } ?? streamDescription(type)),
                    "members": .array(type.members.map { member in
                        .object(JSONObject(["name": .string(member.name), "required": .bool(member.required), "kind": .string(describe(member.kind))]))
                    }),
                ]))
            }))
            return ExitStatus.success
        }
        Output.writeLine("The event catalog (SPEC §3). Required members first; [optional] in brackets. v = \(Catalog.version) for all.\n")
        for type in Catalog.types {
            Output.writeLine("\(type.name)\(type.storeOnly ? "  (written by the store only)" : "")")
            Output.writeLine("  \(type.summary)")
            let members = type.members.map { $0.required ? "\($0.name): \(describe($0.kind))" : "[\($0.name): \(describe($0.kind))]" }
            Output.writeLine("  data:   " + members.joined(separator: ", "))
            Output.writeLine("  stream: " + (type.streamMember.map { type.streamKind.isEmpty ? "<\($0)>" : "\(type.streamKind)/<\($0)>" } ?? streamDescription(type)))
            Output.writeLine()
        }
        return ExitStatus.success
    }

    private static func streamDescription(_ type: EventType) -> String {
        switch type.name {
        case "target.set": "target/<kpi>/<scope>"
        case "attendance.counted": "attendance/<venue>/<offer>"
        default: "the target's stream"
        }
    }

    private static func describe(_ kind: MemberKind) -> String {
        switch kind {
        case .reference(let k): "\(k.rawValue) id"
        case .creates(let k): "new \(k.rawValue) id"
        case .slug: "slug"
        case .text: "text"
        case .integer(let min): min.map { "integer ≥ \($0)" } ?? "integer"
        case .oneOf(let values): values.joined(separator: "|")
        case .referenceList(let k): "[\(k.rawValue) id, …]"
        case .stringList: "[text, …]"
        case .counts(let names): "{" + names.map { "\($0): int" }.joined(separator: ", ") + "}"
        case .participants: "{unit: int, …}"
        case .period: "YYYY|YYYY-H1|YYYY-Q1"
        case .attachment: "text (kept in attachments/; @FILE reads a file)"
        case .seal: "SEQ:HASH"
        case .eventID: "event id"
        case .stream: "stream KIND/KEY"
        case .kpiName: "KPI name"
        case .scope: "id|project|FROM->TO"
        case .ageBand: "N-M"
        case .changes: "{member: new value, …}"
        }
    }
}
