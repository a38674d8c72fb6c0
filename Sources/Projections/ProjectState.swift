import EventStore

/// Current state (SPEC §5 `state`): a pure fold of facts in seq order.
///
/// Time travel happens before the fold: the caller chooses which facts (by `recorded`
/// through the history it built, by `occurred` through `History.facts(validAt:)`).
public struct ProjectState: Sendable, Equatable, Codable {
    public struct Unit: Sendable, Equatable, Codable {
        public var name: String
        public var headcount: Int?
        public var parent: String?
    }

    public struct Plan: Sendable, Equatable, Codable {
        public var peers: Int?
        public var professionals: Int?
    }

    public struct Team: Sendable, Equatable, Codable {
        public var name: String
        public var kind: String
        public var units: [String]
        public var plan: Plan
        public var established: String
        public var closed: Bool
    }

    public struct Person: Sendable, Equatable, Codable {
        public var role: String
        public var team: String
        public var since: String
        public var hoursPerWeek: Int?
        public var employed: Bool
    }

    public struct MeetingDate: Sendable, Equatable, Codable {
        public var id: String
        public var occurred: String
    }

    public struct Body: Sendable, Equatable, Codable {
        public var name: String
        public var kind: String
        public var cadence: String?
        public var established: String
        /// Meetings in seq order.
        public var meetings: [MeetingDate]
    }

    public struct Meeting: Sendable, Equatable, Codable {
        public var body: String
        public var occurred: String
        public var minutes: Int
    }

    public struct Training: Sendable, Equatable, Codable {
        public var title: String
        public var kind: String
        public var participants: [String: Int]
        public var occurred: String
    }

    public enum HandoverStatus: String, Sendable, Equatable, Codable {
        case open, completed, cancelled
    }

    public struct Handover: Sendable, Equatable, Codable {
        public var from: String
        public var to: String
        public var peer: String?
        public var started: String
        public var status: HandoverStatus
        public var ended: String?
        public var outcome: String?
    }

    public struct Milestone: Sendable, Equatable, Codable {
        public var title: String
        public var by: String?
        public var findings: [String]
        public var occurred: String
    }

    public struct Target: Sendable, Equatable, Codable {
        public var kpi: String
        public var scope: String
        public var period: String?
        public var value: Int
        public var seq: Int
    }

    public struct Attendance: Sendable, Equatable, Codable {
        public var offer: String
        public var venue: String
        public var period: String
        public var contacts: Int
        public var citizens: Int?
    }

    public var units: [String: Unit] = [:]
    public var teams: [String: Team] = [:]
    public var people: [String: Person] = [:]
    public var bodies: [String: Body] = [:]
    public var meetings: [String: Meeting] = [:]
    public var trainings: [String: Training] = [:]
    public var handovers: [String: Handover] = [:]
    public var milestones: [String: Milestone] = [:]
    /// In seq order; the latest matching one wins.
    public var targets: [Target] = []
    public var attendance: [Attendance] = []
    /// Per unit, the date from which each of its members holds, so that a value recorded
    /// late for an earlier date does not replace a later one (SPEC §5: a unit's latest
    /// `headcount` by then is the latest in valid time, not the last recorded).
    var unitValueDates: [String: [String: String]] = [:]

    public init() {}

    public init(facts: some Sequence<ResolvedEvent>) {
        for fact in facts { apply(fact) }
    }

    /// Folds one fact in. Facts are assumed valid (the catalog checked them at append);
    /// a fact naming something unknown changes nothing.
    public mutating func apply(_ fact: ResolvedEvent) {
        let d = fact.data
        func s(_ key: String) -> String? { d[key]?.stringValue }
        func i(_ key: String) -> Int? { d[key]?.integerValue }
        func strings(_ key: String) -> [String] { d[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }

        switch fact.event.type {
        case "unit.registered":
            guard let id = s("unit") else { return }
            units[id] = Unit(name: s("name") ?? id, headcount: i("headcount"), parent: s("parent"))
            let date = Timestamp.calendarDate(ofOccurred: fact.occurred)?.description ?? fact.occurred
            unitValueDates[id] = Dictionary(uniqueKeysWithValues: ["name", "headcount", "parent"].filter { d[$0] != nil }.map { ($0, date) })
        case "unit.updated":
            guard let id = s("unit"), units[id] != nil else { return }
            let date = Timestamp.calendarDate(ofOccurred: fact.occurred)?.description ?? fact.occurred
            func holdsFromLater(_ member: String) -> Bool {
                guard date >= unitValueDates[id]?[member] ?? "" else { return false }
                unitValueDates[id, default: [:]][member] = date
                return true
            }
            if let name = s("name"), holdsFromLater("name") { units[id]!.name = name }
            if let headcount = i("headcount"), holdsFromLater("headcount") { units[id]!.headcount = headcount }
            if let parent = s("parent"), holdsFromLater("parent") { units[id]!.parent = parent }
        case "team.established":
            guard let id = s("team") else { return }
            let plan = d["plan"]?.objectValue
            teams[id] = Team(name: s("name") ?? id, kind: s("kind") ?? "", units: strings("units"),
                             plan: Plan(peers: plan?["peers"]?.integerValue, professionals: plan?["professionals"]?.integerValue),
                             established: fact.occurred, closed: false)
        case "team.closed":
            if let id = s("team") { teams[id]?.closed = true }
        case "staff.hired":
            guard let id = s("person"), let role = s("role"), let team = s("team") else { return }
            people[id] = Person(role: role, team: team, since: fact.occurred, hoursPerWeek: i("hoursPerWeek"), employed: true)
        case "staff.left":
            if let id = s("person") { people[id]?.employed = false }
        case "training.held":
            guard let id = s("training") else { return }
            var participants: [String: Int] = [:]
            for (unit, count) in d["participants"]?.objectValue?.members ?? [] { participants[unit] = count.integerValue ?? 0 }
            trainings[id] = Training(title: s("title") ?? id, kind: s("kind") ?? "", participants: participants, occurred: fact.occurred)
        case "handover.started":
            guard let id = s("case"), let from = s("from"), let to = s("to") else { return }
            handovers[id] = Handover(from: from, to: to, peer: s("peer"), started: fact.occurred, status: .open)
        case "handover.completed", "handover.cancelled":
            guard let id = s("case"), handovers[id]?.status == .open else { return }
            handovers[id]!.status = fact.event.type == "handover.completed" ? .completed : .cancelled
            handovers[id]!.ended = fact.occurred
            handovers[id]!.outcome = s("outcome")
        case "body.established":
            guard let id = s("body") else { return }
            bodies[id] = Body(name: s("name") ?? id, kind: s("kind") ?? "", cadence: s("cadence"), established: fact.occurred, meetings: [])
        case "meeting.held":
            guard let id = s("meeting"), let body = s("body") else { return }
            meetings[id] = Meeting(body: body, occurred: fact.occurred, minutes: 0)
            bodies[body]?.meetings.append(MeetingDate(id: id, occurred: fact.occurred))
        case "minutes.recorded":
            if let id = s("meeting") { meetings[id]?.minutes += 1 }
        case "evaluation.milestone":
            guard let id = s("milestone") else { return }
            milestones[id] = Milestone(title: s("title") ?? id, by: s("by"), findings: strings("findings"), occurred: fact.occurred)
        case "target.set":
            guard let kpi = s("kpi"), let scope = s("scope"), let value = i("value") else { return }
            targets.append(Target(kpi: kpi, scope: scope, period: s("period"), value: value, seq: fact.event.seq))
        case "attendance.counted":
            guard let offer = s("offer"), let venue = s("venue"), let period = s("period"), let contacts = i("contacts") else { return }
            attendance.append(Attendance(offer: offer, venue: venue, period: period, contacts: contacts, citizens: i("citizens")))
        default:
            return
        }
    }

    /// People employed now, with their role and team.
    public var employed: [(person: String, Person)] {
        people.filter(\.value.employed).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The target a `target.set` gives a row, the latest by seq; nil when none applies.
    public func targetOverride(kpi: String, scope: String, period: String?) -> Int? {
        targets.last { $0.kpi == kpi && $0.scope == scope && ($0.period == nil || $0.period == period) }?.value
    }
}
