@testable import EventStore
@testable import Projections

/// The KPI rows of SPEC §5 ("Precisely") computed from a `ProjectState`, as recoveryctl
/// computed them before `KPIFigures`: kept here as the reference the compact fold is
/// compared with (`KPIFiguresTests`). Not used by the tool.
enum ReferenceKPI {
    /// - Parameters:
    ///   - validAt: the valid time in milliseconds; periods holding it are still running.
    ///   - zone: the log's time zone, in which occurred dates fall into periods.
    public static func rows(of state: ProjectState, validAt: Int64, in zone: ZoneRules) -> [KPIRow] {
        var rows: [KPIRow] = []
        let today = Timestamp.calendarDate(ofMillis: validAt, in: zone)

        // The targets by kpi and scope, so each row finds its own without a scan of all.
        let targets = Dictionary(grouping: state.targets) { key($0.kpi, $0.scope) }
        func add(_ kpi: String, _ scope: String, period: String? = nil, actual: Int?, target: Int?, running: Bool = false) {
            // `ProjectState.targetOverride`: the latest by seq among those of the kpi and scope.
            let override = targets[key(kpi, scope)]?.last { $0.period == nil || $0.period == period }?.value
            let target = override ?? target
            // Any row whose period has not ended by the valid time is still running (SPEC §5).
            let running = running || period.flatMap(Period.init).map { $0 >= Period(containing: today, length: $0.length) } ?? false
            var met: Bool? = nil
            if let target, let actual {
                met = actual >= target ? true : (running ? nil : false)
            }
            rows.append(KPIRow(kpi: kpi, scope: scope, period: period, actual: actual, target: target, met: met))
        }

        // Staff, per team established and not closed.
        let employed = state.people.values.filter(\.employed)
        var employedByTeam: [String: (peers: Int, professionals: Int)] = [:]
        for person in employed {
            if person.role == "peer" { employedByTeam[person.team, default: (0, 0)].peers += 1 }
            if person.role == "professional" { employedByTeam[person.team, default: (0, 0)].professionals += 1 }
        }
        for (id, team) in state.teams where !team.closed {
            add("peers.employed", id, actual: employedByTeam[id]?.peers ?? 0, target: team.plan.peers)
            add("professionals.employed", id, actual: employedByTeam[id]?.professionals ?? 0, target: team.plan.professionals)
        }
        let unitsWithPeer = Set(employed.filter { $0.role == "peer" }.flatMap { person -> [String] in
            guard let team = state.teams[person.team], !team.closed else { return [] }
            return team.units
        }).filter { state.units[$0] != nil }
        add("units.with-peer", "project", actual: unitsWithPeer.count, target: state.units.count)

        // Training.
        var participantsByUnit: [String: Int] = [:]
        var heldByKind: [String: Int] = [:]
        for training in state.trainings.values {
            for (unit, count) in training.participants { participantsByUnit[unit, default: 0] += count }
            heldByKind[training.kind, default: 0] += 1
        }
        for (id, unit) in state.units {
            add("training.participants", id, actual: participantsByUnit[id] ?? 0, target: unit.headcount)
        }
        for (kind, held) in heldByKind {
            add("training.held", kind, actual: held, target: nil)
        }

        // Meetings, per body and period of its cadence.
        for (id, body) in state.bodies {
            guard let established = Timestamp.calendarDate(ofOccurred: body.established) else { continue }
            let (length, perPeriod): (Period.Length, Int?) = switch body.cadence {
            case "quarterly": (.quarter, 1)
            case "half-yearly": (.half, 1)
            case "yearly": (.year, 1)
            case "4-per-year": (.year, 4)
            default: (.year, nil)
            }
            var counts: [Period: Int] = [:]
            for meeting in body.meetings {
                if let date = Timestamp.calendarDate(ofOccurred: meeting.occurred) { counts[Period(containing: date, length: length), default: 0] += 1 }
            }
            let current = Period(containing: today, length: length)
            var period = Period(containing: established, length: length)
            while period <= current {
                add("meetings.held", id, period: period.description, actual: counts[period] ?? 0, target: perPeriod, running: period == current)
                period = period.next
            }
        }

        // Handovers, per FROM->TO.
        for (scope, totals) in state.handoverTotals {
            add("handovers.started", scope, actual: totals.started, target: nil)
            add("handovers.completed", scope, actual: totals.completed, target: nil)
            add("handovers.open", scope, actual: totals.open, target: nil)
            add("handovers.with-peer", scope, actual: totals.withPeer, target: nil)
            let days = totals.completedDays.sorted()
            // The lower of the two middle values for an even count.
            add("handovers.median-days", scope, actual: days.isEmpty ? nil : days[(days.count - 1) / 2], target: nil)
        }

        // Attendance, per offer and per venue, and period.
        for (scope, periods) in state.contactsByOffer.merging(state.contactsByVenue, uniquingKeysWith: { a, b in a.merging(b, uniquingKeysWith: +) }) {
            for (period, contacts) in periods { add("attendance.contacts", scope, period: period, actual: contacts, target: nil) }
        }

        add("milestones.reached", "project", actual: state.milestones.count, target: nil)

        return KPI.sortedByKPIScopeAndPeriod(rows)
    }

    struct TargetKey: Hashable {
        var kpi: String
        var scope: String
    }

    static func key(_ kpi: String, _ scope: String) -> TargetKey { TargetKey(kpi: kpi, scope: scope) }
}
