import EventStore
import Projections

extension Commands {
    static func kpi(_ invocation: Invocation) throws -> Int32 {
        let session = Session(invocation)
        let view = try session.view(.projections(.kpis))
        if invocation.json {
            Output.write(bytes: try view.kpiJSON(asOf: invocation.asOf, validAt: invocation.validAt) + [0x0A])
            return ExitStatus.success
        }
        printHeader(view, invocation)
        var table = Table(["KPI", "SCOPE", "PERIOD", "ACTUAL", "TARGET", "MET"], alignments: [.left, .left, .left, .right, .right, .left])
        for row in try view.kpis {
            table.append([row.kpi, row.scope, row.period ?? "", row.actual.map(String.init) ?? "–", row.target.map(String.init) ?? "",
                          row.met.map { $0 ? "yes" : "no" } ?? (row.target != nil && row.period != nil ? "running" : "")])
        }
        Output.write(table.rendered())
        return ExitStatus.success
    }

    static func state(_ invocation: Invocation) throws -> Int32 {
        let session = Session(invocation)
        let view = try session.view(.projections(.state))
        if invocation.json {
            session.printJSON(try view.stateJSON(asOf: invocation.asOf, validAt: invocation.validAt))
            return ExitStatus.success
        }
        let state = try view.state
        printHeader(view, invocation)
        func section(_ title: String, _ table: Table, empty: Bool) {
            Output.writeLine("\n\(title)")
            if empty { Output.writeLine("  (none)") } else { Output.write(table.rendered()) }
        }
        var units = Table(["UNIT", "NAME", "HEADCOUNT", "PARENT"], alignments: [.left, .left, .right, .left])
        for (id, unit) in state.units.sorted(by: { $0.key < $1.key }) { units.append([id, unit.name, unit.headcount.map(String.init) ?? "", unit.parent ?? ""]) }
        section("Units", units, empty: state.units.isEmpty)

        let employed = state.employed
        var teams = Table(["TEAM", "KIND", "UNITS", "PEERS", "PROFESSIONALS"], alignments: [.left, .left, .left, .right, .right])
        for (id, team) in state.teams.sorted(by: { $0.key < $1.key }) {
            func count(_ role: String, _ plan: Int?) -> String {
                let n = employed.count { $0.1.team == id && $0.1.role == role }
                return plan.map { "\(n)/\($0)" } ?? String(n)
            }
            teams.append([id + (team.closed ? " (closed)" : ""), team.kind, team.units.joined(separator: ","),
                          count("peer", team.plan.peers), count("professional", team.plan.professionals)])
        }
        section("Teams (employed/plan)", teams, empty: state.teams.isEmpty)

        var people = Table(["PERSON", "ROLE", "TEAM", "SINCE"])
        for (id, person) in employed { people.append([id, person.role, person.team, person.since]) }
        section("Employed", people, empty: employed.isEmpty)

        var bodies = Table(["BODY", "KIND", "CADENCE", "MEETINGS", "LAST"], alignments: [.left, .left, .left, .right, .left])
        for (id, body) in state.bodies.sorted(by: { $0.key < $1.key }) {
            bodies.append([id, body.kind, body.cadence ?? "", String(body.meetings.count), body.meetings.map(\.occurred).max() ?? ""])
        }
        section("Bodies", bodies, empty: state.bodies.isEmpty)

        var handovers = Table(["CASE", "FROM", "TO", "SINCE", "PEER"])
        for (id, h) in state.handovers.sorted(by: { $0.key < $1.key }) { handovers.append([id, h.from, h.to, h.started, h.peer ?? ""]) }
        section("Open handovers (\(state.handoversCompleted) completed, \(state.handoversCancelled) cancelled)",
                handovers, empty: state.handovers.isEmpty)

        var trainings = Table(["TRAINING", "KIND", "DATE", "PARTICIPANTS"], alignments: [.left, .left, .left, .right])
        for (id, t) in state.trainings.sorted(by: { $0.value.occurred < $1.value.occurred }) {
            trainings.append([id, t.kind, t.occurred, String(t.participants.values.reduce(0, +))])
        }
        section("Trainings", trainings, empty: state.trainings.isEmpty)

        var milestones = Table(["MILESTONE", "DATE", "TITLE"])
        for (id, m) in state.milestones.sorted(by: { $0.value.occurred < $1.value.occurred }) { milestones.append([id, m.occurred, m.title]) }
        section("Milestones reached", milestones, empty: state.milestones.isEmpty)

        var targets = Table(["KPI", "SCOPE", "PERIOD", "VALUE", "SEQ"], alignments: [.left, .left, .left, .right, .right])
        for t in state.targets { targets.append([t.kpi, t.scope, t.period ?? "", String(t.value), String(t.seq)]) }
        section("Targets set", targets, empty: state.targets.isEmpty)
        return ExitStatus.success
    }

    static func audit(_ invocation: Invocation) throws -> Int32 {
        let session = Session(invocation)
        let subject = invocation.argument("stream-or-id")
        let view = try session.view(.head)
        func print(_ entry: AuditEntry) {
            if invocation.json {
                session.printJSON(.object(JSONObject([
                    "seq": .integer(entry.event.seq), "recorded": .string(entry.event.recorded), "occurred": .string(entry.event.occurred),
                    "actor": .string(entry.event.actor), "type": .string(entry.event.type), "id": .string(entry.event.id),
                    "stream": .string(entry.event.stream), "source": entry.event.source.map(JSONValue.string) ?? .null,
                    "summary": .string(entry.summary), "correctedBy": .array(entry.correctedBy.map(JSONValue.integer)),
                    "retractedBy": entry.retractedBy.map(JSONValue.integer) ?? .null,
                    "target": entry.targetSeq.map(JSONValue.integer) ?? .null,
                ])))
                return
            }
            // One block per event: an audit trail is read line by line, not scanned as a grid.
            let event = entry.event
            Output.writeLine("seq \(event.seq)  \(event.type)  recorded \(Session.localDate(ofRecorded: event.recorded, zone: view.timeZone))  occurred \(event.occurred)  by \(event.actor)")
            Output.writeLine("    \(entry.summary)")
            Output.writeLine("    id \(event.id)  stream \(event.stream)")
            if let source = event.source { Output.writeLine("    source: \(source)") }
            if !entry.correctedBy.isEmpty { Output.writeLine("    corrected by seq \(entry.correctedBy.map(String.init).joined(separator: ", "))") }
            if let by = entry.retractedBy { Output.writeLine("    retracted by seq \(by): it counts for nothing") }
        }
        var printed = 0
        if let subject {
            // One stream or event: only the events it involves are read into memory.
            let entries = try Audit.entries(of: subject, in: session.ledger().log, through: view.head)
            if entries.isEmpty {
                throw CLIFailure.invalidInput("no event with id \(subject) and no stream \(subject) in the log",
                                              hint: "A stream is KIND/KEY, like team/bosteder-peers or handover/case-2021-004.")
            }
            for entry in entries { print(entry) }
            printed = entries.count
        } else {
            // The whole log, printed as it is read rather than held (see `Ledger.forEachEvent`).
            try session.ledger().forEachEvent(EventQuery(), through: view.head) { resolved, targetSeq in
                print(Audit.entry(resolved, targetSeq: targetSeq))
                printed += 1
            }
        }
        if printed == 0 && !invocation.json { Output.writeLine("(no events)") }
        return ExitStatus.success
    }

    /// The line above every human projection: which history, read at which times.
    private static func printHeader(_ view: Ledger.View, _ invocation: Invocation) {
        var parts = ["head \(view.head.seq):\(view.head.hash.prefix(12))…"]
        parts.append("as of " + (invocation.asOf ?? "now"))
        parts.append("valid at " + (invocation.validAt ?? "now"))
        Output.writeLine(parts.joined(separator: ", "))
    }
}
