import EventStore
import Foundation
@testable import Projections
import XCTest

/// Every row kind of SPEC §5's KPI table, and the rules under "Precisely", read through
/// `Ledger.view(validAt:).kpis` after appends through `Ledger.append`.
final class KPITests: XCTestCase {
    private func kpis(_ f: LedgerFixture, at validAt: String) throws -> [KPIRow] {
        try f.ledger.view(validAt: validAt).kpis
    }

    private func units(_ f: LedgerFixture, _ ids: [(String, Int?)]) throws {
        _ = try f.ledger.append(ids.map { id, headcount in
            var data = J(["unit": id, "name": id.uppercased()])
            if let headcount { data["headcount"] = .integer(headcount) }
            return NewEvent(type: "unit.registered", data: data, occurred: "2020-01-06", actor: "projektleder")
        })
    }

    // MARK: staff

    func testTheQuarterNamesTableAgreesWithPeriodInsideAndOutsideItsYears() throws {
        for year in [1, 1969, 1970, 2021, 2199, 2200, 9999] {
            for month in 1...12 {
                let date = try XCTUnwrap(Timestamp.CalendarDate(year: year, month: month, day: month == 2 ? 28 : 30))
                XCTAssertEqual(Period.quarterName(containing: date), Period(containing: date, length: .quarter).description, "\(date)")
            }
        }
    }

    func testARowIsWrittenAsTheCanonicalFormOfItsJSONTree() throws {
        var random = SplitMix64(seed: 8785)
        let texts = ["", "peers.employed", "k24-p1639->k24-cpi", "æøå – ✓", "quote \" back \\ slash", "tab\t nl\n \u{1} \u{1F}", "\u{7F} \u{2028} 😀", "2021-Q3"]
        func text() -> String { texts[Int(random.next() % UInt64(texts.count))] }
        func integer() -> Int? {
            switch random.next() % 4 {
            case 0: nil
            case 1: 0
            case 2: -Int(random.next() % 1_000_000)
            default: Int(random.next() % UInt64(Int.max))
            }
        }
        for _ in 0..<2000 {
            let met: Bool? = [nil, true, false][Int(random.next() % 3)]
            let row = KPIRow(kpi: text(), scope: text(), period: random.next() % 3 == 0 ? nil : text(), actual: integer(), target: integer(), met: met)
            var direct: [UInt8] = []
            row.encode(into: &direct)
            XCTAssertEqual(String(decoding: direct, as: UTF8.self), CanonicalJSON.string(row.json), "\(row)")
        }
        let rows = [KPIRow(kpi: "a", scope: "b", period: nil, actual: 1, target: nil, met: nil), KPIRow(kpi: "c", scope: "d", period: "2021", actual: nil, target: 2, met: false)]
        XCTAssertEqual(String(decoding: KPIRow.encode(rows, in: JSONObject(["head": .string("h")])), as: UTF8.self),
                       CanonicalJSON.string(.object(JSONObject(["head": .string("h"), "rows": .array(rows.map(\.json))]))))
    }

    func testRowsAreSortedAsTheirStringsCompare() throws {
        var random = SplitMix64(seed: 5)
        // Canonically equivalent spellings ("é" composed and decomposed) compare equal as strings.
        let texts = ["", "a", "b", "B", "ab", "a-b", "ø", "å", "\u{E9}", "e\u{301}", "z", "2021-Q1", "2021-Q2", "2021"]
        func text() -> String { texts[Int(random.next() % UInt64(texts.count))] }
        let rows = (0..<3000).map { index in
            KPIRow(kpi: text(), scope: text(), period: random.next() % 4 == 0 ? nil : text(), actual: index, target: nil, met: nil)
        }
        let expected = rows.sorted { a, b in (a.kpi, a.scope, a.period ?? "") < (b.kpi, b.scope, b.period ?? "") }
        XCTAssertEqual(KPI.sortedByKPIScopeAndPeriod(rows), expected)
    }

    func testStaffKPIsCountPeersAndProfessionalsPerOpenTeamAgainstItsPlan() throws {
        let f = try LedgerFixture(self)
        try units(f, [("cpi", 42), ("ungecenteret", 8)])
        try f.append(
            fact("team.established", ["team": "bosteder-peers", "name": "Peerteam", "kind": "peer-team", "units": ["cpi"], "plan": J(["peers": 3])], on: "2020-03-01"),
            fact("team.established", ["team": "sundhed-delt", "name": "Delt stilling", "kind": "shared-post", "units": ["ungecenteret"],
                                      "plan": J(["peers": 1, "professionals": 1])], on: "2020-03-01"),
            fact("team.established", ["team": "projektledelse", "name": "Projektledelse", "kind": "project-management", "units": ["cpi"]], on: "2020-02-01"),
            fact("team.established", ["team": "videnscenter", "name": "Videnscenter", "kind": "working-group", "units": ["cpi"]], on: "2020-03-01"),
            fact("staff.hired", ["person": "peer-01", "role": "peer", "team": "bosteder-peers"], on: "2020-04-01"),
            fact("staff.hired", ["person": "peer-02", "role": "peer", "team": "bosteder-peers"], on: "2020-09-01"),
            fact("staff.hired", ["person": "prof-01", "role": "professional", "team": "sundhed-delt"], on: "2020-04-01"),
            fact("staff.hired", ["person": "pl-01", "role": "project-leader", "team": "projektledelse", "hoursPerWeek": 37], on: "2020-02-01"),
            fact("staff.hired", ["person": "peer-03", "role": "peer", "team": "videnscenter"], on: "2020-04-01"),
            fact("team.closed", ["team": "videnscenter"], on: "2021-06-30"),
            fact("staff.left", ["person": "peer-01"], on: "2021-01-31")
        )

        let end2020 = try kpis(f, at: "2020-12-31")
        XCTAssertEqual(end2020.row("peers.employed", "bosteder-peers")?.brief, "- 2/3 false")
        XCTAssertEqual(end2020.row("peers.employed", "sundhed-delt")?.brief, "- 0/1 false")
        XCTAssertEqual(end2020.row("professionals.employed", "sundhed-delt")?.brief, "- 1/1 true")
        XCTAssertEqual(end2020.row("peers.employed", "videnscenter")?.brief, "- 1/- null", "closed only in 2021")
        XCTAssertEqual(end2020.row("professionals.employed", "bosteder-peers")?.brief, "- 0/- null")

        let summer2020 = try kpis(f, at: "2020-08-31")
        XCTAssertEqual(summer2020.row("peers.employed", "bosteder-peers")?.brief, "- 1/3 false", "peer-02 starts in September")

        let end2021 = try kpis(f, at: "2021-12-31")
        XCTAssertEqual(end2021.row("peers.employed", "bosteder-peers")?.brief, "- 1/3 false", "peer-01 left in January")
        XCTAssertTrue(end2021.filter { $0.scope == "videnscenter" }.isEmpty, "a closed team has no staff rows")

        // A team established after the valid time has no rows yet.
        XCTAssertTrue(try kpis(f, at: "2020-02-29").filter { $0.scope == "bosteder-peers" }.isEmpty)
    }

    func testTheProjectLeaderCountsInNeitherStaffKPI() throws {
        let f = try LedgerFixture(self)
        try units(f, [("cpi", 42)])
        try f.append(
            fact("team.established", ["team": "projektledelse", "name": "Projektledelse", "kind": "project-management", "units": ["cpi"],
                                      "plan": J(["peers": 0, "professionals": 1])], on: "2020-02-01"),
            fact("staff.hired", ["person": "pl-01", "role": "project-leader", "team": "projektledelse"], on: "2020-02-01")
        )
        let rows = try kpis(f, at: "2020-12-31")
        XCTAssertEqual(rows.row("peers.employed", "projektledelse")?.brief, "- 0/0 true")
        XCTAssertEqual(rows.row("professionals.employed", "projektledelse")?.brief, "- 0/1 false")
        XCTAssertEqual(rows.row("units.with-peer", "project")?.brief, "- 0/1 false")
    }

    func testUnitsWithPeerCountsRegisteredUnitsNamedByATeamWithAPeer() throws {
        let f = try LedgerFixture(self)
        try units(f, [("cpi", nil), ("ungecenteret", nil), ("jobcenter-uur", nil), ("recoveryskolen", nil), ("psykiatriens-hus", nil)])
        try f.append(
            fact("team.established", ["team": "unge-peers", "name": "T", "kind": "peer-team", "units": ["ungecenteret", "cpi"]], on: "2020-03-01"),
            fact("team.established", ["team": "job-peers", "name": "T", "kind": "peer-team", "units": ["jobcenter-uur", "cpi"]], on: "2020-03-01"),
            fact("team.established", ["team": "skole", "name": "T", "kind": "school-boost", "units": ["recoveryskolen"]], on: "2020-03-01"),
            fact("staff.hired", ["person": "peer-01", "role": "peer", "team": "unge-peers"], on: "2020-04-01"),
            fact("staff.hired", ["person": "prof-01", "role": "professional", "team": "job-peers"], on: "2020-04-01"),
            fact("staff.hired", ["person": "peer-02", "role": "peer", "team": "skole"], on: "2020-04-01"),
            fact("team.closed", ["team": "skole"], on: "2021-01-01"),
            fact("staff.hired", ["person": "peer-03", "role": "peer", "team": "job-peers"], on: "2021-03-01")
        )
        // 2020: ungecenteret and cpi (unge-peers), recoveryskolen (skole); not jobcenter-uur (a professional only).
        XCTAssertEqual(try kpis(f, at: "2020-12-31").row("units.with-peer", "project")?.brief, "- 3/5 false")
        // Early 2021: skole closed, so recoveryskolen drops out.
        XCTAssertEqual(try kpis(f, at: "2021-02-01").row("units.with-peer", "project")?.brief, "- 2/5 false")
        // A peer in job-peers adds jobcenter-uur; cpi is counted once.
        XCTAssertEqual(try kpis(f, at: "2021-03-01").row("units.with-peer", "project")?.brief, "- 3/5 false")
        try f.append(fact("staff.left", ["person": "peer-01"], on: "2021-04-01"))
        XCTAssertEqual(try kpis(f, at: "2021-04-01").row("units.with-peer", "project")?.brief, "- 2/5 false", "ungecenteret has no peer left")
    }

    // MARK: training

    func testTrainingParticipantsHasARowPerUnitAgainstItsLatestHeadcount() throws {
        let f = try LedgerFixture(self)
        try units(f, [("cpi", 42), ("ungecenteret", 8), ("jobcenter-uur", nil), ("psykiatriens-hus", 5), ("recoveryskolen", nil)])
        try f.append(
            fact("training.held", ["training": "themedag", "title": "Temadag", "kind": "theme-day", "participants": J(["cpi": 10])], on: "2020-09-15"),
            fact("training.held", ["training": "faelles-1", "title": "Fælles", "kind": "joint-competence-development",
                                   "participants": J(["ungecenteret": 8, "cpi": 30]), "provider": "recoveryskolen",
                                   "teachers": J(["professionals": 1, "peers": 1]), "hours": 12], on: "2020-11-10"),
            fact("unit.updated", ["unit": "cpi", "headcount": 40], on: "2021-06-01"),
            fact("unit.updated", ["unit": "jobcenter-uur", "headcount": 32], on: "2021-06-01")
        )
        let before = try kpis(f, at: "2021-05-31")
        XCTAssertEqual(before.row("training.participants", "cpi")?.brief, "- 40/42 false")
        XCTAssertEqual(before.row("training.participants", "ungecenteret")?.brief, "- 8/8 true")
        XCTAssertEqual(before.row("training.participants", "jobcenter-uur")?.brief, "- 0/- null")
        XCTAssertEqual(before.row("training.participants", "psykiatriens-hus")?.brief, "- 0/5 false")
        XCTAssertEqual(before.row("training.participants", "recoveryskolen")?.brief, "- 0/- null", "the provider is not a participant")

        let after = try kpis(f, at: "2021-06-01")
        XCTAssertEqual(after.row("training.participants", "cpi")?.brief, "- 40/40 true")
        XCTAssertEqual(after.row("training.participants", "jobcenter-uur")?.brief, "- 0/32 false")

        XCTAssertEqual(try kpis(f, at: "2020-10-01").row("training.participants", "cpi")?.brief, "- 10/42 false")
    }

    func testTheLatestHeadcountIsTheLatestInValidTimeNotTheLastRecorded() throws {
        // A figure for January, recorded after one for June, does not replace it from June on.
        let f = try LedgerFixture(self)
        try units(f, [("cpi", nil), ("ungecenteret", 8)])
        try f.append(
            fact("unit.updated", ["unit": "cpi", "headcount": 50, "name": "CPI juni"], on: "2021-06-01"),
            fact("unit.updated", ["unit": "cpi", "headcount": 45, "name": "CPI januar"], on: "2021-01-01"),
            fact("unit.updated", ["unit": "ungecenteret", "headcount": 6], on: "2019-06-01"),
            fact("unit.updated", ["unit": "ungecenteret", "headcount": 9], on: "2021-06-01T08:00:00+02:00"),
            fact("unit.updated", ["unit": "ungecenteret", "headcount": 10], on: "2021-06-01")
        )
        XCTAssertEqual(try kpis(f, at: "2020-12-31").row("training.participants", "cpi")?.target, nil)
        XCTAssertEqual(try kpis(f, at: "2021-03-31").row("training.participants", "cpi")?.target, 45)
        XCTAssertEqual(try kpis(f, at: "2021-12-31").row("training.participants", "cpi")?.target, 50)
        XCTAssertEqual(try f.ledger.view(validAt: "2021-12-31").state.units["cpi"]?.name, "CPI juni")
        // Earlier than the registration's own figure: the registration's stands.
        XCTAssertEqual(try kpis(f, at: "2020-12-31").row("training.participants", "ungecenteret")?.target, 8)
        // Two on the same day: the later by seq.
        XCTAssertEqual(try kpis(f, at: "2021-12-31").row("training.participants", "ungecenteret")?.target, 10)
    }

    func testTrainingHeldHasARowPerKindWithATraining() throws {
        let f = try LedgerFixture(self)
        try units(f, [("cpi", 42)])
        XCTAssertTrue(try kpis(f, at: "2022-12-31").filter { $0.kpi == "training.held" }.isEmpty)
        try f.append(
            fact("training.held", ["training": "t1", "title": "T", "kind": "theme-day", "participants": J(["cpi": 10])], on: "2020-09-15"),
            fact("training.held", ["training": "t2", "title": "T", "kind": "theme-day", "participants": J(["cpi": 12])], on: "2021-09-15"),
            fact("training.held", ["training": "t3", "title": "T", "kind": "peer-education", "participants": J(["cpi": 8])], on: "2021-02-01")
        )
        let rows = try kpis(f, at: "2021-12-31").filter { $0.kpi == "training.held" }
        XCTAssertEqual(rows.map { "\($0.scope) \($0.brief)" }, ["peer-education - 1/- null", "theme-day - 2/- null"])
        XCTAssertEqual(try kpis(f, at: "2020-12-31").row("training.held", "theme-day")?.actual, 1)
    }

    // MARK: meetings

    func testMeetingsHeldHasARowPerPeriodOfTheCadenceFromEstablishmentToTheValidTime() throws {
        let f = try LedgerFixture(self)
        var events: [NewEvent] = []
        for (body, cadence) in [("q", "quarterly"), ("h", "half-yearly"), ("y", "yearly"), ("f", "4-per-year"), ("a", "as-needed"), ("n", nil)] {
            var data = J(["body": body, "name": body.uppercased(), "kind": "steering-group"])
            if let cadence { data["cadence"] = .string(cadence) }
            events.append(NewEvent(type: "body.established", data: data, occurred: "2021-02-15", actor: "projektleder"))
        }
        var n = 0
        func meeting(_ body: String, _ date: String) -> NewEvent {
            n += 1
            return fact("meeting.held", ["meeting": "\(body)-\(n)", "body": body], on: date)
        }
        events += [
            meeting("q", "2021-03-01"), meeting("q", "2021-06-30"), meeting("q", "2021-06-30T23:59:00+02:00"), meeting("q", "2021-08-16"),
            meeting("h", "2021-07-01"),
            meeting("f", "2021-03-01"), meeting("f", "2021-05-01"), meeting("f", "2021-08-01"),
            meeting("a", "2021-04-01"), meeting("a", "2021-05-01"),
            meeting("n", "2021-06-01"),
        ]
        _ = try f.ledger.append(events)

        let rows = try kpis(f, at: "2021-08-15")
        XCTAssertEqual(rows.summary("meetings.held", "q"), ["2021-Q1 1/1 true", "2021-Q2 2/1 true", "2021-Q3 0/1 null"],
                       "the meeting on 16 August is after the valid time; Q3 is running")
        XCTAssertEqual(rows.summary("meetings.held", "h"), ["2021-H1 0/1 false", "2021-H2 1/1 true"], "a running period is met once reached")
        XCTAssertEqual(rows.summary("meetings.held", "y"), ["2021 0/1 null"])
        XCTAssertEqual(rows.summary("meetings.held", "f"), ["2021 3/4 null"])
        XCTAssertEqual(rows.summary("meetings.held", "a"), ["2021 2/- null"])
        XCTAssertEqual(rows.summary("meetings.held", "n"), ["2021 1/- null"])

        let next = try kpis(f, at: "2022-01-10")
        XCTAssertEqual(next.summary("meetings.held", "q"), ["2021-Q1 1/1 true", "2021-Q2 2/1 true", "2021-Q3 1/1 true", "2021-Q4 0/1 false", "2022-Q1 0/1 null"])
        XCTAssertEqual(next.summary("meetings.held", "h"), ["2021-H1 0/1 false", "2021-H2 1/1 true", "2022-H1 0/1 null"])
        XCTAssertEqual(next.summary("meetings.held", "y"), ["2021 0/1 false", "2022 0/1 null"])
        XCTAssertEqual(next.summary("meetings.held", "f"), ["2021 3/4 false", "2022 0/4 null"])
        XCTAssertEqual(next.summary("meetings.held", "a"), ["2021 2/- null", "2022 0/- null"])
        XCTAssertEqual(next.summary("meetings.held", "n"), ["2021 1/- null", "2022 0/- null"])

        // On the day of establishment there is one running row; before it, none.
        XCTAssertEqual(try kpis(f, at: "2021-02-15").summary("meetings.held", "q"), ["2021-Q1 0/1 null"])
        XCTAssertEqual(try kpis(f, at: "2021-02-14").summary("meetings.held", "q"), [])
    }

    func testMeetingsAcrossYearsStartAtTheEstablishmentPeriod() throws {
        let f = try LedgerFixture(self)
        try f.append(
            fact("body.established", ["body": "impl", "name": "Implementeringsteam", "kind": "implementation-team", "cadence": "quarterly"], on: "2020-11-20"),
            fact("meeting.held", ["meeting": "impl-1", "body": "impl"], on: "2020-12-01"),
            fact("meeting.held", ["meeting": "impl-2", "body": "impl"], on: "2021-01-01")
        )
        XCTAssertEqual(try kpis(f, at: "2021-04-01").summary("meetings.held", "impl"),
                       ["2020-Q4 1/1 true", "2021-Q1 1/1 true", "2021-Q2 0/1 null"])
    }

    // MARK: handovers

    func testHandoverCountsAndTheLowerMedianOfDaysPerPair() throws {
        let f = try LedgerFixture(self)
        try units(f, [("cpi", nil), ("ungecenteret", nil), ("jobcenter-uur", nil)])
        try f.append(
            fact("team.established", ["team": "unge-peers", "name": "T", "kind": "peer-team", "units": ["ungecenteret", "cpi"]], on: "2020-03-01"),
            fact("staff.hired", ["person": "peer-01", "role": "peer", "team": "unge-peers"], on: "2020-04-01"),
            fact("handover.started", ["case": "c1", "from": "ungecenteret", "to": "cpi", "peer": "peer-01", "ageBand": "18-23"], on: "2021-01-01"),
            fact("handover.started", ["case": "c2", "from": "ungecenteret", "to": "cpi"], on: "2021-01-01"),
            fact("handover.started", ["case": "c3", "from": "ungecenteret", "to": "cpi", "peer": "peer-01"], on: "2021-02-01"),
            fact("handover.started", ["case": "c4", "from": "ungecenteret", "to": "cpi"], on: "2021-01-01"),
            fact("handover.started", ["case": "c5", "from": "ungecenteret", "to": "cpi"], on: "2021-01-05"),
            fact("handover.started", ["case": "c6", "from": "ungecenteret", "to": "cpi", "peer": "peer-01"], on: "2021-03-01"),
            fact("handover.started", ["case": "j1", "from": "jobcenter-uur", "to": "cpi"], on: "2021-02-01"),
            fact("handover.completed", ["case": "c1", "outcome": "accepted"], on: "2021-01-11"),  // 10 days
            fact("handover.completed", ["case": "c2"], on: "2021-01-21"),  // 20 days
            fact("handover.completed", ["case": "c3"], on: "2021-03-13T09:00:00+01:00"),  // 40 days (28-day February)
            fact("handover.completed", ["case": "c4", "outcome": "redirected"], on: "2021-03-22"),  // 80 days
            fact("handover.cancelled", ["case": "c5", "reason": "Flyttet"], on: "2021-01-06")
        )
        let end = try kpis(f, at: "2021-12-31")
        let pair = "ungecenteret->cpi"
        XCTAssertEqual(end.row("handovers.started", pair)?.actual, 6)
        XCTAssertEqual(end.row("handovers.completed", pair)?.actual, 4)
        XCTAssertEqual(end.row("handovers.open", pair)?.actual, 1)
        XCTAssertEqual(end.row("handovers.with-peer", pair)?.actual, 3)
        XCTAssertEqual(end.row("handovers.median-days", pair)?.brief, "- 20/- null", "10, 20, 40, 80: the lower middle")

        XCTAssertEqual(end.row("handovers.started", "jobcenter-uur->cpi")?.actual, 1)
        XCTAssertEqual(end.row("handovers.completed", "jobcenter-uur->cpi")?.actual, 0)
        XCTAssertEqual(end.row("handovers.median-days", "jobcenter-uur->cpi")?.brief, "- null/- null", "none completed")
        XCTAssertTrue(end.filter { $0.scope == "cpi->ungecenteret" }.isEmpty)

        XCTAssertEqual(try kpis(f, at: "2021-01-15").row("handovers.median-days", pair)?.actual, 10)
        XCTAssertEqual(try kpis(f, at: "2021-01-25").row("handovers.median-days", pair)?.actual, 10, "10, 20: the lower middle")
        XCTAssertEqual(try kpis(f, at: "2021-03-15").row("handovers.median-days", pair)?.actual, 20, "10, 20, 40: the middle")
        let early = try kpis(f, at: "2021-01-15")
        XCTAssertEqual(early.row("handovers.open", pair)?.actual, 2, "c2 and c4; c1 is completed, c5 cancelled, c3 and c6 not started yet")
        XCTAssertEqual(early.row("handovers.started", pair)?.actual, 4)
    }

    // MARK: attendance

    func testAttendanceSumsPerOfferAndPerVenueAndPeriod() throws {
        let f = try LedgerFixture(self)
        try units(f, [("psykiatriens-hus", nil), ("recoveryskolen", nil)])
        try f.append(
            fact("attendance.counted", ["offer": "nada", "venue": "psykiatriens-hus", "period": "2021-H1", "contacts": 127, "citizens": 40], on: "2021-07-01"),
            fact("attendance.counted", ["offer": "nada", "venue": "psykiatriens-hus", "period": "2021-H1", "contacts": 10], on: "2021-07-02"),
            fact("attendance.counted", ["offer": "nada", "venue": "recoveryskolen", "period": "2021-H1", "contacts": 5], on: "2021-07-01"),
            fact("attendance.counted", ["offer": "fitness", "venue": "psykiatriens-hus", "period": "2021-H1", "contacts": 44], on: "2021-07-01"),
            fact("attendance.counted", ["offer": "nada", "venue": "psykiatriens-hus", "period": "2021-H2", "contacts": 100], on: "2022-01-05"),
            fact("attendance.counted", ["offer": "nada", "venue": "psykiatriens-hus", "period": "2021", "contacts": 300], on: "2022-01-05")
        )
        let rows = try kpis(f, at: "2022-06-30").filter { $0.kpi == "attendance.contacts" }
        XCTAssertEqual(rows.map { "\($0.scope) \($0.brief)" }, [
            "fitness 2021-H1 44/- null",
            "nada 2021 300/- null",
            "nada 2021-H1 142/- null",
            "nada 2021-H2 100/- null",
            "psykiatriens-hus 2021 300/- null",
            "psykiatriens-hus 2021-H1 181/- null",
            "psykiatriens-hus 2021-H2 100/- null",
            "recoveryskolen 2021-H1 5/- null",
        ])
        // Counted by occurred: the H2 figure is known from January 2022.
        XCTAssertNil(try kpis(f, at: "2021-12-31").filter { $0.kpi == "attendance.contacts" && $0.period == "2021-H2" }.first)
    }

    // MARK: targets

    func testTargetSetReplacesTheTargetOfMatchingRowsLatestBySeqWinning() throws {
        let f = try LedgerFixture(self)
        try units(f, [("cpi", 42)])
        try f.append(
            fact("team.established", ["team": "bosteder-peers", "name": "T", "kind": "peer-team", "units": ["cpi"], "plan": J(["peers": 3])], on: "2020-03-01"),
            fact("staff.hired", ["person": "peer-01", "role": "peer", "team": "bosteder-peers"], on: "2020-04-01"),
            fact("staff.hired", ["person": "peer-02", "role": "peer", "team": "bosteder-peers"], on: "2020-04-01"),
            fact("body.established", ["body": "impl", "name": "Impl", "kind": "implementation-team", "cadence": "quarterly"], on: "2021-01-01"),
            fact("body.established", ["body": "lokal", "name": "Lokal", "kind": "local-implementation-team", "cadence": "as-needed"], on: "2021-01-01"),
            fact("meeting.held", ["meeting": "impl-1", "body": "impl"], on: "2021-02-01"),
            fact("meeting.held", ["meeting": "impl-2", "body": "impl"], on: "2021-05-01"),
            fact("meeting.held", ["meeting": "lokal-1", "body": "lokal"], on: "2021-05-01")
        )
        let plain = try kpis(f, at: "2021-12-31")
        XCTAssertEqual(plain.row("peers.employed", "bosteder-peers")?.brief, "- 2/3 false")
        XCTAssertEqual(plain.summary("meetings.held", "impl"), ["2021-Q1 1/1 true", "2021-Q2 1/1 true", "2021-Q3 0/1 false", "2021-Q4 0/1 null"])

        // Without a period: every row of that kpi and scope.
        try f.append(
            fact("target.set", ["kpi": "peers.employed", "scope": "bosteder-peers", "value": 2], on: "2021-01-01", id: fixtureID(100)),
            fact("target.set", ["kpi": "meetings.held", "scope": "impl", "value": 2], on: "2021-01-01"),
            fact("target.set", ["kpi": "meetings.held", "scope": "lokal", "value": 1], on: "2021-01-01"),
            fact("target.set", ["kpi": "training.participants", "scope": "cpi", "value": 30], on: "2021-01-01"),
            fact("target.set", ["kpi": "peers.employed", "scope": "no-such-team", "value": 2], on: "2021-01-01")
        )
        var rows = try kpis(f, at: "2021-12-31")
        XCTAssertEqual(rows.row("peers.employed", "bosteder-peers")?.brief, "- 2/2 true")
        XCTAssertEqual(rows.summary("meetings.held", "impl"), ["2021-Q1 1/2 false", "2021-Q2 1/2 false", "2021-Q3 0/2 false", "2021-Q4 0/2 null"])
        XCTAssertEqual(rows.summary("meetings.held", "lokal"), ["2021 1/1 true"], "an as-needed body gets a target only from target.set")
        XCTAssertEqual(rows.row("training.participants", "cpi")?.brief, "- 0/30 false")
        XCTAssertTrue(rows.filter { $0.scope == "no-such-team" }.isEmpty, "a target makes no row of its own")

        // With a period: that row only; a later one without a period replaces it again.
        try f.append(fact("target.set", ["kpi": "meetings.held", "scope": "impl", "value": 1, "period": "2021-Q2"], on: "2021-01-01"))
        rows = try kpis(f, at: "2021-12-31")
        XCTAssertEqual(rows.summary("meetings.held", "impl"), ["2021-Q1 1/2 false", "2021-Q2 1/1 true", "2021-Q3 0/2 false", "2021-Q4 0/2 null"])
        try f.append(fact("target.set", ["kpi": "meetings.held", "scope": "impl", "value": 3], on: "2021-01-01"))
        rows = try kpis(f, at: "2021-12-31")
        XCTAssertEqual(rows.summary("meetings.held", "impl"), ["2021-Q1 1/3 false", "2021-Q2 1/3 false", "2021-Q3 0/3 false", "2021-Q4 0/3 null"])

        // A period that is no row's period changes nothing; a staff row has no period.
        try f.append(fact("target.set", ["kpi": "peers.employed", "scope": "bosteder-peers", "value": 9, "period": "2021"], on: "2021-01-01"))
        XCTAssertEqual(try kpis(f, at: "2021-12-31").row("peers.employed", "bosteder-peers")?.brief, "- 2/2 true")

        // A correction changes the value; a retraction brings back what stood before.
        try f.append(fact("event.corrected", ["target": fixtureID(100), "reason": "ny plan", "changes": J(["value": 1])], on: "2021-02-01"))
        XCTAssertEqual(try kpis(f, at: "2021-12-31").row("peers.employed", "bosteder-peers")?.brief, "- 2/1 true")
        try f.append(fact("event.retracted", ["target": fixtureID(100), "reason": "fejl"], on: "2021-02-01"))
        XCTAssertEqual(try kpis(f, at: "2021-12-31").row("peers.employed", "bosteder-peers")?.brief, "- 2/3 false")

        // A target counts from its occurred date.
        try f.append(fact("target.set", ["kpi": "peers.employed", "scope": "bosteder-peers", "value": 2], on: "2022-01-01"))
        XCTAssertEqual(try kpis(f, at: "2021-12-31").row("peers.employed", "bosteder-peers")?.brief, "- 2/3 false")
        XCTAssertEqual(try kpis(f, at: "2022-01-01").row("peers.employed", "bosteder-peers")?.brief, "- 2/2 true")
    }

    func testAnyRowOfARunningPeriodIsMetOnlyOnceReached() throws {
        // SPEC §5: met is null while the period is still running, for attendance as for meetings.
        let f = try LedgerFixture(self)
        try units(f, [("psykiatriens-hus", nil)])
        try f.append(
            fact("attendance.counted", ["offer": "nada", "venue": "psykiatriens-hus", "period": "2021-H1", "contacts": 90], on: "2021-07-01"),
            fact("attendance.counted", ["offer": "nada", "venue": "psykiatriens-hus", "period": "2021-H2", "contacts": 60], on: "2021-08-01"),
            fact("target.set", ["kpi": "attendance.contacts", "scope": "nada", "value": 100], on: "2021-01-01")
        )
        let running = try kpis(f, at: "2021-08-15")
        XCTAssertEqual(running.summary("attendance.contacts", "nada"), ["2021-H1 90/100 false", "2021-H2 60/100 null"])
        try f.append(fact("attendance.counted", ["offer": "nada", "venue": "psykiatriens-hus", "period": "2021-H2", "contacts": 50], on: "2021-09-01"))
        XCTAssertEqual(try kpis(f, at: "2021-09-01").summary("attendance.contacts", "nada"), ["2021-H1 90/100 false", "2021-H2 110/100 true"])
        XCTAssertEqual(try kpis(f, at: "2022-01-01").summary("attendance.contacts", "nada"), ["2021-H1 90/100 false", "2021-H2 110/100 true"])
    }

    // MARK: always there

    func testUnitsWithPeerAndMilestonesReachedAlwaysHaveARow() throws {
        let f = try LedgerFixture(self)
        XCTAssertEqual(try kpis(f, at: "2021-12-31").map { "\($0.kpi) \($0.scope) \($0.brief)" },
                       ["milestones.reached project - 0/- null", "units.with-peer project - 0/0 true"])
        try f.append(fact("evaluation.milestone", ["milestone": "baseline", "title": "Baseline"], on: "2020-09-30"),
                     fact("evaluation.milestone", ["milestone": "interim-1", "title": "Interim 1", "by": "PwC", "findings": ["Ressourcefokus"]], on: "2021-03-31"))
        XCTAssertEqual(try kpis(f, at: "2021-03-30").row("milestones.reached", "project")?.actual, 1)
        XCTAssertEqual(try kpis(f, at: "2021-03-31").row("milestones.reached", "project")?.actual, 2)
        try f.append(fact("target.set", ["kpi": "milestones.reached", "scope": "project", "value": 4], on: "2020-01-01"))
        XCTAssertEqual(try kpis(f, at: "2021-03-31").row("milestones.reached", "project")?.brief, "- 2/4 false")
    }

    func testRowsAreSortedByKpiScopeAndPeriod() throws {
        let f = try LedgerFixture(self)
        try units(f, [("cpi", 42), ("ungecenteret", 8)])
        try f.append(
            fact("body.established", ["body": "sg", "name": "SG", "kind": "steering-group", "cadence": "quarterly"], on: "2020-10-01"),
            fact("body.established", ["body": "impl", "name": "Impl", "kind": "implementation-team", "cadence": "half-yearly"], on: "2020-01-01"),
            fact("team.established", ["team": "b", "name": "B", "kind": "peer-team", "units": ["cpi"]], on: "2020-01-01"),
            fact("team.established", ["team": "a", "name": "A", "kind": "peer-team", "units": ["cpi"]], on: "2020-01-01"),
            fact("handover.started", ["case": "c1", "from": "ungecenteret", "to": "cpi"], on: "2021-01-01"),
            fact("handover.started", ["case": "c2", "from": "cpi", "to": "ungecenteret"], on: "2021-01-01"),
            fact("attendance.counted", ["offer": "nada", "venue": "cpi", "period": "2021-H2", "contacts": 1], on: "2022-01-01"),
            fact("attendance.counted", ["offer": "nada", "venue": "cpi", "period": "2021-H1", "contacts": 1], on: "2022-01-01")
        )
        let rows = try kpis(f, at: "2022-06-30")
        let keys = rows.map { [$0.kpi, $0.scope, $0.period ?? ""] }
        XCTAssertEqual(keys, keys.sorted { $0.lexicographicallyPrecedes($1) })
        XCTAssertEqual(rows.filter { $0.kpi == "meetings.held" }.map { "\($0.scope) \($0.period ?? "")" }, [
            "impl 2020-H1", "impl 2020-H2", "impl 2021-H1", "impl 2021-H2", "impl 2022-H1",
            "sg 2020-Q4", "sg 2021-Q1", "sg 2021-Q2", "sg 2021-Q3", "sg 2021-Q4", "sg 2022-Q1", "sg 2022-Q2",
        ])
    }
}
