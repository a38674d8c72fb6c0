import EventStore

/// What the evaluation report says (SPEC §7), computed from one view of the log and
/// free of layout: the HTML and Markdown writers only arrange these values.
///
/// Every number that is a KPI of SPEC §5 is taken from the KPI rows themselves, so the
/// report and `kpi --json` for the same log and times cannot disagree. The rest
/// (handovers per quarter, the list of trainings, milestones) comes from the same state.
public struct ReportModel: Sendable {
    /// How a body kept its cadence in one period.
    public enum CadenceStatus: String, Sendable {
        /// At least the target number of meetings (also in the running period).
        case kept
        /// Fewer meetings than the target in a period that has ended.
        case missed
        /// The period holding the valid time, target not reached yet.
        case running
        /// A body meeting as needed, or without a cadence: meetings are counted only.
        case noTarget
    }

    /// One team: its staff at the valid time against its plan.
    public struct StaffRow: Sendable, Equatable {
        public var team: String
        public var name: String
        public var kind: String
        public var units: [String]
        public var peers: KPIRow
        public var professionals: KPIRow
    }

    /// One unit: training participants against headcount.
    public struct CoverageRow: Sendable, Equatable {
        public var unit: String
        public var name: String
        public var row: KPIRow
        /// Participants per headcount (or target) in tenths of a per cent, rounded half
        /// up; nil when there is no target or it is 0.
        public var coverageTenths: Int? {
            guard let target = row.target, target > 0, let actual = row.actual else { return nil }
            return (actual * 1000 * 2 + target) / (2 * target)
        }
    }

    public struct TrainingItem: Sendable, Equatable {
        public var training: String
        public var title: String
        public var kind: String
        public var occurred: String
        public var participants: Int
    }

    public struct CadenceCell: Sendable, Equatable {
        public var period: Period
        public var row: KPIRow
        /// The period holds the valid time.
        public var running: Bool
        public var status: CadenceStatus
    }

    /// One body and its `meetings.held` rows, period by period.
    public struct CadenceRow: Sendable, Equatable {
        public var body: String
        public var name: String
        public var kind: String
        public var cadence: String?
        public var cells: [CadenceCell]
    }

    /// Handovers by the quarter of their `occurred` dates.
    public struct HandoverQuarter: Sendable, Equatable {
        public var period: Period
        public var started: Int
        public var completed: Int
        public var cancelled: Int
    }

    /// The handover KPIs of one `FROM->TO` scope.
    public struct HandoverRoute: Sendable, Equatable {
        public var scope: String
        public var from: String
        public var to: String
        public var started: KPIRow
        public var completed: KPIRow
        public var open: KPIRow
        public var withPeer: KPIRow
        public var medianDays: KPIRow
    }

    /// The `attendance.contacts` rows of one offer, or of one venue's total.
    public struct AttendanceRow: Sendable, Equatable {
        public var scope: String
        /// The venue's name for a venue total; nil for an offer.
        public var venueName: String?
        /// By period text (`2019-H1`).
        public var rows: [String: KPIRow]
        public var isVenueTotal: Bool { venueName != nil }
    }

    public struct MilestoneItem: Sendable, Equatable {
        public var milestone: String
        public var title: String
        public var by: String?
        public var findings: [String]
        public var occurred: String
    }

    /// Which history, read at which times, by which code: the footer (SPEC §7).
    public struct Provenance: Sendable, Equatable {
        /// `SEQ:HASH`.
        public var head: String
        /// As given on the command line; nil for now.
        public var asOf: String?
        public var validAt: String?
        /// The calendar date of the valid time in the log's zone.
        public var validDate: Timestamp.CalendarDate
        public var timeZone: String
        /// `recoveryctl 0.1.0`.
        public var tool: String
        /// `recorded`-style UTC time.
        public var generated: String
    }

    public var provenance: Provenance
    /// Every KPI row, as `kpi --json` prints them.
    public var kpis: [KPIRow]
    public var staff: [StaffRow]
    public var unitsWithPeer: KPIRow?
    public var coverage: [CoverageRow]
    public var trainingsHeld: [KPIRow]
    public var trainings: [TrainingItem]
    public var cadence: [CadenceRow]
    public var handoverQuarters: [HandoverQuarter]
    public var handoverRoutes: [HandoverRoute]
    /// Period texts in time order, then the offers and the venue totals.
    public var attendancePeriods: [String]
    public var attendance: [AttendanceRow]
    public var milestones: [MilestoneItem]
    public var milestonesReached: KPIRow?
    /// Unit names at the valid time, by id.
    public var unitNames: [String: String]

    /// Builds the model of `view`; `provenance` names the times as the caller gave them.
    public init(view: Ledger.View, asOf: String?, validAt: String?, tool: String, generated: Int64) throws {
        let state = try view.state
        let kpis = try view.kpis
        let validDate = Timestamp.calendarDate(ofMillis: view.validAt, in: view.timeZone)
        self.init(state: state, kpis: kpis, validDate: validDate, provenance: Provenance(
            head: view.head.description, asOf: asOf, validAt: validAt, validDate: validDate,
            timeZone: view.timeZone.identifier, tool: tool, generated: Timestamp.recordedString(millis: generated)))
    }

    init(state: ProjectState, kpis: [KPIRow], validDate: Timestamp.CalendarDate, provenance: Provenance) {
        self.provenance = provenance
        self.kpis = kpis
        unitNames = state.units.mapValues(\.name)
        var byKey: [String: KPIRow] = [:]
        for row in kpis { byKey["\(row.kpi)\u{0}\(row.scope)\u{0}\(row.period ?? "")"] = row }
        func row(_ kpi: String, _ scope: String, _ period: String? = nil) -> KPIRow {
            byKey["\(kpi)\u{0}\(scope)\u{0}\(period ?? "")"] ?? KPIRow(kpi: kpi, scope: scope, period: period, actual: nil, target: nil, met: nil)
        }
        func rows(_ kpi: String) -> [KPIRow] { kpis.filter { $0.kpi == kpi } }

        staff = rows("peers.employed").map { peers in
            let team = state.teams[peers.scope]
            return StaffRow(team: peers.scope, name: team?.name ?? peers.scope, kind: team?.kind ?? "", units: team?.units ?? [],
                            peers: peers, professionals: row("professionals.employed", peers.scope))
        }
        unitsWithPeer = rows("units.with-peer").first
        coverage = rows("training.participants").map { row in
            CoverageRow(unit: row.scope, name: state.units[row.scope]?.name ?? row.scope, row: row)
        }
        trainingsHeld = rows("training.held")
        trainings = state.trainings.map { id, training in
            TrainingItem(training: id, title: training.title, kind: training.kind, occurred: training.occurred,
                         participants: training.participants.values.reduce(0, +))
        }.sorted { ($0.occurred, $0.training) < ($1.occurred, $1.training) }

        var cadence: [CadenceRow] = []
        for (body, meetings) in Dictionary(grouping: rows("meetings.held"), by: \.scope) {
            let info = state.bodies[body]
            let cells = meetings.compactMap { row -> CadenceCell? in
                guard let text = row.period, let period = Period(text) else { return nil }
                let running = Period(containing: validDate, length: period.length) == period
                let status: CadenceStatus = switch (row.target, row.met) {
                case (nil, _): .noTarget
                case (_, true?): .kept
                case (_, false?): .missed
                case (_, nil): running ? .running : .missed
                }
                return CadenceCell(period: period, row: row, running: running, status: status)
            }.sorted { $0.period < $1.period }
            cadence.append(CadenceRow(body: body, name: info?.name ?? body, kind: info?.kind ?? "", cadence: info?.cadence, cells: cells))
        }
        self.cadence = cadence.sorted { (ReportModel.cadenceRank($0.cadence), $0.body) < (ReportModel.cadenceRank($1.cadence), $1.body) }

        handoverQuarters = ReportModel.quarters(state.handoverQuarters)
        handoverRoutes = rows("handovers.started").map { started in
            let ends = started.scope.split(separator: "->", omittingEmptySubsequences: false).map(String.init)
            return HandoverRoute(scope: started.scope, from: ends.first ?? started.scope, to: ends.count > 1 ? ends[1] : "",
                                 started: started, completed: row("handovers.completed", started.scope),
                                 open: row("handovers.open", started.scope), withPeer: row("handovers.with-peer", started.scope),
                                 medianDays: row("handovers.median-days", started.scope))
        }

        // A scope that is a venue is the venue's total; every other scope is an offer.
        let venues = Set(state.contactsByVenue.keys)
        let contacts = rows("attendance.contacts")
        attendancePeriods = Set(contacts.compactMap(\.period)).sorted { ReportModel.periodOrder($0, $1) }
        let grouped = Dictionary(grouping: contacts, by: \.scope)
        let offers = grouped.keys.filter { !venues.contains($0) }.sorted()
        let totals = grouped.keys.filter { venues.contains($0) }.sorted()
        func attendanceRow(_ scope: String, venue: Bool) -> AttendanceRow {
            var byPeriod: [String: KPIRow] = [:]
            for row in grouped[scope] ?? [] { byPeriod[row.period ?? ""] = row }
            return AttendanceRow(scope: scope, venueName: venue ? (state.units[scope]?.name ?? scope) : nil, rows: byPeriod)
        }
        attendance = offers.map { attendanceRow($0, venue: false) } + totals.map { attendanceRow($0, venue: true) }

        milestones = state.milestones.map { id, m in
            MilestoneItem(milestone: id, title: m.title, by: m.by, findings: m.findings, occurred: m.occurred)
        }.sorted { ($0.occurred, $0.milestone) < ($1.occurred, $1.milestone) }
        milestonesReached = rows("milestones.reached").first
    }

    // MARK: key figures

    /// Peers employed over all teams, and the sum of the plans of the teams with one.
    public var peersTotal: (employed: Int, planned: Int) {
        (staff.reduce(0) { $0 + ($1.peers.actual ?? 0) }, staff.reduce(0) { $0 + ($1.peers.target ?? 0) })
    }

    public var participantsTotal: Int { coverage.reduce(0) { $0 + ($1.row.actual ?? 0) } }

    /// Periods with a target that have ended, and how many of them were kept.
    public var closedPeriods: (kept: Int, total: Int) {
        let closed = cadence.flatMap(\.cells).filter { !$0.running && $0.status != .noTarget }
        return (closed.count { $0.status == .kept }, closed.count)
    }

    public var handoverTotals: (started: Int, completed: Int) {
        (handoverRoutes.reduce(0) { $0 + ($1.started.actual ?? 0) }, handoverRoutes.reduce(0) { $0 + ($1.completed.actual ?? 0) })
    }

    /// A unit's name at the valid time, else its id.
    func unitName(_ id: String) -> String { unitNames[id] ?? id }

    // MARK: helpers

    static func cadenceRank(_ cadence: String?) -> Int {
        switch cadence {
        case "quarterly": 0
        case "4-per-year": 1
        case "half-yearly": 2
        case "yearly": 3
        case "as-needed": 4
        default: 5
        }
    }

    /// Periods by the time they start, a longer one first; text that is no period last.
    static func periodOrder(_ a: String, _ b: String) -> Bool {
        func key(_ text: String) -> (Int, Int, Int, String) {
            guard let p = Period(text) else { return (Int.max, 0, 0, text) }
            let months = 12 / (p.length == .year ? 1 : p.length == .half ? 2 : 4)
            return (p.year, (p.index - 1) * months, -months, text)
        }
        return key(a) < key(b)
    }

    /// Started, completed and cancelled per quarter, every quarter from the first to
    /// the last with an event, zeros included.
    /// The state's counts by quarter, every quarter from the first to the last (none left out).
    static func quarters(_ counted: [String: ProjectState.HandoverQuarterCounts]) -> [HandoverQuarter] {
        var counts: [Period: HandoverQuarter] = [:]
        for (text, count) in counted {
            guard let period = Period(text) else { continue }
            counts[period] = HandoverQuarter(period: period, started: count.started, completed: count.completed, cancelled: count.cancelled)
        }
        guard let first = counts.keys.min(), let last = counts.keys.max() else { return [] }
        var result: [HandoverQuarter] = []
        var period = first
        while period <= last {
            result.append(counts[period] ?? HandoverQuarter(period: period, started: 0, completed: 0, cancelled: 0))
            period = period.next
        }
        return result
    }
}
