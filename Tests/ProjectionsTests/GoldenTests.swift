import EventStore
import Foundation
@testable import Projections
import XCTest

/// `state --json`, `kpi --json` and the audit trail of a hand-made scenario log that
/// holds every event type of the catalog, compared with the files in `Golden/`.
///
/// `RECORD_GOLDEN=1 swift test --filter GoldenTests` rewrites them; review the diff.
final class GoldenTests: XCTestCase {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let asOf = "2022-12-31"
    static let validAt = "2022-12-31"

    /// Randers' project in miniature, 2020–2022, every id and time fixed.
    static func makeScenario(at path: String) throws -> ScenarioLog {
        var s = try ScenarioLog(at: path)
        let application = "002_5aa9cde626769740.txt, Projektets aktiviteter"

        // Units (seq 1–6).
        try s.add("unit.registered", ["unit": "cpi", "name": "Center for Psykiatri", "headcount": 42], on: "2020-01-06", source: application)
        try s.add("unit.registered", ["unit": "ungecenteret", "name": "UngeCenteret", "headcount": 8], on: "2020-01-06", source: application)
        try s.add("unit.registered", ["unit": "jobcenter-uur", "name": "Jobcenter Randers / UUR", "headcount": 30], on: "2020-01-06", source: application)
        try s.add("unit.registered", ["unit": "sundhedscenteret", "name": "Randers Sundhedscenter", "headcount": 45], on: "2020-01-06", source: application)
        try s.add("unit.registered", ["unit": "recoveryskolen", "name": "Recoveryskolen", "parent": "cpi"], on: "2020-01-06")
        try s.add("unit.registered", ["unit": "psykiatriens-hus", "name": "Psykiatriens Hus", "parent": "cpi"], on: "2020-01-06")

        // Governance (7–12).
        try s.add("body.established", ["body": "styregruppe", "name": "Styregruppe", "kind": "steering-group", "cadence": "4-per-year"], on: "2020-01-15")
        try s.add("body.established", ["body": "implementeringsteam", "name": "Implementeringsteam", "kind": "implementation-team", "cadence": "quarterly"],
                  on: "2020-02-01")
        try s.add("body.established", ["body": "lokal-impl", "name": "Lokalt implementeringsteam", "kind": "local-implementation-team", "cadence": "as-needed"],
                  on: "2020-02-01")
        try s.add("body.established", ["body": "ledermoede", "name": "Tværgående ledermøde", "kind": "leaders-meeting", "cadence": "half-yearly"], on: "2020-03-01")
        try s.add("body.established", ["body": "socialudvalget", "name": "Socialudvalget", "kind": "political-committee", "cadence": "yearly"], on: "2020-03-01")
        try s.add("body.established", ["body": "dialogforum", "name": "Dialogforum", "kind": "dialogue-forum"], on: "2020-03-01")

        // Teams and staff (13–24).
        try s.add("team.established", ["team": "projektledelse", "name": "Projektledelse", "kind": "project-management", "units": ["cpi"]], on: "2020-02-01")
        try s.add("staff.hired", ["person": "pl-01", "role": "project-leader", "team": "projektledelse", "hoursPerWeek": 37], on: "2020-02-01")
        try s.add("team.established", ["team": "bosteder-peers", "name": "Peerteam på bostederne", "kind": "peer-team", "units": ["cpi"],
                                       "plan": J(["peers": 3])], on: "2020-03-01")
        try s.add("team.established", ["team": "unge-peers", "name": "Peerteam CPI/UngeCenteret", "kind": "peer-team", "units": ["ungecenteret", "cpi"],
                                       "plan": J(["peers": 2])], on: "2020-03-01")
        try s.add("team.established", ["team": "job-peers", "name": "Peerteam Jobcenter/UUR", "kind": "peer-team", "units": ["jobcenter-uur", "cpi"],
                                       "plan": J(["peers": 2])], on: "2020-03-01")
        try s.add("team.established", ["team": "sundhed-delt", "name": "Delt stilling med sundhedsområdet", "kind": "shared-post",
                                       "units": ["sundhedscenteret"], "plan": J(["peers": 1, "professionals": 1])], on: "2020-03-01")
        try s.add("team.established", ["team": "videnscenter", "name": "Videnscenter", "kind": "working-group", "units": ["cpi"]], on: "2020-03-01")
        try s.add("staff.hired", ["person": "peer-01", "role": "peer", "team": "bosteder-peers", "hoursPerWeek": 30], on: "2020-04-01")
        try s.add("staff.hired", ["person": "peer-02", "role": "peer", "team": "bosteder-peers"], on: "2020-04-01")
        try s.add("staff.hired", ["person": "peer-03", "role": "peer", "team": "unge-peers"], on: "2020-05-01")
        try s.add("staff.hired", ["person": "peer-04", "role": "peer", "team": "job-peers"], on: "2020-05-01")
        try s.add("staff.hired", ["person": "prof-01", "role": "professional", "team": "sundhed-delt"], on: "2020-05-01")

        // Meetings with sealed minutes (25–28).
        try s.add("meeting.held", ["meeting": "sg-2020-1", "body": "styregruppe", "attendees": 6, "agenda": ["Projektplan", "Evaluering"]], on: "2020-02-10")
        let seal = "\(s.head.seq):\(s.head.hash)"
        let minutes = try s.storeText("Styregruppen godkendte projektplanen og tidsplanen.", salt: "5eed0001")
        try s.add("minutes.recorded", ["meeting": "sg-2020-1", "text": minutes, "decisions": ["Projektplanen er godkendt"], "seal": seal], on: "2020-02-10")
        try s.add("meeting.held", ["meeting": "impl-2020-1", "body": "implementeringsteam"], on: "2020-03-31")
        try s.add("meeting.held", ["meeting": "impl-2020-2", "body": "implementeringsteam"], on: "2020-06-15")

        // Handovers and training (29–36).
        try s.add("handover.started", ["case": "case-2020-001", "from": "ungecenteret", "to": "cpi", "peer": "peer-03", "ageBand": "18-23"], on: "2020-06-01")
        try s.add("handover.started", ["case": "case-2020-002", "from": "ungecenteret", "to": "cpi", "ageBand": "18-23"], on: "2020-06-10")
        try s.add("handover.completed", ["case": "case-2020-001", "outcome": "accepted"], on: "2020-07-01")
        try s.add("handover.started", ["case": "case-2020-003", "from": "ungecenteret", "to": "cpi", "peer": "peer-03"], on: "2020-07-15")
        try s.add("handover.started", ["case": "case-2020-004", "from": "jobcenter-uur", "to": "cpi"], on: "2020-08-01")
        try s.add("handover.completed", ["case": "case-2020-002"], on: "2020-08-19")
        try s.add("handover.cancelled", ["case": "case-2020-004", "reason": "Borgeren flyttede"], on: "2020-09-01")
        try s.add("training.held", ["training": "themedag-sundhed", "title": "Temadag om recovery", "kind": "theme-day",
                                    "participants": J(["sundhedscenteret": 38]), "provider": "recoveryskolen",
                                    "teachers": J(["professionals": 1, "peers": 1]), "hours": 6], on: "2020-09-15")

        // Autumn 2020 (37–43).
        try s.add("evaluation.milestone", ["milestone": "baseline", "title": "Baseline", "by": "PwC"], on: "2020-09-30")
        try s.add("meeting.held", ["meeting": "impl-2020-3", "body": "implementeringsteam"], on: "2020-10-01")
        try s.add("meeting.held", ["meeting": "ledermoede-2020-2", "body": "ledermoede"], on: "2020-10-15")
        try s.add("training.held", ["training": "faelles-unge-cpi", "title": "Fælles kompetenceudvikling UngeCenteret og CPI",
                                    "kind": "joint-competence-development", "participants": J(["ungecenteret": 8, "cpi": 30])], on: "2020-11-10")
        try s.add("meeting.held", ["meeting": "socialudvalget-2020", "body": "socialudvalget"], on: "2020-11-20")
        try s.add("meeting.held", ["meeting": "dialog-1", "body": "dialogforum"], on: "2020-12-01")
        try s.add("meeting.held", ["meeting": "lokal-1", "body": "lokal-impl"], on: "2020-12-01")

        // 2021: the merger, a new project leader, targets (44–51).
        try s.add("unit.updated", ["unit": "cpi", "name": "Center for Psykiatri og Socialt Udsatte", "headcount": 44], on: "2021-01-01")
        try s.add("staff.left", ["person": "pl-01", "reason": "Nyt job"], on: "2021-01-31")
        try s.add("staff.hired", ["person": "pl-02", "role": "project-leader", "team": "projektledelse", "hoursPerWeek": 37], on: "2021-03-01")
        try s.add("evaluation.milestone", ["milestone": "interim-1", "title": "Midtvejsevaluering 1", "by": "PwC",
                                           "findings": ["Fokus på borgerens ressourcer", "Inddragelse af lokalsamfund og netværk", "Koordinering om hele livet"]],
                  on: "2021-03-31")
        try s.add("target.set", ["kpi": "peers.employed", "scope": "unge-peers", "value": 3], on: "2021-04-01")
        try s.add("target.set", ["kpi": "meetings.held", "scope": "implementeringsteam", "value": 2, "period": "2021-Q2"], on: "2021-04-01")
        try s.add("target.set", ["kpi": "training.participants", "scope": "cpi", "value": 40], on: "2021-04-01")
        try s.add("team.closed", ["team": "videnscenter", "reason": "Videnscenteret blev en del af driften"], on: "2021-06-30")

        // Attendance and notes, one erased (52–57).
        try s.add("attendance.counted", ["offer": "nada", "venue": "psykiatriens-hus", "period": "2021-H1", "contacts": 127, "citizens": 40], on: "2021-07-01")
        try s.add("attendance.counted", ["offer": "fitness", "venue": "psykiatriens-hus", "period": "2021-H1", "contacts": 44], on: "2021-07-01")
        try s.add("attendance.counted", ["offer": "nada", "venue": "recoveryskolen", "period": "2021-H1", "contacts": 10], on: "2021-07-01")
        let guidelines = try s.storeText("Peerteamet skrev retningslinjer for de gode overgange.", salt: "5eed0002")
        try s.add("note.recorded", ["about": "team/unge-peers", "text": guidelines], on: "2021-07-05")
        let slip = try s.storeText("Et navn stod her ved en fejl.", salt: "5eed0003")
        try s.add("note.recorded", ["about": "handover/case-2020-003", "text": slip], on: "2021-07-06")
        try s.add("text.erased", ["ref": slip, "reason": "Noten nævnte en borger ved navn"], on: "2021-07-07")
        try FileManager.default.removeItem(atPath: "\(s.log.path)/\(EventLog.attachmentsName)/\(slip)")

        // Corrections and a retraction (58–61): headcount 30 → 32; impl-2020-3 moves from Q4 to Q3.
        try s.add("event.corrected", ["target": fixtureID(3), "reason": "Tallet fra ansøgningen", "changes": J(["headcount": 32])], on: "2021-08-01")
        try s.add("event.corrected", ["target": fixtureID(38), "reason": "Mødet blev holdt 30. september", "occurred": "2020-09-30"], on: "2021-08-01")
        try s.add("meeting.held", ["meeting": "impl-2021-dup", "body": "implementeringsteam"], on: "2021-09-01")
        try s.add("event.retracted", ["target": fixtureID(60), "reason": "Registreret to gange"], on: "2021-09-02")

        // A torn tail the next writer moved aside (62), then the rest (63–66).
        let torn = Array(#"{"actor":"projektleder","data":{"#.utf8)
        let offset = try Data(contentsOf: URL(fileURLWithPath: s.segmentPath)).count
        let quarantine = "\(EventLog.quarantineName)/\(EventLog.segmentName(1)).\(offset).torn"
        try FileManager.default.createDirectory(atPath: "\(s.log.path)/\(EventLog.quarantineName)", withIntermediateDirectories: true)
        try Data(torn).write(to: URL(fileURLWithPath: "\(s.log.path)/\(quarantine)"))
        try s.addStoreEvent("log.tail-quarantined", ["file": EventLog.segmentName(1), "offset": offset, "bytes": torn.count, "quarantine": quarantine],
                            stream: "log/\(EventLog.segmentName(1))", on: "2021-09-20T08:00:00.000Z", recorded: "2021-09-20T08:00:00.000Z")
        try s.add("evaluation.milestone", ["milestone": "interim-2", "title": "Midtvejsevaluering 2", "by": "PwC"], on: "2021-09-30")
        try s.add("handover.completed", ["case": "case-2020-003", "outcome": "redirected"], on: "2020-09-28", recorded: "2022-01-20T09:00:00.000Z")
        try s.add("evaluation.milestone", ["milestone": "final", "title": "Slutevaluering", "by": "PwC"], on: "2022-09-30")
        try s.add("staff.left", ["person": "peer-02"], on: "2022-10-01")
        // Recorded after the golden asOf: must not show.
        try s.add("evaluation.milestone", ["milestone": "rapport", "title": "Rapport til Socialstyrelsen"], on: "2022-12-15", recorded: "2023-01-10T09:00:00.000Z")
        return s
    }

    private func scenarioView() throws -> (ScenarioLog, Ledger.View) {
        let directory = try makeTemporaryDirectory(prefix: "golden")
        let scenario = try GoldenTests.makeScenario(at: directory.appending("log").path)
        return (scenario, try scenario.ledger.view(asOf: GoldenTests.asOf, validAt: GoldenTests.validAt))
    }

    func testTheScenarioHoldsEveryTypeOfTheCatalogAndVerifies() throws {
        let (scenario, _) = try scenarioView()
        XCTAssertEqual(Set(scenario.events.map(\.type)), Set(Catalog.types.map(\.name)))
        let report = try scenario.log.verify()
        XCTAssertTrue(report.ok, "\(String(describing: report.failure))")
        XCTAssertEqual(report.events, 67)
        XCTAssertEqual(report.erasedTexts, 1)
    }

    func testStateJSON() throws {
        let (_, view) = try scenarioView()
        try Golden.check(prettyJSON(view.stateJSON(asOf: GoldenTests.asOf, validAt: GoldenTests.validAt)) + "\n",
                         against: "state.json", in: GoldenTests.goldenDirectory)
    }

    func testKPIJSON() throws {
        let (_, view) = try scenarioView()
        try Golden.check(prettyJSON(JSONParser.parse(view.kpiJSON(asOf: GoldenTests.asOf, validAt: GoldenTests.validAt))) + "\n",
                         against: "kpi.json", in: GoldenTests.goldenDirectory)
    }

    func testAuditTrail() throws {
        let (_, view) = try scenarioView()
        let lines = Audit.entries(try view.history, subject: nil).map { entry in
            CanonicalJSON.string(.object(J([
                "seq": entry.event.seq, "type": entry.event.type, "stream": entry.event.stream, "occurred": entry.event.occurred,
                "summary": entry.summary, "correctedBy": entry.correctedBy,
                "retractedBy": entry.retractedBy.map(JSONValue.integer) ?? .null, "target": entry.targetSeq.map(JSONValue.integer) ?? .null,
            ])))
        }
        try Golden.check(lines.joined(separator: "\n") + "\n", against: "audit.jsonl", in: GoldenTests.goldenDirectory)
    }

    func testAKnownCheckOfTheGoldenNumbers() throws {
        // The figures a reviewer checks in kpi.json, asserted here too so a re-recording
        // cannot silently change them.
        let (_, view) = try scenarioView()
        let rows = try view.kpis
        XCTAssertEqual(rows.row("peers.employed", "bosteder-peers")?.brief, "- 1/3 false", "peer-02 left in October 2022")
        XCTAssertEqual(rows.row("peers.employed", "unge-peers")?.brief, "- 1/3 false", "target.set replaces the plan's 2")
        XCTAssertEqual(rows.row("professionals.employed", "sundhed-delt")?.brief, "- 1/1 true")
        XCTAssertEqual(rows.row("peers.employed", "projektledelse")?.brief, "- 0/- null", "the project leader is no peer")
        XCTAssertEqual(rows.row("units.with-peer", "project")?.brief, "- 3/6 false", "cpi, ungecenteret, jobcenter-uur")
        XCTAssertEqual(rows.row("training.participants", "cpi")?.brief, "- 30/40 false")
        XCTAssertEqual(rows.row("training.participants", "jobcenter-uur")?.brief, "- 0/32 false", "the corrected headcount")
        XCTAssertEqual(rows.row("training.participants", "sundhedscenteret")?.brief, "- 38/45 false")
        XCTAssertEqual(rows.row("handovers.median-days", "ungecenteret->cpi")?.brief, "- 70/- null", "30, 70 and 75 days")
        XCTAssertEqual(rows.row("handovers.open", "ungecenteret->cpi")?.actual, 0)
        XCTAssertEqual(rows.row("handovers.started", "jobcenter-uur->cpi")?.actual, 1)
        XCTAssertEqual(rows.row("milestones.reached", "project")?.actual, 4, "rapport was recorded after asOf")
        XCTAssertEqual(rows.summary("meetings.held", "implementeringsteam").prefix(6),
                       ["2020-Q1 1/1 true", "2020-Q2 1/1 true", "2020-Q3 1/1 true", "2020-Q4 0/1 false", "2021-Q1 0/1 false", "2021-Q2 0/2 false"])
        XCTAssertEqual(rows.summary("meetings.held", "styregruppe"), ["2020 1/4 false", "2021 0/4 false", "2022 0/4 null"])
        XCTAssertEqual(rows.summary("attendance.contacts", "nada"), ["2021-H1 137/- null"])
        XCTAssertEqual(rows.summary("attendance.contacts", "psykiatriens-hus"), ["2021-H1 171/- null"])
    }
}
