import EventStore
import Foundation
@testable import Projections
import XCTest

/// SPEC §4: the same questions at several `asOf` (transaction time) and `validAt`
/// (valid time) pairs, over a log written by hand with fixed `recorded` times.
final class BitemporalTests: XCTestCase {
    /// A peer team and an implementation team in 2021 (Europe/Copenhagen), recorded
    /// with delays, corrected and retracted along the way:
    ///
    /// | seq | recorded (UTC)   | fact                                              |
    /// |-----|------------------|---------------------------------------------------|
    /// | 1–4 | 2021-01-04       | unit cpi, team bosteder-peers (plan 3), body impl (quarterly), hired peer-01 (occurred 1 Feb) |
    /// | 5   | 03-31 21:30      | milestone interim-1, occurred 31 March            |
    /// | 6   | 03-31 22:30      | milestone late, occurred 2021-04-01T00:30+02:00    |
    /// | 7   | 04-01 08:00      | meeting impl-1, occurred 31 March                 |
    /// | 8   | 04-15 09:00      | hired peer-02, occurred 31 March (recorded late)  |
    /// | 9   | 04-15 09:01      | hired peer-03, occurred 1 April                   |
    /// | 10  | 06-01 09:00      | peer-01 left, occurred 31 May                     |
    /// | 11  | 07-15 10:00      | correction of 7: occurred 2021-04-01              |
    /// | 12  | 09-01 10:00      | retraction of 9                                   |
    private func makeScenario() throws -> ScenarioLog {
        let directory = try makeTemporaryDirectory(prefix: "bitemporal")
        var s = try ScenarioLog(at: directory.appending("log").path)
        try s.add("unit.registered", ["unit": "cpi", "name": "Center for Psykiatri", "headcount": 42], on: "2021-01-04", recorded: "2021-01-04T09:00:00.000Z")
        try s.add("team.established", ["team": "bosteder-peers", "name": "Peerteam", "kind": "peer-team", "units": ["cpi"], "plan": J(["peers": 3])],
                  on: "2021-01-04", recorded: "2021-01-04T09:01:00.000Z")
        try s.add("body.established", ["body": "impl", "name": "Implementeringsteam", "kind": "implementation-team", "cadence": "quarterly"],
                  on: "2021-01-04", recorded: "2021-01-04T09:02:00.000Z")
        try s.add("staff.hired", ["person": "peer-01", "role": "peer", "team": "bosteder-peers"], on: "2021-02-01", recorded: "2021-01-04T09:03:00.000Z")
        try s.add("evaluation.milestone", ["milestone": "interim-1", "title": "Interim 1"], on: "2021-03-31", recorded: "2021-03-31T21:30:00.000Z")
        try s.add("evaluation.milestone", ["milestone": "late", "title": "Sent"], on: "2021-04-01T00:30:00+02:00", recorded: "2021-03-31T22:30:00.000Z")
        try s.add("meeting.held", ["meeting": "impl-1", "body": "impl"], on: "2021-03-31", recorded: "2021-04-01T08:00:00.000Z")
        try s.add("staff.hired", ["person": "peer-02", "role": "peer", "team": "bosteder-peers"], on: "2021-03-31", recorded: "2021-04-15T09:00:00.000Z")
        try s.add("staff.hired", ["person": "peer-03", "role": "peer", "team": "bosteder-peers"], on: "2021-04-01", recorded: "2021-04-15T09:01:00.000Z")
        try s.add("staff.left", ["person": "peer-01"], on: "2021-05-31", recorded: "2021-06-01T09:00:00.000Z")
        try s.add("event.corrected", ["target": fixtureID(7), "reason": "Mødet blev holdt 1. april", "occurred": "2021-04-01"],
                  on: "2021-07-15", recorded: "2021-07-15T10:00:00.000Z")
        try s.add("event.retracted", ["target": fixtureID(9), "reason": "Ansættelsen blev aldrig til noget"], on: "2021-09-01", recorded: "2021-09-01T10:00:00.000Z")
        return s
    }

    private func peers(_ s: ScenarioLog, asOf: String?, validAt: String) throws -> Int? {
        try s.ledger.view(asOf: asOf, validAt: validAt).kpis.row("peers.employed", "bosteder-peers")?.actual
    }

    func testPeersEmployedAtSeveralTransactionAndValidTimes() throws {
        let s = try makeScenario()
        // "On 30 June 2021, how many peers did the record say were employed on 31 March 2021?"
        XCTAssertEqual(try peers(s, asOf: "2021-06-30", validAt: "2021-03-31"), 2, "peer-01, and peer-02 recorded in April")
        XCTAssertEqual(try peers(s, asOf: "2021-03-31", validAt: "2021-03-31"), 1, "peer-02 was not recorded yet")
        XCTAssertEqual(try peers(s, asOf: "2021-04-15T09:00:00.000Z", validAt: "2021-03-31"), 2, "asOf includes the event recorded at that instant")
        XCTAssertEqual(try peers(s, asOf: "2021-04-15T08:59:59.999Z", validAt: "2021-03-31"), 1)
        XCTAssertEqual(try peers(s, asOf: "2021-06-30", validAt: "2021-06-30"), 2, "peer-01 left; peer-02 and peer-03")
        XCTAssertEqual(try peers(s, asOf: "2021-08-31", validAt: "2021-06-30"), 2, "the retraction is not recorded yet")
        XCTAssertEqual(try peers(s, asOf: "2021-12-31", validAt: "2021-06-30"), 1, "peer-03 was retracted")
        XCTAssertEqual(try peers(s, asOf: nil, validAt: "2021-04-30"), 2, "peer-01 and peer-02; peer-03 retracted")
        XCTAssertEqual(try peers(s, asOf: "2021-05-31", validAt: "2021-05-30"), 3)
    }

    func testACorrectionOfOccurredMovesAMeetingAcrossAPeriodBoundaryOnlyFromItsRecordedTime() throws {
        let s = try makeScenario()
        func quarters(asOf: String?, validAt: String) throws -> [String] {
            try s.ledger.view(asOf: asOf, validAt: validAt).kpis.summary("meetings.held", "impl")
        }
        // Before the correction was recorded, the meeting stands on 31 March (Q1).
        XCTAssertEqual(try quarters(asOf: "2021-06-30", validAt: "2021-06-30"), ["2021-Q1 1/1 true", "2021-Q2 0/1 null"])
        XCTAssertEqual(try quarters(asOf: "2021-06-30", validAt: "2021-03-31"), ["2021-Q1 1/1 true"], "running, and reached")
        // After it, the meeting is on 1 April (Q2); the correction's own occurred (15 July) does not matter.
        XCTAssertEqual(try quarters(asOf: "2021-07-15T10:00:00.000Z", validAt: "2021-06-30"), ["2021-Q1 0/1 false", "2021-Q2 1/1 true"])
        XCTAssertEqual(try quarters(asOf: nil, validAt: "2021-03-31"), ["2021-Q1 0/1 null"], "running, not reached")
        XCTAssertEqual(try quarters(asOf: nil, validAt: "2021-04-01"), ["2021-Q1 0/1 false", "2021-Q2 1/1 true"])
        // Before the meeting was recorded at all.
        XCTAssertEqual(try quarters(asOf: "2021-03-31", validAt: "2021-06-30"), ["2021-Q1 0/1 false", "2021-Q2 0/1 null"])

        let before = try s.ledger.view(asOf: "2021-06-30", validAt: "2021-06-30")
        XCTAssertEqual(try before.state.bodies["impl"]?.meetings.map(\.occurred), ["2021-03-31"])
        XCTAssertEqual(try s.ledger.view(validAt: "2021-06-30").state.bodies["impl"]?.meetings.map(\.occurred), ["2021-04-01"])
    }

    func testARetractionCountsFromItsRecordedTime() throws {
        let s = try makeScenario()
        XCTAssertNotNil(try s.ledger.view(asOf: "2021-08-31", validAt: "2021-12-31").state.people["peer-03"])
        XCTAssertNil(try s.ledger.view(asOf: "2021-09-01", validAt: "2021-12-31").state.people["peer-03"])
        XCTAssertNil(try s.ledger.view(validAt: "2021-12-31").state.people["peer-03"])
    }

    func testTheAuditTrailAtAnAsOfShowsOnlyWhatWasRecordedByThen() throws {
        let s = try makeScenario()
        let early = Audit.entries(try s.ledger.view(asOf: "2021-06-30").history, subject: fixtureID(7))
        XCTAssertEqual(early.map(\.event.seq), [7])
        XCTAssertEqual(early.first?.correctedBy, [])
        let late = Audit.entries(try s.ledger.view().history, subject: fixtureID(7))
        XCTAssertEqual(late.map(\.event.seq), [7, 11])
        XCTAssertEqual(late.first?.correctedBy, [11])
        XCTAssertEqual(late.last?.targetSeq, 7)
        XCTAssertEqual(late.last?.summary, "corrects seq 7: occurred 2021-04-01")
        let stream = Audit.entries(try s.ledger.view(asOf: "2021-08-31").history, subject: "person/peer-03")
        XCTAssertEqual(stream.map(\.event.seq), [9])
        XCTAssertNil(stream.first?.retractedBy)
        XCTAssertEqual(Audit.entries(try s.ledger.view().history, subject: "person/peer-03").map { "\($0.event.seq) \($0.retractedBy.map(String.init) ?? "-")" },
                       ["9 12", "12 -"])
    }

    func testTheHeadIsTheLastEventRecordedByAsOf() throws {
        let s = try makeScenario()
        let view = try s.ledger.view(asOf: "2021-04-30")
        XCTAssertEqual(view.head.seq, 9)
        XCTAssertEqual(view.head.hash, s.events[8].hash)
        let json = String(decoding: try view.kpiJSON(asOf: "2021-04-30", validAt: nil), as: UTF8.self)
        XCTAssertTrue(json.hasPrefix("{\"asOf\":\"2021-04-30\",\"head\":\"9:\(s.events[8].hash)\",\"rows\":["), json)
        XCTAssertTrue(json.hasSuffix("],\"validAt\":null}"), json)
        XCTAssertEqual(try s.ledger.view(asOf: "2020-12-31").head, .empty)
    }

    // MARK: plain dates

    func testAPlainAsOfDateMeansTheEndOfThatDayInTheLogsTimeZone() throws {
        let s = try makeScenario()
        // 31 March 2021 is summer time: the day ends at 21:59:59.999Z.
        let march31 = try s.ledger.view(asOf: "2021-03-31")
        XCTAssertEqual(march31.head.seq, 5, "seq 5 was recorded 23:30 Copenhagen time, seq 6 at 00:30 on 1 April")
        XCTAssertEqual(try s.ledger.view(asOf: "2021-04-01").head.seq, 7)
        XCTAssertEqual(try s.ledger.view(asOf: "2021-03-31T23:59:59.999+02:00").head.seq, 5)
        XCTAssertEqual(try s.ledger.view(asOf: "2021-04-01T00:30:00+02:00").head.seq, 6)
        // Winter time: 4 January ends at 22:59:59.999Z.
        XCTAssertEqual(try s.ledger.view(asOf: "2021-01-04").head.seq, 4)
    }

    func testAPlainOccurredDateStartsItsDaySoAFactIsTrueOnItsOwnDate() throws {
        let s = try makeScenario()
        let march31 = try s.ledger.view(validAt: "2021-03-31").state
        XCTAssertNotNil(march31.milestones["interim-1"], "occurred 2021-03-31 is true at validAt 2021-03-31")
        XCTAssertNil(march31.milestones["late"], "occurred 2021-04-01T00:30+02:00 is after the end of 31 March")
        XCTAssertNotNil(try s.ledger.view(validAt: "2021-04-01").state.milestones["late"])
        XCTAssertNil(try s.ledger.view(validAt: "2021-03-30").state.milestones["interim-1"])
        XCTAssertNil(try s.ledger.view(validAt: "2021-03-30T23:59:59+02:00").state.milestones["interim-1"])
        XCTAssertNotNil(try s.ledger.view(validAt: "2021-03-31T00:00:00+02:00").state.milestones["interim-1"], "midnight in Copenhagen")
        XCTAssertNil(try s.ledger.view(validAt: "2021-03-30T21:59:59.999Z").state.milestones["interim-1"])
        XCTAssertEqual(try s.ledger.view(validAt: "2021-02-01").state.people["peer-01"]?.employed, true)
        XCTAssertNil(try s.ledger.view(validAt: "2021-01-31").state.people["peer-01"])
    }

    func testADateTimeOccurredCountsAtItsInstant() throws {
        let directory = try makeTemporaryDirectory(prefix: "bitemporal")
        var s = try ScenarioLog(at: directory.appending("log").path)
        try s.add("evaluation.milestone", ["milestone": "a", "title": "A"], on: "2021-01-31T23:30:00+01:00", recorded: "2021-02-01T09:00:00.000Z")
        try s.add("evaluation.milestone", ["milestone": "b", "title": "B"], on: "2021-01-31T23:00:00Z", recorded: "2021-02-01T09:00:00.000Z")
        try s.add("evaluation.milestone", ["milestone": "c", "title": "C"], on: "2021-01-31T22:59:59.999Z", recorded: "2021-02-01T09:00:00.000Z")
        let state = try s.ledger.view(validAt: "2021-01-31").state
        XCTAssertEqual(state.milestones.keys.sorted(), ["a", "c"], "31 January ends at 23:00Z in winter: a (22:30Z) and c are in it, b is midnight of 1 February")
    }

    func testTimesThatAreNotTimesAreRefused() throws {
        let s = try makeScenario()
        XCTAssertThrowsError(try s.ledger.view(asOf: "2021-02-30")) { error in
            XCTAssertEqual((error as? ValidationError)?.member, "--as-of")
        }
        XCTAssertThrowsError(try s.ledger.view(validAt: "yesterday")) { error in
            XCTAssertEqual((error as? ValidationError)?.member, "--valid-at")
        }
    }

    // MARK: corrections in order

    func testSeveralCorrectionsApplyInSeqOrder() throws {
        let directory = try makeTemporaryDirectory(prefix: "bitemporal")
        var s = try ScenarioLog(at: directory.appending("log").path)
        try s.add("unit.registered", ["unit": "cpi", "name": "CPI", "headcount": 40], on: "2021-01-04", recorded: "2021-01-04T09:00:00.000Z")
        try s.add("event.corrected", ["target": fixtureID(1), "reason": "HR", "changes": J(["headcount": 41, "name": "Center for Psykiatri"])],
                  on: "2021-02-01", recorded: "2021-02-01T09:00:00.000Z")
        try s.add("event.corrected", ["target": fixtureID(1), "reason": "HR igen", "changes": J(["headcount": 42])], on: "2021-03-01", recorded: "2021-03-01T09:00:00.000Z")
        try s.add("event.corrected", ["target": fixtureID(1), "reason": "dato", "occurred": "2021-01-10"], on: "2021-04-01", recorded: "2021-04-01T09:00:00.000Z")
        func unit(asOf: String, validAt: String = "2021-12-31") throws -> String {
            let unit = try s.ledger.view(asOf: asOf, validAt: validAt).state.units["cpi"]
            return unit.map { "\($0.name) \($0.headcount.map(String.init) ?? "-")" } ?? "none"
        }
        XCTAssertEqual(try unit(asOf: "2021-01-31"), "CPI 40")
        XCTAssertEqual(try unit(asOf: "2021-02-28"), "Center for Psykiatri 41")
        XCTAssertEqual(try unit(asOf: "2021-03-31"), "Center for Psykiatri 42")
        XCTAssertEqual(try unit(asOf: "2021-03-31", validAt: "2021-01-05"), "Center for Psykiatri 42")
        XCTAssertEqual(try unit(asOf: "2021-04-30", validAt: "2021-01-05"), "none", "occurred moved to 10 January")
        XCTAssertEqual(try unit(asOf: "2021-04-30", validAt: "2021-01-10"), "Center for Psykiatri 42")
        XCTAssertEqual(try s.ledger.view().history.event(seq: 1)?.correctedBy, [2, 3, 4])
    }

    // MARK: the empty log

    func testAnEmptyLogHasAnEmptyStateAndTheRowsThatAlwaysExist() throws {
        let f = try LedgerFixture(self)
        let view = try f.ledger.view()
        XCTAssertEqual(view.head, .empty)
        XCTAssertEqual(try view.state, ProjectState())
        XCTAssertEqual(String(decoding: try view.kpiJSON(asOf: nil, validAt: nil), as: UTF8.self),
                       #"{"asOf":null,"head":"0:\#(Event.genesisHash)","rows":[{"actual":0,"kpi":"milestones.reached","met":null,"period":null,"scope":"project","target":null},{"actual":0,"kpi":"units.with-peer","met":true,"period":null,"scope":"project","target":0}],"validAt":null}"#)
        XCTAssertEqual(CanonicalJSON.string(try view.stateJSON(asOf: nil, validAt: "2021-03-31")),
                       #"{"asOf":null,"bodies":{},"handovers":{"cancelled":0,"completed":0,"open":[]},"head":"0:\#(Event.genesisHash)","milestones":{},"targets":[],"teams":{},"trainings":{},"units":{},"validAt":"2021-03-31"}"#)
        XCTAssertEqual(Audit.entries(try view.history, subject: nil), [])

        // A log read as of a time before its first event is empty too.
        let s = try makeScenario()
        let before = try s.ledger.view(asOf: "2021-01-04T08:59:59.999Z", validAt: "2022-12-31")
        XCTAssertEqual(before.head, .empty)
        XCTAssertEqual(try before.state, ProjectState())
        XCTAssertEqual(try before.kpis.map(\.brief), ["- 0/- null", "- 0/0 true"])
    }
}
