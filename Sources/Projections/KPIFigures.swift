import EventStore

/// What the KPI rows of SPEC §5 are computed from, folded from the facts in seq order
/// and kept compact: each id is a number (`Interner`), each entry a few integers in an
/// array indexed by it, and what no row reads (names, titles, meeting ids, minutes,
/// handover quarters) is not kept at all.
///
/// `ProjectState` is the state the `state` command and the report show; this is the
/// fold a cold `kpi` waits for (finding 32 in `Benchmarks/PROFILE.md`). Both read the
/// same facts by the same rules; a test folds both over generated logs, at many valid
/// and record times, and compares these rows with rows computed from the state.
struct KPIFigures: Sendable {
    private var units = Interner(), teams = Interner(), people = Interner(), trainings = Interner()
    private var cases = Interner(), routes = Interner(), bodies = Interner(), milestones = Interner()
    private var trainingKinds = Interner(), attendanceScopes = Interner(), attendancePeriods = Interner()

    private struct Unit: Blank {
        var registered = false
        var headcount: Int?
        /// The date from which `headcount` holds (`ProjectState.unitValueDates`).
        var headcountDate: String?
    }

    private struct Team: Blank {
        var established = false
        var closed = false
        var units: [Int] = []
        var peersPlanned: Int?
        var professionalsPlanned: Int?
    }

    private enum Role: UInt8 { case other, peer, professional }

    private struct Person: Blank {
        var team: Int32 = -1
        var role = Role.other
        var employed = false
    }

    private struct Training: Blank {
        /// -1 until one is held under the id.
        var kind: Int32 = -1
        /// Its participants, in `participantUnits` and `participantCounts`.
        var participants: Range<Int32> = 0..<0
    }

    /// A case's handover while it is open.
    private struct OpenHandover: Blank {
        /// -1 when none is open under the case.
        var route: Int32 = -1
        /// Days since 1970 of `occurred`; nil when it is not a date.
        var startedDay: Int32?
    }

    private struct RouteTotals {
        var started = 0, completed = 0, cancelled = 0, withPeer = 0
        var completedDays: [Int] = []
    }

    private struct Body: Blank {
        var isEstablished = false
        /// Nil when its `occurred` is not a date: then it has no rows.
        var established: Timestamp.CalendarDate?
        var cadence: (length: Period.Length, perPeriod: Int?) = (.year, nil)
        var meetings: [Period: Int] = [:]
    }

    private struct TargetKey: Hashable {
        var kpi: String, scope: String
    }

    /// The latest `target.set` of a kpi and scope without a period, and for each period.
    private struct Targets {
        var withoutPeriod: (seq: Int, value: Int)?
        var byPeriod: [String: (seq: Int, value: Int)] = [:]
    }

    private var unitEntries: [Unit] = []
    private var teamEntries: [Team] = []
    private var personEntries: [Person] = []
    private var trainingEntries: [Training] = []
    private var participantUnits: [Int32] = [], participantCounts: [Int] = []
    private var handovers: [OpenHandover] = []
    private var routeTotals: [RouteTotals] = []
    private var bodyEntries: [Body] = []
    private var targets: [TargetKey: Targets] = [:]
    /// Contacts by scope (offer or venue: a scope that is both sums both) and period.
    private var contacts: [Int: Int] = [:]
    /// `from->to` of a handover, built here so no array is made per handover.
    private var routeScratch: [UInt8] = []

    init() {}

    init(facts: some Sequence<ResolvedEvent>) {
        for fact in facts { fold(fact) }
    }

    /// Folds one fact in, by `ProjectState.fold`'s rules for what the rows read.
    mutating func fold(_ d: some FactReading) {
        switch d.kind {
        case .unitRegistered:
            guard let unit = d.withString("unit", { Self.entry(&units, &unitEntries, $0) }) else { return }
            let date = Timestamp.dateText(ofOccurred: d.occurred)
            unitEntries[unit] = Unit(registered: true, headcount: d.integer("headcount"), headcountDate: d.contains("headcount") ? date : nil)
        case .unitUpdated:
            guard let unit = d.withString("unit", { Self.entry(&units, &unitEntries, $0) }), unitEntries[unit].registered,
                  let headcount = d.integer("headcount") else { return }
            let date = Timestamp.dateText(ofOccurred: d.occurred)
            // A value recorded late for an earlier date does not replace a later one.
            guard date >= unitEntries[unit].headcountDate ?? "" else { return }
            unitEntries[unit].headcount = headcount
            unitEntries[unit].headcountDate = date
        case .teamEstablished:
            guard let team = d.withString("team", { Self.entry(&teams, &teamEntries, $0) }) else { return }
            let members = d.strings("units").map { unitNumber($0) }
            teamEntries[team] = Team(established: true, units: members,
                                     peersPlanned: d.integer("plan", "peers"), professionalsPlanned: d.integer("plan", "professionals"))
        case .teamClosed:
            guard let team = d.withString("team", { Self.entry(&teams, &teamEntries, $0) }), teamEntries[team].established else { return }
            teamEntries[team].closed = true
        case .staffHired:
            guard let role = d.withString("role", Self.role), let team = d.withString("team", { Self.entry(&teams, &teamEntries, $0) }),
                  let person = d.withString("person", { Self.entry(&people, &personEntries, $0) }) else { return }
            personEntries[person] = Person(team: Int32(team), role: role, employed: true)
        case .staffLeft:
            guard let person = d.withString("person", { Self.entry(&people, &personEntries, $0) }) else { return }
            personEntries[person].employed = false
        case .trainingHeld:
            guard let training = d.withString("training", { Self.entry(&trainings, &trainingEntries, $0) }) else { return }
            let kind = d.withString("kind") { trainingKinds.number($0) } ?? trainingKinds.number("")
            let first = Int32(participantUnits.count)
            d.forEachIntegerMember("participants") { unit, count in
                participantUnits.append(Int32(unitNumber(unit)))
                participantCounts.append(count)
            }
            // A training held again under its id replaces the first (its old participants stay unread).
            trainingEntries[training] = Training(kind: Int32(kind), participants: first..<Int32(participantUnits.count))
        case .handoverStarted:
            guard let route = routeNumber(d), let handover = d.withString("case", { Self.entry(&cases, &handovers, $0) }) else { return }
            handovers[handover] = OpenHandover(route: Int32(route), startedDay: Self.day(d.occurred))
            routeTotals[route].started += 1
            if d.hasString("peer") { routeTotals[route].withPeer += 1 }
        case .handoverCompleted, .handoverCancelled:
            guard let handover = d.withString("case", { Self.entry(&cases, &handovers, $0) }), handovers[handover].route >= 0 else { return }
            let route = Int(handovers[handover].route)
            if d.kind == .handoverCompleted {
                routeTotals[route].completed += 1
                if let start = handovers[handover].startedDay, let end = Self.day(d.occurred) {
                    routeTotals[route].completedDays.append(Int(end) - Int(start))
                }
            } else {
                routeTotals[route].cancelled += 1
            }
            handovers[handover] = OpenHandover()
        case .bodyEstablished:
            guard let body = d.withString("body", { Self.entry(&bodies, &bodyEntries, $0) }) else { return }
            let cadence: (Period.Length, Int?) = switch d.string("cadence") {
            case "quarterly": (.quarter, 1)
            case "half-yearly": (.half, 1)
            case "yearly": (.year, 1)
            case "4-per-year": (.year, 4)
            default: (.year, nil)
            }
            bodyEntries[body] = Body(isEstablished: true, established: Timestamp.calendarDate(ofOccurred: d.occurred), cadence: cadence)
        case .meetingHeld:
            guard d.hasString("meeting"), let body = d.withString("body", { Self.entry(&bodies, &bodyEntries, $0) }),
                  bodyEntries[body].isEstablished else { return }
            if let date = Timestamp.calendarDate(ofOccurred: d.occurred) {
                bodyEntries[body].meetings[Period(containing: date, length: bodyEntries[body].cadence.length), default: 0] += 1
            }
        case .evaluationMilestone:
            _ = d.withString("milestone") { milestones.number($0) }
        case .targetSet:
            guard let kpi = d.string("kpi"), let scope = d.string("scope"), let value = d.integer("value") else { return }
            let latest = (seq: d.seq, value: value)
            if let period = d.string("period") {
                targets[TargetKey(kpi: kpi, scope: scope), default: Targets()].byPeriod[period] = latest
            } else {
                targets[TargetKey(kpi: kpi, scope: scope), default: Targets()].withoutPeriod = latest
            }
        case .attendanceCounted:
            guard let offer = d.withString("offer", { attendanceScopes.number($0) }), let venue = d.withString("venue", { attendanceScopes.number($0) }),
                  let period = d.withString("period", { attendancePeriods.number($0) }), let count = d.integer("contacts") else { return }
            contacts[offer << 32 | period, default: 0] += count
            contacts[venue << 32 | period, default: 0] += count
        case .minutesRecorded, nil:
            return
        }
    }
}

private protocol Blank { init() }

extension KPIFigures {
    /// The number of an id, with a blank entry for it when it is new.
    private static func entry<Entry: Blank>(_ ids: inout Interner, _ entries: inout [Entry], _ id: UnsafeRawBufferPointer) -> Int {
        let number = ids.number(id)
        if number == entries.count { entries.append(Entry()) }
        return number
    }

    private mutating func unitNumber(_ id: UnsafeRawBufferPointer) -> Int { Self.entry(&units, &unitEntries, id) }

    private mutating func unitNumber(_ id: String) -> Int { id.withUTF8Bytes { unitNumber($0) } }

    /// The number of the fact's `from->to`; nil when either is missing.
    private mutating func routeNumber(_ d: some FactReading) -> Int? {
        routeScratch.removeAll(keepingCapacity: true)
        guard d.withString("from", { routeScratch.append(contentsOf: $0) }) != nil else { return nil }
        routeScratch.append(contentsOf: "->".utf8)
        guard d.withString("to", { routeScratch.append(contentsOf: $0) }) != nil else { return nil }
        let route = routeScratch.withUnsafeBytes { routes.number($0) }
        if route == routeTotals.count { routeTotals.append(RouteTotals()) }
        return route
    }

    private static func role(_ name: UnsafeRawBufferPointer) -> Role {
        if name.elementsEqual("peer".utf8) { return .peer }
        if name.elementsEqual("professional".utf8) { return .professional }
        return .other
    }

    private static func day(_ occurred: String) -> Int32? {
        Timestamp.calendarDate(ofOccurred: occurred).map { Int32($0.daysSinceEpoch) }
    }
}

extension KPIFigures {
    /// The KPI rows at a valid time (SPEC §5, "Precisely"), sorted by kpi, scope and period.
    ///
    /// - Parameters:
    ///   - validAt: the valid time in milliseconds; periods holding it are still running.
    ///   - zone: the log's time zone, in which occurred dates fall into periods.
    func rows(validAt: Int64, in zone: ZoneRules) -> [KPIRow] {
        var rows: [KPIRow] = []
        let today = Timestamp.calendarDate(ofMillis: validAt, in: zone)
        func add(_ kpi: String, _ scope: String, period: String? = nil, actual: Int?, target: Int?, running: Bool = false) {
            let target = targetOverride(kpi: kpi, scope: scope, period: period) ?? target
            // Any row whose period has not ended by the valid time is still running (SPEC §5).
            let running = running || period.flatMap(Period.init).map { $0 >= Period(containing: today, length: $0.length) } ?? false
            var met: Bool? = nil
            if let target, let actual {
                met = actual >= target ? true : (running ? nil : false)
            }
            rows.append(KPIRow(kpi: kpi, scope: scope, period: period, actual: actual, target: target, met: met))
        }

        // Staff, per team established and not closed.
        var peersByTeam = [Int](repeating: 0, count: teamEntries.count), professionalsByTeam = peersByTeam
        var unitsWithPeer = Set<Int>()
        for person in personEntries where person.employed {
            let team = Int(person.team)
            switch person.role {
            case .peer:
                peersByTeam[team] += 1
                if teamEntries[team].established, !teamEntries[team].closed {
                    unitsWithPeer.formUnion(teamEntries[team].units.lazy.filter { unitEntries[$0].registered })
                }
            case .professional: professionalsByTeam[team] += 1
            case .other: break
            }
        }
        for (number, team) in teamEntries.enumerated() where team.established && !team.closed {
            let id = teams.string(number)
            add("peers.employed", id, actual: peersByTeam[number], target: team.peersPlanned)
            add("professionals.employed", id, actual: professionalsByTeam[number], target: team.professionalsPlanned)
        }
        add("units.with-peer", "project", actual: unitsWithPeer.count, target: unitEntries.count(where: \.registered))

        // Training.
        var participantsByUnit = [Int](repeating: 0, count: unitEntries.count)
        var heldByKind = [Int](repeating: 0, count: trainingKinds.count)
        for training in trainingEntries where training.kind >= 0 {
            for k in training.participants { participantsByUnit[Int(participantUnits[Int(k)])] += participantCounts[Int(k)] }
            heldByKind[Int(training.kind)] += 1
        }
        for (number, unit) in unitEntries.enumerated() where unit.registered {
            add("training.participants", units.string(number), actual: participantsByUnit[number], target: unit.headcount)
        }
        for (kind, held) in heldByKind.enumerated() where held > 0 {
            add("training.held", trainingKinds.string(kind), actual: held, target: nil)
        }

        // Meetings, per body and period of its cadence.
        for (number, body) in bodyEntries.enumerated() where body.isEstablished {
            guard let established = body.established else { continue }
            let id = bodies.string(number)
            let current = Period(containing: today, length: body.cadence.length)
            var period = Period(containing: established, length: body.cadence.length)
            while period <= current {
                add("meetings.held", id, period: period.description, actual: body.meetings[period] ?? 0, target: body.cadence.perPeriod,
                    running: period == current)
                period = period.next
            }
        }

        // Handovers, per FROM->TO.
        for (number, totals) in routeTotals.enumerated() where totals.started > 0 {
            let scope = routes.string(number)
            add("handovers.started", scope, actual: totals.started, target: nil)
            add("handovers.completed", scope, actual: totals.completed, target: nil)
            add("handovers.open", scope, actual: totals.started - totals.completed - totals.cancelled, target: nil)
            add("handovers.with-peer", scope, actual: totals.withPeer, target: nil)
            let days = totals.completedDays.sorted()
            // The lower of the two middle values for an even count.
            add("handovers.median-days", scope, actual: days.isEmpty ? nil : days[(days.count - 1) / 2], target: nil)
        }

        // Attendance, per offer and per venue, and period.
        for (key, count) in contacts {
            add("attendance.contacts", attendanceScopes.string(key >> 32), period: attendancePeriods.string(key & 0xFFFF_FFFF), actual: count, target: nil)
        }

        add("milestones.reached", "project", actual: milestones.count, target: nil)

        return KPI.sortedByKPIScopeAndPeriod(rows)
    }

    /// The target a `target.set` gives a row: the latest by seq of those for its kpi and
    /// scope without a period or with the row's period.
    private func targetOverride(kpi: String, scope: String, period: String?) -> Int? {
        guard let set = targets[TargetKey(kpi: kpi, scope: scope)] else { return nil }
        let forPeriod = period.flatMap { set.byPeriod[$0] }
        guard let latest = [set.withoutPeriod, forPeriod].compactMap({ $0 }).max(by: { $0.seq < $1.seq }) else { return nil }
        return latest.value
    }
}
