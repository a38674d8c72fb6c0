import EventStore

/// The report's charts as inline SVG, drawn from the model in a coordinate system 760
/// units wide that the page scales to its width.
///
/// Every shape that stands for a number carries it: KPI numbers in `data-kpi`,
/// `data-scope`, `data-period` and `data-value` (a plan or target in `data-target`),
/// other counts in `data-series`, `data-period` and `data-value`; and every one has a
/// `<title>` saying it in words, which a screen reader reads and a mouse shows.
struct Charts {
    let model: ReportModel
    let labels: ReportLabels
    let titleID: String
    let title: String

    static let width = 760.0

    enum Color {
        static let ink = "#1d2733"
        static let muted = "#5b6b7b"
        static let grid = "#e3e8ee"
        static let track = "#dde5ee"
        static let peers = "#1f4e79"
        static let professionals = "#5d9cc9"
        static let kept = "#2a7f62"
        static let missed = "#d9822b"
        static let running = "#7f9bb8"
        static let noTarget = "#c9d3dd"
        /// One per period or series, in order; repeats after the last.
        static let series = ["#1f4e79", "#d9822b", "#2a7f62", "#8c6bb1", "#c0504d", "#6b7b8c", "#b5a642", "#4aa3a0"]
    }

    func svg(_ chart: ReportDocument.Chart) -> String {
        switch chart {
        case .staff: staff()
        case .coverage: coverage()
        case .cadence: cadence()
        case .handovers: handovers()
        case .attendance: attendance()
        case .milestones: milestones()
        }
    }

    // MARK: the charts

    private func staff() -> String {
        let l = labels
        let groups = model.staff.map { team in
            BulletGroup(label: team.name, bars: [
                bar(team.peers, color: Color.peers, subject: team.name),
                bar(team.professionals, color: Color.professionals, subject: team.name),
            ])
        }
        return bullets(groups, legend: [
            LegendItem(label: l.kpi("peers.employed"), color: Color.peers),
            LegendItem(label: l.kpi("professionals.employed"), color: Color.professionals),
            LegendItem(label: l.plan, color: Color.track, marker: true),
        ])
    }

    private func coverage() -> String {
        let l = labels
        let groups = model.coverage.map { unit in
            var bar = bar(unit.row, color: Color.peers, subject: unit.name)
            if let tenths = unit.coverageTenths { bar.valueText += " · " + l.percent(tenths: tenths) }
            return BulletGroup(label: unit.name, bars: [bar])
        }
        return bullets(groups, legend: [
            LegendItem(label: l.participants, color: Color.peers),
            LegendItem(label: "\(l.target) (\(l.headcount.lowercased()))", color: Color.track, marker: true),
        ])
    }

    private func bar(_ row: KPIRow, color: String, subject: String) -> BulletBar {
        let actual = labels.integer(row.actual ?? 0)
        let value = row.target.map { labels.ofPlan(actual, labels.integer($0)) } ?? actual
        return BulletBar(row: row, color: color, valueText: value, tooltip: "\(subject) – \(labels.kpi(row.kpi)): \(value)")
    }

    private func cadence() -> String {
        let l = labels
        let rows = model.cadence
        let cells = rows.flatMap(\.cells)
        guard let first = cells.map({ Charts.quarterIndex(of: $0.period) }).min(),
              let last = cells.map({ Charts.quarterIndex(of: $0.period) + Charts.quarters(in: $0.period) - 1 }).max() else { return "" }
        let count = Double(last - first + 1)
        let labelWidth = 230.0, left = labelWidth + 12, right = Charts.width - 8
        let column = (right - left) / count
        let legendHeight = 30.0, axisHeight = column >= 16 ? 34.0 : 20.0
        let rowHeight = 22.0, gap = 5.0
        let top = legendHeight + axisHeight
        let height = top + Double(rows.count) * (rowHeight + gap) + 8

        return frame(height: height) { svg in
            svg.raw("""

                <defs><pattern id="\(titleID)-running" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">\
                <rect width="6" height="6" fill="\(Color.noTarget)"/><rect width="3" height="6" fill="\(Color.running)"/></pattern></defs>
                """)
            legend([
                LegendItem(label: "✓ " + l.cadenceStatus(.kept), color: Color.kept),
                LegendItem(label: "✗ " + l.cadenceStatus(.missed), color: Color.missed),
                LegendItem(label: "… " + l.cadenceStatus(.running), color: "url(#\(titleID)-running)"),
                LegendItem(label: l.cadenceStatus(.noTarget), color: Color.noTarget),
            ], y: 8, into: &svg)

            // Years across the top, quarters under them when there is room.
            var quarter = first
            while quarter <= last {
                let x = left + Double(quarter - first) * column
                let year = quarter / 4, index = quarter % 4 + 1
                if index == 1 || quarter == first {
                    let span = Double(min(4 - (index - 1), last - quarter + 1)) * column
                    text(String(year), x: x + span / 2, y: legendHeight + 12, size: 11.5, anchor: "middle", weight: "600", into: &svg)
                    svg.empty("line", ["x1": n(x), "y1": n(legendHeight), "x2": n(x), "y2": n(height - 6), "stroke": Color.grid])
                }
                if column >= 16 {
                    text(l.quarterMark(index), x: x + column / 2, y: legendHeight + 27, size: 10, anchor: "middle", fill: Color.muted, into: &svg)
                }
                quarter += 1
            }

            for (index, body) in rows.enumerated() {
                let y = top + Double(index) * (rowHeight + gap)
                let lines = Charts.wrap(body.name, width: labelWidth - 4, size: 11)
                label(lines, title: "\(body.name) (\(l.cadence(body.cadence)))", x: labelWidth, centerY: y + rowHeight / 2,
                      size: lines.count > 1 ? 10.5 : 11.5, into: &svg)
            }
            for (index, body) in rows.enumerated() {
                let y = top + Double(index) * (rowHeight + gap)
                for cell in body.cells {
                    let start = Charts.quarterIndex(of: cell.period) - first
                    let x = left + Double(start) * column + 1
                    let width = Double(Charts.quarters(in: cell.period)) * column - 2
                    let fill: String = switch cell.status {
                    case .kept: Color.kept
                    case .missed: Color.missed
                    case .running: "url(#\(titleID)-running)"
                    case .noTarget: Color.noTarget
                    }
                    let held = l.integer(cell.row.actual ?? 0)
                    let amount = cell.row.target.map { l.ofPlan(held, l.integer($0)) } ?? held
                    svg.titled("rect", [
                        "x": n(x), "y": n(y), "width": n(max(width, 1)), "height": n(rowHeight), "rx": "2", "fill": fill,
                        "data-kpi": cell.row.kpi, "data-scope": cell.row.scope, "data-period": cell.row.period,
                        "data-value": String(cell.row.actual ?? 0), "data-target": cell.row.target.map(String.init),
                        "data-status": cell.status.rawValue,
                    ], title: "\(body.name) – \(l.period(cell.period, style: .long)): \(amount) \(l.cadenceStatus(cell.status))")
                    let short = cell.row.target.map { "\(held)/\(l.integer($0))" } ?? held
                    if width >= Double(short.count) * 6.5 + 6 {
                        let dark = cell.status == .noTarget || cell.status == .running
                        text(short, x: x + width / 2, y: y + rowHeight / 2 + 4, size: 11, anchor: "middle",
                             weight: "600", fill: dark ? Color.ink : "#ffffff", into: &svg)
                    }
                }
            }
            marker(at: model.provenance.validDate, first: first, last: last, left: left, column: column,
                   top: legendHeight + 2, bottom: height - 4, into: &svg)
        }
    }

    private func handovers() -> String {
        let l = labels
        let quarters = model.handoverQuarters
        guard !quarters.isEmpty else { return "" }
        let left = 44.0, right = Charts.width - 10, top = 40.0, plot = 190.0
        let group = (right - left) / Double(quarters.count)
        let barWidth = min(22, group * 0.34)
        let scale = Charts.scale(quarters.map { max($0.started, $0.completed) }.max() ?? 0)
        let height = top + plot + 44
        func y(_ v: Int) -> Double { top + plot - Double(v) / Double(scale.top) * plot }

        return frame(height: height) { svg in
            legend([LegendItem(label: l.started, color: Color.peers), LegendItem(label: l.completed, color: Color.kept)], y: 8, into: &svg)
            for tick in stride(from: 0, through: scale.top, by: scale.step) {
                svg.empty("line", ["x1": n(left), "y1": n(y(tick)), "x2": n(right), "y2": n(y(tick)), "stroke": tick == 0 ? Color.muted : Color.grid])
                text(l.integer(tick), x: left - 6, y: y(tick) + 4, size: 10.5, anchor: "end", fill: Color.muted, into: &svg)
            }
            for (index, q) in quarters.enumerated() {
                let center = left + (Double(index) + 0.5) * group
                for (series, value, color, offset) in [("started", q.started, Color.peers, -1.0), ("completed", q.completed, Color.kept, 0.0)] {
                    let x = center + offset * barWidth + (offset < 0 ? -1 : 1)
                    let name = series == "started" ? l.started : l.completed
                    svg.titled("rect", [
                        "x": n(x), "y": n(y(value)), "width": n(barWidth), "height": n(y(0) - y(value)), "fill": color,
                        "data-series": series, "data-period": q.period.description, "data-value": String(value),
                    ], title: "\(l.period(q.period, style: .long)) – \(name): \(l.integer(value))")
                    if value > 0, group >= 26 {
                        text(l.integer(value), x: x + barWidth / 2, y: y(value) - 4, size: 10, anchor: "middle", fill: Color.ink, into: &svg)
                    }
                }
                if group >= 30 || q.period.index == 1 || index == 0 {
                    if group >= 30 {
                        text(l.quarterMark(q.period.index), x: center, y: top + plot + 16, size: 10.5, anchor: "middle", fill: Color.muted, into: &svg)
                    }
                    if q.period.index == 1 || index == 0 {
                        text(String(q.period.year), x: center, y: top + plot + 32, size: 11, anchor: "middle", weight: "600", into: &svg)
                    }
                }
            }
        }
    }

    private func attendance() -> String {
        let l = labels
        let periods = model.attendancePeriods
        let offers = model.attendance.filter { !$0.isVenueTotal }
        guard !offers.isEmpty else { return "" }
        let barHeight = 9.0, barGap = 2.0, groupGap = 9.0
        let groups = offers.map { offer in
            BulletGroup(label: offer.scope, bars: periods.enumerated().compactMap { index, period in
                offer.rows[period].map { row in
                    BulletBar(row: row, color: Color.series[index % Color.series.count], valueText: l.integer(row.actual ?? 0),
                              tooltip: "\(offer.scope) – \(l.period(period, style: .long)): \(l.integer(row.actual ?? 0))")
                }
            }, slots: periods.map { period in offer.rows[period] != nil })
        }
        return bullets(groups, legend: periods.enumerated().map { index, period in
            LegendItem(label: l.period(period), color: Color.series[index % Color.series.count])
        }, barHeight: barHeight, barGap: barGap, groupGap: groupGap, labelSize: 11.5, valueSize: 10)
    }

    private func milestones() -> String {
        let l = labels
        let items = model.milestones.compactMap { m in Timestamp.calendarDate(ofOccurred: m.occurred).map { (m, $0) } }
        guard let firstDate = items.map(\.1).min(), let lastDate = items.map(\.1).max() else { return "" }
        let firstYear = firstDate.year
        let lastYear = max(lastDate.year, model.provenance.validDate.year)
        let left = 20.0, right = Charts.width - 20, axis = 34.0
        let start = Timestamp.CalendarDate(year: firstYear, month: 1, day: 1)!.daysSinceEpoch
        let end = Timestamp.CalendarDate(year: lastYear + 1, month: 1, day: 1)!.daysSinceEpoch
        func x(_ date: Timestamp.CalendarDate) -> Double {
            left + Double(date.daysSinceEpoch - start) / Double(end - start) * (right - left)
        }

        // Labels under the axis in lanes, each in the first lane where it does not
        // run into the one before it.
        struct Placed { var x: Double; var lane: Int; var anchor: String; var title: String; var date: String }
        var laneEnds: [Double] = []
        var placed: [Placed] = []
        for (m, date) in items {
            let title = Charts.fit(m.title, width: 230, size: 12)
            let dateText = l.date(date)
            let width = max(Charts.textWidth(title, size: 12), Charts.textWidth(dateText, size: 10.5)) + 14
            let px = x(date)
            let anchor = px + width > Charts.width - 4 ? "end" : "start"
            let from = anchor == "start" ? px - 4 : px - width
            let to = anchor == "start" ? px + width : px + 4
            let lane = laneEnds.firstIndex { $0 < from } ?? laneEnds.count
            if lane == laneEnds.count { laneEnds.append(to) } else { laneEnds[lane] = to }
            placed.append(Placed(x: px, lane: lane, anchor: anchor, title: title, date: dateText))
        }
        let laneHeight = 38.0, firstLane = axis + 30
        let height = firstLane + Double(max(laneEnds.count, 1)) * laneHeight + 4

        return frame(height: height) { svg in
            svg.empty("line", ["x1": n(left), "y1": n(axis), "x2": n(right), "y2": n(axis), "stroke": Color.ink, "stroke-width": "1.5"])
            for year in firstYear...lastYear + 1 {
                let px = x(Timestamp.CalendarDate(year: year, month: 1, day: 1)!)
                svg.empty("line", ["x1": n(px), "y1": n(axis - 5), "x2": n(px), "y2": n(axis + 5), "stroke": Color.ink])
                if year <= lastYear {
                    let next = x(Timestamp.CalendarDate(year: year + 1, month: 1, day: 1)!)
                    text(String(year), x: (px + next) / 2, y: axis - 10, size: 11.5, anchor: "middle", weight: "600", into: &svg)
                }
            }
            let valid = model.provenance.validDate
            if valid.daysSinceEpoch >= start, valid.daysSinceEpoch < end {
                let px = x(valid)
                svg.titled("line", ["x1": n(px), "y1": n(axis - 16), "x2": n(px), "y2": n(height - 2), "stroke": Color.muted,
                                    "stroke-dasharray": "3 3"], title: "\(l.validTime): \(l.date(valid))")
            }
            // Leader lines first, then the marks, then the labels on a white halo, so a
            // line to a lower lane passes behind the labels above it.
            for p in placed {
                let y = firstLane + Double(p.lane) * laneHeight
                svg.empty("line", ["x1": n(p.x), "y1": n(axis), "x2": n(p.x), "y2": n(y - 12), "stroke": Color.muted])
            }
            for (m, date) in items {
                var tooltip = "\(l.date(date)): \(m.title)"
                if let by = m.by { tooltip += " (\(by))" }
                svg.titled("circle", ["cx": n(x(date)), "cy": n(axis), "r": "6", "fill": Color.peers, "stroke": "#ffffff", "stroke-width": "2",
                                      "data-milestone": m.milestone, "data-occurred": m.occurred], title: tooltip)
            }
            svg.open("g", ["stroke": "#ffffff", "stroke-width": "4", "stroke-linejoin": "round", "paint-order": "stroke"])
            for p in placed {
                let y = firstLane + Double(p.lane) * laneHeight
                let tx = p.anchor == "start" ? p.x - 2 : p.x + 2
                text(p.date, x: tx, y: y, size: 10.5, anchor: p.anchor == "start" ? nil : "end", fill: Color.muted, into: &svg)
                text(p.title, x: tx, y: y + 15, size: 12, anchor: p.anchor == "start" ? nil : "end", weight: "600", into: &svg)
            }
            svg.close("g")
        }
    }

    // MARK: bullet bars

    /// A bar for one KPI row: the actual filled, the plan or target as a track and a mark.
    struct BulletBar {
        var row: KPIRow
        var color: String
        var valueText: String
        var tooltip: String
    }

    struct BulletGroup {
        var label: String
        var bars: [BulletBar]
        /// Which slots hold a bar, when a group leaves some empty (attendance by period).
        var slots: [Bool]? = nil
    }

    struct LegendItem {
        var label: String
        var color: String
        /// Drawn as a track with a target mark.
        var marker = false
    }

    private func bullets(_ groups: [BulletGroup], legend items: [LegendItem], barHeight: Double = 12, barGap: Double = 4,
                         groupGap: Double = 14, labelSize: Double = 12, valueSize: Double = 11) -> String {
        let labelWidth = 230.0, left = labelWidth + 12, valueWidth = 118.0
        let plotWidth = Charts.width - left - valueWidth
        let top = 40.0
        let values = groups.flatMap(\.bars).flatMap { [$0.row.actual ?? 0, $0.row.target ?? 0] }
        let scale = Charts.scale(values.max() ?? 0)
        func x(_ v: Int) -> Double { left + Double(v) / Double(scale.top) * plotWidth }
        func slots(_ group: BulletGroup) -> Int { group.slots?.count ?? group.bars.count }
        let lineHeight = labelSize + 1.5
        let wrapped = groups.map { Charts.wrap($0.label, width: labelWidth - 4, size: labelSize) }
        let heights = groups.indices.map { index in
            max(Double(slots(groups[index])) * (barHeight + barGap) - barGap, Double(wrapped[index].count) * lineHeight - 2)
        }
        let height = top + heights.reduce(0, +) + Double(groups.count) * groupGap + 26

        return frame(height: height) { svg in
            legend(items, y: 8, into: &svg)
            let bottom = height - 22
            for tick in stride(from: 0, through: scale.top, by: scale.step) {
                svg.empty("line", ["x1": n(x(tick)), "y1": n(top - 6), "x2": n(x(tick)), "y2": n(bottom), "stroke": tick == 0 ? Color.muted : Color.grid])
                text(labels.integer(tick), x: x(tick), y: bottom + 15, size: 10.5, anchor: "middle", fill: Color.muted, into: &svg)
            }
            var y = top
            for (index, group) in groups.enumerated() {
                let groupHeight = heights[index]
                svg.open("g")
                label(wrapped[index], title: group.label, x: labelWidth, centerY: y + groupHeight / 2, size: labelSize, into: &svg)
                var bars = group.bars.makeIterator()
                for slot in 0..<slots(group) {
                    if let present = group.slots?[slot], !present { continue }
                    guard let bar = bars.next() else { break }
                    let barsHeight = Double(slots(group)) * (barHeight + barGap) - barGap
                    let by = y + (groupHeight - barsHeight) / 2 + Double(slot) * (barHeight + barGap)
                    let actual = bar.row.actual ?? 0
                    var end = x(actual)
                    if let target = bar.row.target {
                        svg.empty("rect", ["x": n(left), "y": n(by), "width": n(x(target) - left), "height": n(barHeight), "fill": Color.track,
                                           "data-kpi": bar.row.kpi, "data-scope": bar.row.scope, "data-period": bar.row.period,
                                           "data-target": String(target)])
                        end = max(end, x(target))
                    }
                    svg.titled("rect", ["x": n(left), "y": n(by), "width": n(x(actual) - left), "height": n(barHeight), "fill": bar.color,
                                        "data-kpi": bar.row.kpi, "data-scope": bar.row.scope, "data-period": bar.row.period,
                                        "data-value": String(actual)], title: bar.tooltip)
                    if let target = bar.row.target {
                        svg.empty("line", ["x1": n(x(target)), "y1": n(by - 2), "x2": n(x(target)), "y2": n(by + barHeight + 2),
                                           "stroke": Color.ink, "stroke-width": "2"])
                    }
                    text(bar.valueText, x: end + 6, y: by + barHeight / 2 + valueSize / 3, size: valueSize, fill: Color.ink, into: &svg)
                }
                svg.close("g")
                y += groupHeight + groupGap
            }
        }
    }

    // MARK: pieces

    private func frame(height: Double, _ draw: (inout Markup) -> Void) -> String {
        var svg = Markup()
        svg.open("svg", ["viewBox": "0 0 \(n(Charts.width)) \(n(height))", "width": n(Charts.width), "height": n(height),
                         "role": "img", "aria-labelledby": titleID, "font-size": "12"])
        svg.element("title", ["id": titleID], title)
        draw(&svg)
        svg.close("svg")
        return svg.text
    }

    private func legend(_ items: [LegendItem], y: Double, into svg: inout Markup) {
        var x = 0.0
        for item in items {
            if item.marker {
                svg.empty("rect", ["x": n(x), "y": n(y + 1), "width": "18", "height": "10", "fill": item.color])
                svg.empty("line", ["x1": n(x + 14), "y1": n(y - 1), "x2": n(x + 14), "y2": n(y + 13), "stroke": Color.ink, "stroke-width": "2"])
            } else {
                svg.empty("rect", ["x": n(x), "y": n(y + 1), "width": "18", "height": "10", "fill": item.color])
            }
            text(item.label, x: x + 24, y: y + 10, size: 11.5, fill: Color.ink, into: &svg)
            x += 24 + Charts.textWidth(item.label, size: 11.5) + 18
        }
    }

    /// A dashed line at the valid time on a quarter axis.
    private func marker(at date: Timestamp.CalendarDate, first: Int, last: Int, left: Double, column: Double,
                        top: Double, bottom: Double, into svg: inout Markup) {
        let quarter = date.year * 4 + (date.month - 1) / 3
        guard quarter >= first, quarter <= last else { return }
        let startMonth = (quarter % 4) * 3 + 1
        let start = Timestamp.CalendarDate(year: date.year, month: startMonth, day: 1)!.daysSinceEpoch
        let next = (startMonth == 10 ? Timestamp.CalendarDate(year: date.year + 1, month: 1, day: 1)!
                    : Timestamp.CalendarDate(year: date.year, month: startMonth + 3, day: 1)!).daysSinceEpoch
        let x = left + (Double(quarter - first) + Double(date.daysSinceEpoch - start + 1) / Double(next - start)) * column
        svg.titled("line", ["x1": n(x), "y1": n(top), "x2": n(x), "y2": n(bottom), "stroke": Color.ink, "stroke-width": "1.5",
                            "stroke-dasharray": "4 3"], title: "\(labels.validTime): \(labels.date(date))")
    }

    /// A label of one or more lines, right-aligned at `x` and centred on `centerY`,
    /// with the whole text as its title.
    private func label(_ lines: [String], title: String, x: Double, centerY: Double, size: Double, into svg: inout Markup) {
        let lineHeight = size + 1.5
        let first = centerY - Double(lines.count - 1) * lineHeight / 2 + size / 3
        var markup = "<text x=\"\(n(x))\" y=\"\(n(first))\" font-size=\"\(n(size))\" text-anchor=\"end\" fill=\"\(Color.ink)\">"
        markup += "<title>\(Markup.escape(title))</title>"
        for (index, line) in lines.enumerated() {
            markup += "<tspan x=\"\(n(x))\" dy=\"\(index == 0 ? "0" : n(lineHeight))\">\(Markup.escape(line))</tspan>"
        }
        svg.raw("\n" + markup + "</text>")
    }

    private func text(_ content: String, x: Double, y: Double, size: Double, anchor: String? = nil, weight: String? = nil,
                      fill: String = Color.ink, into svg: inout Markup) {
        svg.element("text", ["x": n(x), "y": n(y), "font-size": n(size), "text-anchor": anchor, "font-weight": weight, "fill": fill], content)
    }

    private func n(_ value: Double) -> String { Markup.number(value) }

    // MARK: arithmetic

    /// A quarter as a running number: year × 4 + quarter − 1.
    static func quarterIndex(of period: Period) -> Int {
        period.year * 4 + (period.index - 1) * (period.length == .quarter ? 1 : period.length == .half ? 2 : 4)
    }

    static func quarters(in period: Period) -> Int {
        switch period.length {
        case .quarter: 1
        case .half: 2
        case .year: 4
        }
    }

    /// An axis from 0 to a round number at or above `maximum`, in at most 5 round steps.
    static func scale(_ maximum: Int) -> (top: Int, step: Int) {
        let maximum = max(maximum, 1)
        var magnitude = 1
        while true {
            for factor in [1, 2, 5] {
                let step = factor * magnitude
                let steps = (maximum + step - 1) / step
                if steps <= 5 { return (steps * step, step) }
            }
            magnitude *= 10
        }
    }

    /// An estimate of a sans-serif text's width; good enough to keep labels apart.
    static func textWidth(_ text: String, size: Double) -> Double {
        Double(text.count) * size * 0.56
    }

    /// The text broken at spaces into at most `lines` lines that fit `width`, the last
    /// cut with an ellipsis when the text is longer.
    static func wrap(_ text: String, width: Double, size: Double, lines: Int = 2) -> [String] {
        let fits = max(Int(width / (size * 0.56)), 2)
        var result: [String] = []
        var current = ""
        for word in text.split(separator: " ").map(String.init) {
            if current.isEmpty {
                current = word
            } else if current.count + 1 + word.count <= fits || result.count == lines - 1 {
                // On the last line the rest is collected and cut below.
                current += " " + word
            } else {
                result.append(current)
                current = word
            }
        }
        result.append(current)
        return result.map { fit($0, width: width, size: size) }
    }

    /// The text cut with an ellipsis to fit `width`.
    static func fit(_ text: String, width: Double, size: Double) -> String {
        let fits = Int(width / (size * 0.56))
        guard text.count > fits, fits > 1 else { return text }
        return String(text.prefix(fits - 1)).trimmingTrailingSpaces() + "…"
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
