/// The report's sections in one language: headings, texts and tables, without layout.
///
/// HTML and Markdown both write this, so they hold the same sections and the same
/// tables; HTML adds a chart before each table that has one. A table cell that shows a
/// KPI number is bound to its row, which HTML writes into `data-*` attributes.
struct ReportDocument {
    /// The chart HTML draws before a table.
    enum Chart {
        case staff, coverage, cadence, handovers, attendance, milestones
    }

    struct Cell {
        enum Field { case actual, target }

        var text: String
        var numeric = false
        /// The KPI row and member the number is, for `data-kpi`, `data-value`/`data-target`.
        var binding: (row: KPIRow, field: Field)?
        /// Other `data-*` attributes, e.g. `series` and `period` for numbers that are no KPI row.
        var data: [(String, String)] = []
        /// An id shown after the text (Markdown as code, HTML as a small line).
        var id: String?
        /// Short text that reads badly broken: a date, a period, a status.
        var nowrap = false

        static func text(_ text: String, id: String? = nil) -> Cell { Cell(text: text, id: id) }

        static func short(_ text: String) -> Cell { Cell(text: text, nowrap: true) }

        static func number(_ text: String, _ row: KPIRow? = nil, _ field: Field = .actual, data: [(String, String)] = []) -> Cell {
            Cell(text: text, numeric: true, binding: row.map { ($0, field) }, data: data)
        }
    }

    struct Table {
        var chart: Chart?
        var caption: String
        var columns: [(title: String, numeric: Bool)]
        var rows: [[Cell]]
        /// Rows shown as totals.
        var totalRows: Set<Int> = []
    }

    enum Block {
        case paragraph(String)
        case subheading(String)
        case table(Table)
        /// Said instead of a table when there is nothing to show.
        case empty(String)
    }

    struct Section {
        var id: String
        var number: Int
        var heading: String
        var intro: String
        var blocks: [Block]
    }

    struct KeyFigure {
        var value: String
        var label: String
        var binding: KPIRow?
    }

    let model: ReportModel
    let labels: ReportLabels

    // MARK: the parts

    var title: String { labels.title }

    var standing: String {
        let p = model.provenance
        let asOf = p.asOf.map { labels.recordedAt(labels.date(occurred: $0)) } ?? labels.recordedNow
        return labels.standing(validAt: labels.date(p.validDate), asOf: asOf)
    }

    var keyFigures: [KeyFigure] {
        let l = labels
        var figures: [KeyFigure] = []
        let peers = model.peersTotal
        figures.append(KeyFigure(value: l.ofPlan(l.integer(peers.employed), l.integer(peers.planned)), label: l.peersAgainstPlan))
        if let row = model.unitsWithPeer {
            figures.append(KeyFigure(value: l.ofPlan(l.integer(row.actual ?? 0), l.integer(row.target ?? 0)), label: l.unitsWithPeer, binding: row))
        }
        figures.append(KeyFigure(value: l.integer(model.participantsTotal), label: l.trainingParticipants))
        let periods = model.closedPeriods
        figures.append(KeyFigure(value: l.ofPlan(l.integer(periods.kept), l.integer(periods.total)), label: l.periodsKept))
        let handovers = model.handoverTotals
        figures.append(KeyFigure(value: l.ofPlan(l.integer(handovers.completed), l.integer(handovers.started)), label: l.handoversCompleted))
        if let row = model.milestonesReached {
            figures.append(KeyFigure(value: l.integer(row.actual ?? 0), label: l.milestonesReached, binding: row))
        }
        return figures
    }

    var sections: [Section] {
        [staff, training, cadence, handovers, attendance, milestones].enumerated().map { index, section in
            var section = section
            section.number = index + 1
            return section
        }
    }

    // MARK: cells

    private func count(_ row: KPIRow) -> Cell {
        .number(row.actual.map(labels.integer) ?? labels.none, row)
    }

    private func target(_ row: KPIRow) -> Cell {
        row.target.map { .number(labels.integer($0), row, .target) } ?? .number(labels.none)
    }

    private func met(_ row: KPIRow) -> Cell {
        .text(row.met.map { $0 ? labels.yes : labels.no } ?? labels.none)
    }

    // MARK: sections

    private var staff: Section {
        let l = labels
        var blocks: [Block] = []
        if model.staff.isEmpty {
            blocks.append(.empty(l.noTeams))
        } else {
            blocks.append(.table(Table(
                chart: .staff, caption: l.staffHeading,
                columns: [(l.team, false), (l.kind, false), ("\(l.peers) \(l.employed)", true), (l.plan, true),
                          ("\(l.professionals) \(l.employed)", true), (l.plan, true)],
                rows: model.staff.map { team in
                    [.text(team.name, id: team.team), .text(l.teamKind(team.kind)), count(team.peers), target(team.peers),
                     count(team.professionals), target(team.professionals)]
                })))
        }
        if let row = model.unitsWithPeer {
            blocks.append(.paragraph("\(l.kpi(row.kpi)): \(l.ofPlan(l.integer(row.actual ?? 0), l.integer(row.target ?? 0))) \(l.registeredUnits)."))
        }
        return Section(id: "staff", number: 0, heading: l.staffHeading, intro: l.staffIntro, blocks: blocks)
    }

    private var training: Section {
        let l = labels
        var blocks: [Block] = []
        if model.coverage.isEmpty {
            blocks.append(.empty(l.noUnits))
        } else {
            blocks.append(.table(Table(
                chart: .coverage, caption: l.trainingHeading,
                columns: [(l.unit, false), (l.participants, true), ("\(l.target) (\(l.headcount.lowercased()))", true), (l.coverage, true), (l.met, false)],
                rows: model.coverage.map { unit in
                    [.text(unit.name, id: unit.unit), count(unit.row), target(unit.row),
                     .number(unit.coverageTenths.map(l.percent(tenths:)) ?? l.none), met(unit.row)]
                })))
        }
        blocks.append(.subheading(l.trainingsHeldHeading))
        if model.trainings.isEmpty {
            blocks.append(.empty(l.noTrainings))
        } else {
            blocks.append(.table(Table(
                caption: l.trainingsPerKind, columns: [(l.kind, false), (l.count, true)],
                rows: model.trainingsHeld.map { [.text(l.trainingKind($0.scope)), count($0)] })))
            blocks.append(.table(Table(
                caption: l.trainingsHeldHeading,
                columns: [(l.date, false), (l.titleColumn, false), (l.kind, false), (l.participants, true)],
                rows: model.trainings.map { t in
                    [.short(l.date(occurred: t.occurred)), .text(t.title, id: t.training), .text(l.trainingKind(t.kind)), .number(l.integer(t.participants))]
                })))
        }
        return Section(id: "training", number: 0, heading: l.trainingHeading, intro: l.trainingIntro, blocks: blocks)
    }

    private var cadence: Section {
        let l = labels
        var rows: [[Cell]] = []
        for body in model.cadence {
            for (index, cell) in body.cells.enumerated() {
                let first = index == 0
                rows.append([
                    first ? .text(body.name, id: body.body) : .text(""),
                    .text(first ? l.cadence(body.cadence) : ""),
                    .short(l.period(cell.period)), count(cell.row), target(cell.row),
                    .short("\(l.cadenceMark(cell.status)) \(l.cadenceStatus(cell.status))"),
                ])
            }
        }
        let blocks: [Block] = rows.isEmpty ? [.empty(l.noBodies)] : [.table(Table(
            chart: .cadence, caption: l.cadenceHeading,
            columns: [(l.body, false), (l.cadence, false), (l.period, false), (l.held, true), (l.target, true), (l.status, false)],
            rows: rows))]
        return Section(id: "cadence", number: 0, heading: l.cadenceHeading, intro: l.cadenceIntro, blocks: blocks)
    }

    private var handovers: Section {
        let l = labels
        var blocks: [Block] = []
        if model.handoverQuarters.isEmpty {
            blocks.append(.empty(l.noHandovers))
        } else {
            blocks.append(.table(Table(
                chart: .handovers, caption: l.handoversHeading,
                columns: [(l.quarter, false), (l.started, true), (l.completed, true), (l.cancelled, true)],
                rows: model.handoverQuarters.map { q in
                    let period = q.period.description
                    return [.short(l.period(q.period)),
                            .number(l.integer(q.started), data: [("series", "started"), ("period", period), ("value", String(q.started))]),
                            .number(l.integer(q.completed), data: [("series", "completed"), ("period", period), ("value", String(q.completed))]),
                            .number(l.integer(q.cancelled), data: [("series", "cancelled"), ("period", period), ("value", String(q.cancelled))])]
                })))
            blocks.append(.subheading(l.handoverRoutesHeading))
            blocks.append(.table(Table(
                caption: l.handoverRoutesHeading,
                columns: [(l.from, false), (l.to, false), (l.started, true), (l.completed, true), (l.open, true), (l.withPeer, true), (l.medianDays, true)],
                rows: model.handoverRoutes.map { r in
                    [.text(model.unitName(r.from), id: r.from), .text(model.unitName(r.to), id: r.to),
                     count(r.started), count(r.completed), count(r.open), count(r.withPeer), count(r.medianDays)]
                })))
        }
        return Section(id: "handovers", number: 0, heading: l.handoversHeading, intro: l.handoversIntro, blocks: blocks)
    }

    private var attendance: Section {
        let l = labels
        let periods = model.attendancePeriods
        var totals: Set<Int> = []
        var rows: [[Cell]] = []
        for (index, offer) in model.attendance.enumerated() {
            if offer.isVenueTotal { totals.insert(index) }
            let label: Cell = offer.venueName.map { .text(l.venueTotal($0), id: offer.scope) } ?? .text(offer.scope)
            rows.append([label] + periods.map { period in offer.rows[period].map(count) ?? .number(l.none) })
        }
        let blocks: [Block] = rows.isEmpty ? [.empty(l.noAttendance)] : [.table(Table(
            chart: .attendance, caption: l.attendanceHeading,
            columns: [(l.offer, false)] + periods.map { (l.period($0), true) }, rows: rows, totalRows: totals))]
        return Section(id: "attendance", number: 0, heading: l.attendanceHeading, intro: l.attendanceIntro, blocks: blocks)
    }

    private var milestones: Section {
        let l = labels
        var blocks: [Block] = []
        if model.milestones.isEmpty {
            blocks.append(.empty(l.noMilestones))
        } else {
            blocks.append(.table(Table(
                chart: .milestones, caption: l.milestonesHeading,
                columns: [(l.date, false), (l.milestone, false), (l.by, false), (l.findings, false)],
                rows: model.milestones.map { m in
                    [.short(l.date(occurred: m.occurred)), .text(m.title, id: m.milestone), .text(m.by ?? l.none),
                     .text(m.findings.isEmpty ? l.none : m.findings.joined(separator: "; "))]
                })))
        }
        if let row = model.milestonesReached {
            blocks.append(.paragraph("\(l.kpi(row.kpi)): \(l.integer(row.actual ?? 0))"))
        }
        return Section(id: "milestones", number: 0, heading: l.milestonesHeading, intro: l.milestonesIntro, blocks: blocks)
    }
}
