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

    /// An open handover.
    public struct Handover: Sendable, Equatable, Codable {
        public var from: String
        public var to: String
        public var peer: String?
        public var started: String
    }

    /// The figures of the handovers along one `FROM->TO` route, open and closed.
    public struct HandoverTotals: Sendable, Equatable, Codable {
        public var started = 0
        public var completed = 0
        public var cancelled = 0
        public var withPeer = 0
        /// Days from start to completion of each completed handover, in the order completed.
        public var completedDays: [Int] = []

        public var open: Int { started - completed - cancelled }

        mutating func noteStart(withPeer: Bool) {
            started += 1
            if withPeer { self.withPeer += 1 }
        }

        mutating func noteCompletion(afterDays days: Int?) {
            completed += 1
            if let days { completedDays.append(days) }
        }
    }

    /// The handovers started, completed and cancelled in one quarter.
    public struct HandoverQuarterCounts: Sendable, Equatable, Codable {
        public var started = 0
        public var completed = 0
        public var cancelled = 0
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

    /// Contacts counted, by period (`YYYY-Qn` and the like, as recorded).
    public typealias ContactsByPeriod = [String: Int]

    public var units: [String: Unit] = [:]
    public var teams: [String: Team] = [:]
    public var people: [String: Person] = [:]
    public var bodies: [String: Body] = [:]
    public var meetings: [String: Meeting] = [:]
    public var trainings: [String: Training] = [:]
    /// Open handovers by case. A closed one leaves only its figures, in `handoverTotals`
    /// and `handoverQuarters`: most handovers of a long log are closed, and nothing reads
    /// more of them (validation keeps how each ended, in `ValidationState`).
    public var handovers: [String: Handover] = [:]
    /// By route, `FROM->TO`.
    public var handoverTotals: [String: HandoverTotals] = [:]
    /// By quarter (`YYYY-Qn`) of the start, completion or cancellation.
    public var handoverQuarters: [String: HandoverQuarterCounts] = [:]
    public var milestones: [String: Milestone] = [:]
    /// In seq order; the latest matching one wins.
    public var targets: [Target] = []
    /// Contacts counted, per offer and per venue: every count is kept in these sums only
    /// (a long log holds hundreds of thousands of counts, and nothing reads one alone).
    public var contactsByOffer: [String: ContactsByPeriod] = [:]
    public var contactsByVenue: [String: ContactsByPeriod] = [:]
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
    public mutating func apply(_ fact: ResolvedEvent) { fold(fact) }

    /// `apply`, for whatever reads a fact: an event with its corrections, or a line read in place.
    mutating func fold(_ d: some FactReading) {
        func s(_ key: StaticString) -> String? { d.string(key) }
        func i(_ key: StaticString) -> Int? { d.integer(key) }

        switch d.kind {
        case .unitRegistered:
            guard let id = s("unit") else { return }
            units[id] = Unit(name: s("name") ?? id, headcount: i("headcount"), parent: s("parent"))
            let date = Timestamp.dateText(ofOccurred: d.occurred)
            var dates: [String: String] = [:]
            if d.contains("name") { dates["name"] = date }
            if d.contains("headcount") { dates["headcount"] = date }
            if d.contains("parent") { dates["parent"] = date }
            unitValueDates[id] = dates
        case .unitUpdated:
            guard let id = s("unit"), units[id] != nil else { return }
            let date = Timestamp.dateText(ofOccurred: d.occurred)
            func holdsFromLater(_ member: String) -> Bool {
                guard date >= unitValueDates[id]?[member] ?? "" else { return false }
                unitValueDates[id, default: [:]][member] = date
                return true
            }
            if let name = s("name"), holdsFromLater("name") { units[id]!.name = name }
            if let headcount = i("headcount"), holdsFromLater("headcount") { units[id]!.headcount = headcount }
            if let parent = s("parent"), holdsFromLater("parent") { units[id]!.parent = parent }
        case .teamEstablished:
            guard let id = s("team") else { return }
            teams[id] = Team(name: s("name") ?? id, kind: s("kind") ?? "", units: d.strings("units"),
                             plan: Plan(peers: d.integer("plan", "peers"), professionals: d.integer("plan", "professionals")),
                             established: d.occurred, closed: false)
        case .teamClosed:
            if let id = s("team") { teams[id]?.closed = true }
        case .staffHired:
            guard let id = s("person"), let role = s("role"), let team = s("team") else { return }
            people[id] = Person(role: role, team: team, since: d.occurred, hoursPerWeek: i("hoursPerWeek"), employed: true)
        case .staffLeft:
            if let id = s("person") { people[id]?.employed = false }
        case .trainingHeld:
            guard let id = s("training") else { return }
            var participants: [String: Int] = [:]
            for (unit, count) in d.integerMembers("participants") { participants[unit] = count }
            trainings[id] = Training(title: s("title") ?? id, kind: s("kind") ?? "", participants: participants, occurred: d.occurred)
        case .handoverStarted:
            guard let id = s("case"), let from = s("from"), let to = s("to") else { return }
            let handover = Handover(from: from, to: to, peer: s("peer"), started: d.occurred)
            handovers[id] = handover
            handoverTotals[ProjectState.route(handover), default: HandoverTotals()].noteStart(withPeer: handover.peer != nil)
            countQuarter(of: Timestamp.calendarDate(ofOccurred: d.occurred)) { $0.started += 1 }
        case .handoverCompleted, .handoverCancelled:
            guard let id = s("case"), let handover = handovers.removeValue(forKey: id) else { return }
            let route = ProjectState.route(handover)
            let ended = Timestamp.calendarDate(ofOccurred: d.occurred)
            if d.kind == .handoverCompleted {
                var days: Int?
                if let start = Timestamp.calendarDate(ofOccurred: handover.started), let ended {
                    days = ended.daysSinceEpoch - start.daysSinceEpoch
                }
                handoverTotals[route, default: HandoverTotals()].noteCompletion(afterDays: days)
                countQuarter(of: ended) { $0.completed += 1 }
            } else {
                handoverTotals[route, default: HandoverTotals()].cancelled += 1
                countQuarter(of: ended) { $0.cancelled += 1 }
            }
        case .bodyEstablished:
            guard let id = s("body") else { return }
            bodies[id] = Body(name: s("name") ?? id, kind: s("kind") ?? "", cadence: s("cadence"), established: d.occurred, meetings: [])
        case .meetingHeld:
            guard let id = s("meeting"), let body = s("body") else { return }
            meetings[id] = Meeting(body: body, occurred: d.occurred, minutes: 0)
            bodies[body]?.meetings.append(MeetingDate(id: id, occurred: d.occurred))
        case .minutesRecorded:
            if let id = s("meeting") { meetings[id]?.minutes += 1 }
        case .evaluationMilestone:
            guard let id = s("milestone") else { return }
            milestones[id] = Milestone(title: s("title") ?? id, by: s("by"), findings: d.strings("findings"), occurred: d.occurred)
        case .targetSet:
            guard let kpi = s("kpi"), let scope = s("scope"), let value = i("value") else { return }
            targets.append(Target(kpi: kpi, scope: scope, period: s("period"), value: value, seq: d.seq))
        case .attendanceCounted:
            guard let offer = s("offer"), let venue = s("venue"), let period = s("period"), let contacts = i("contacts") else { return }
            contactsByOffer[offer, default: [:]][period, default: 0] += contacts
            contactsByVenue[venue, default: [:]][period, default: 0] += contacts
        case nil:
            return
        }
    }

    public var handoversCompleted: Int { handoverTotals.values.reduce(0) { $0 + $1.completed } }
    public var handoversCancelled: Int { handoverTotals.values.reduce(0) { $0 + $1.cancelled } }

    static func route(_ handover: Handover) -> String { "\(handover.from)->\(handover.to)" }

    private mutating func countQuarter(of date: Timestamp.CalendarDate?, _ change: (inout HandoverQuarterCounts) -> Void) {
        guard let date else { return }
        change(&handoverQuarters[Period.quarterName(containing: date), default: HandoverQuarterCounts()])
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

extension Timestamp {
    /// The calendar date of `occurred` as text, or `occurred` itself when it has none:
    /// what a unit's values are dated by, compared as text.
    static func dateText(ofOccurred occurred: String) -> String {
        calendarDate(ofOccurred: occurred)?.description ?? occurred
    }
}
