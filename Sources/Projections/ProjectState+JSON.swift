import EventStore

/// The documented `--json` shapes of `state`, `kpi` and `audit` (README, "JSON output").
extension Ledger.View {
    /// `{"head","asOf","validAt", …}`: the times echo what the caller gave (null when not given).
    func header(asOf: String?, validAt: String?) -> JSONObject {
        JSONObject(["head": .string(head.description), "asOf": asOf.map(JSONValue.string) ?? .null, "validAt": validAt.map(JSONValue.string) ?? .null])
    }

    /// `{"head","asOf","validAt","rows"}` in canonical form (built row by row: at a
    /// million events there are some hundred thousand rows). The rows' bytes a KPI
    /// checkpoint gave, or that were made to keep one, are written as they are.
    public func kpiJSON(asOf: String?, validAt: String?) throws -> [UInt8] {
        let header = header(asOf: asOf, validAt: validAt)
        guard source.validAt == self.validAt else { return KPIRow.encode(try kpis, in: header) }
        // A cold read at the head makes the rows' bytes once, for its checkpoint and here.
        if source.encodedRows == nil { _ = try kpis }
        if let rows = source.encodedRows { return KPIRow.encode(encodedRows: rows, in: header) }
        return KPIRow.encode(try kpis, in: header)
    }

    public func stateJSON(asOf: String?, validAt: String?) throws -> JSONValue {
        let state = try self.state
        var object = header(asOf: asOf, validAt: validAt)
        func optional(_ v: Int?) -> JSONValue { v.map(JSONValue.integer) ?? .null }
        func optional(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        func sortedObject<T>(_ dictionary: [String: T], _ body: (String, T) -> JSONValue) -> JSONValue {
            // Dictionary keys never repeat, so the one sort cannot find a duplicate.
            .object(try! JSONObject(members: dictionary.map { ($0.key, body($0.key, $0.value)) }))
        }
        let membersByTeam = Dictionary(grouping: state.employed, by: \.1.team)
        object["units"] = sortedObject(state.units) { _, unit in
            .object(JSONObject(["name": .string(unit.name), "headcount": optional(unit.headcount), "parent": optional(unit.parent)]))
        }
        object["teams"] = sortedObject(state.teams) { id, team in
            let members = (membersByTeam[id] ?? []).map { person, p in
                JSONValue.object(JSONObject(["person": .string(person), "role": .string(p.role), "since": .string(p.since)]))
            }
            return .object(JSONObject([
                "name": .string(team.name), "kind": .string(team.kind), "units": .array(team.units.map(JSONValue.string)),
                "plan": team.plan.peers == nil && team.plan.professionals == nil ? .null
                    : .object(JSONObject(["peers": optional(team.plan.peers), "professionals": optional(team.plan.professionals)])),
                "established": .string(team.established), "closed": .bool(team.closed), "members": .array(members),
            ]))
        }
        object["bodies"] = sortedObject(state.bodies) { _, body in
            .object(JSONObject([
                "name": .string(body.name), "kind": .string(body.kind), "cadence": optional(body.cadence),
                "established": .string(body.established), "meetings": .integer(body.meetings.count),
                "lastMeeting": optional(body.meetings.map(\.occurred).max()),
            ]))
        }
        object["handovers"] = .object(JSONObject([
            "open": .array(state.handovers.sorted { $0.key < $1.key }.map { id, h in
                .object(JSONObject(["case": .string(id), "from": .string(h.from), "to": .string(h.to), "since": .string(h.started), "peer": optional(h.peer)]))
            }),
            "completed": .integer(state.handoversCompleted),
            "cancelled": .integer(state.handoversCancelled),
        ]))
        object["trainings"] = sortedObject(state.trainings) { _, t in
            .object(JSONObject([
                "title": .string(t.title), "kind": .string(t.kind), "occurred": .string(t.occurred),
                "participants": sortedObject(t.participants) { _, n in .integer(n) },
            ]))
        }
        object["milestones"] = sortedObject(state.milestones) { _, m in
            .object(JSONObject(["title": .string(m.title), "by": optional(m.by), "occurred": .string(m.occurred),
                                "findings": .array(m.findings.map(JSONValue.string))]))
        }
        object["targets"] = .array(state.targets.map { t in
            .object(JSONObject(["kpi": .string(t.kpi), "scope": .string(t.scope), "period": optional(t.period), "value": .integer(t.value), "seq": .integer(t.seq)]))
        })
        return .object(object)
    }
}
