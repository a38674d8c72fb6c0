import EventStore
import Foundation
@testable import Projections
import XCTest

/// One test per rule an append checks (SPEC §3), through `Ledger.append`: each refusal
/// names the member and why, and leaves the log's bytes as they were.
class ValidationTests: XCTestCase {

    // MARK: fixtures

    /// A log holding what most rules name: two units, a team with a peer, a body with a
    /// meeting, an open handover, a training and a milestone (ids fixtureID(1…9)).
    private func makeWorld() throws -> LedgerFixture {
        let f = try LedgerFixture(self)
        try f.append(
            fact("unit.registered", ["unit": "cpi", "name": "Center for Psykiatri", "headcount": 42], on: "2020-01-06", id: fixtureID(1)),
            fact("unit.registered", ["unit": "ungecenteret", "name": "UngeCenteret", "headcount": 8], on: "2020-01-06", id: fixtureID(2)),
            fact("team.established", ["team": "unge-peers", "name": "Peerteam CPI/UngeCenteret", "kind": "peer-team",
                                      "units": ["ungecenteret", "cpi"], "plan": J(["peers": 2])], on: "2020-03-01", id: fixtureID(3)),
            fact("staff.hired", ["person": "peer-01", "role": "peer", "team": "unge-peers"], on: "2020-04-01", id: fixtureID(4)),
            fact("body.established", ["body": "styregruppe", "name": "Styregruppe", "kind": "steering-group", "cadence": "4-per-year"],
                 on: "2020-01-15", id: fixtureID(5)),
            fact("meeting.held", ["meeting": "sg-2020-1", "body": "styregruppe", "agenda": ["Status", "Budget"]], on: "2020-02-10", id: fixtureID(6)),
            fact("handover.started", ["case": "case-2020-001", "from": "ungecenteret", "to": "cpi", "peer": "peer-01"], on: "2020-06-01", id: fixtureID(7)),
            fact("training.held", ["training": "faelles-1", "title": "Fælles kompetenceudvikling", "kind": "joint-competence-development",
                                   "participants": J(["cpi": 30, "ungecenteret": 8])], on: "2020-09-15", id: fixtureID(8)),
            fact("evaluation.milestone", ["milestone": "baseline", "title": "Baseline"], on: "2020-09-30", id: fixtureID(9))
        )
        return f
    }

    /// Appends `events`, expects one refusal at `index` naming `member` with a reason
    /// containing `reason`, and checks that the segment's bytes did not change.
    private func assertRefused(_ events: [NewEvent], in f: LedgerFixture, member: String, reason: String, index: Int = 0,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try f.segmentBytes()
        guard let refused = refusal({ _ = try f.ledger.append(events) }, file: file, line: line) else { return }
        XCTAssertEqual(refused.refusals.map(\.index), [index], "\(refused)", file: file, line: line)
        if let error = refused.refusals.first?.error {
            XCTAssertEqual(error.member, member, "\(error)", file: file, line: line)
            XCTAssertTrue(error.reason.contains(reason), "reason \"\(error.reason)\" does not say \"\(reason)\"", file: file, line: line)
        }
        XCTAssertEqual(try f.segmentBytes(), before, "a refused append changed the log", file: file, line: line)
    }

    private func assertRefused(_ event: NewEvent, in f: LedgerFixture, member: String, reason: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        try assertRefused([event], in: f, member: member, reason: reason, file: file, line: line)
    }

    // MARK: shape

    func testMissingMemberIsRefused() throws {
        let f = try LedgerFixture(self)
        try assertRefused(fact("unit.registered", ["unit": "cpi"], on: "2020-01-06"), in: f, member: "data.name", reason: "missing")
        try assertRefused(fact("event.corrected", ["target": fixtureID(1), "reason": "typo"], on: "2020-01-06"),
                          in: f, member: "data", reason: "needs \"changes\", \"occurred\" or both")
    }

    func testUnknownMemberIsRefused() throws {
        let f = try LedgerFixture(self)
        try assertRefused(fact("unit.registered", ["unit": "cpi", "name": "CPI", "colour": "blue"], on: "2020-01-06"),
                          in: f, member: "data.colour", reason: "unknown member for unit.registered")
        let world = try makeWorld()
        try assertRefused(fact("team.established", ["team": "t", "name": "T", "kind": "peer-team", "units": ["cpi"], "plan": J(["peers": 1, "leaders": 1])],
                               on: "2020-03-01"), in: world, member: "data.plan.leaders", reason: "unknown member")
    }

    func testWrongTypeIsRefused() throws {
        let f = try makeWorld()
        try assertRefused(fact("unit.registered", ["unit": "jobcenter-uur", "name": "Jobcenter", "headcount": "32"], on: "2020-01-06"),
                          in: f, member: "data.headcount", reason: "must be an integer, found the string \"32\"")
        try assertRefused(fact("unit.registered", ["unit": "jobcenter-uur", "name": "Jobcenter", "headcount": -1], on: "2020-01-06"),
                          in: f, member: "data.headcount", reason: "must be at least 0, found -1")
        try assertRefused(fact("team.established", ["team": "t", "name": "T", "kind": "peer-team", "units": "cpi"], on: "2020-03-01"),
                          in: f, member: "data.units", reason: "non-empty list")
        try assertRefused(fact("team.established", ["team": "t", "name": "T", "kind": "peer-team", "units": [String]()], on: "2020-03-01"),
                          in: f, member: "data.units", reason: "non-empty list")
        try assertRefused(fact("team.established", ["team": "t", "name": "T", "kind": "band", "units": ["cpi"]], on: "2020-03-01"),
                          in: f, member: "data.kind", reason: "\"band\" is not one of peer-team")
        try assertRefused(fact("training.held", ["training": "t", "title": "T", "kind": "course", "participants": J([:])], on: "2020-03-01"),
                          in: f, member: "data.participants", reason: "at least one unit")
        try assertRefused(fact("meeting.held", ["meeting": "m", "body": "styregruppe", "agenda": JSONValue.array([.string("Status"), .integer(2)])], on: "2020-03-01"),
                          in: f, member: "data.agenda[1]", reason: "must be a string")
        try assertRefused(fact("unit.registered", ["unit": "x", "name": ""], on: "2020-01-06"), in: f, member: "data.name", reason: "must not be empty")
    }

    func testBadSlugIsRefused() throws {
        let f = try LedgerFixture(self)
        for slug in ["CPI", "-cpi", "cpi_2", "cpi hus", "", String(repeating: "a", count: 65), "æble"] {
            try assertRefused(fact("unit.registered", ["unit": slug, "name": "X"], on: "2020-01-06"), in: f, member: "data.unit", reason: "is not a slug")
        }
        // The longest slug passes.
        try f.append(fact("unit.registered", ["unit": String(repeating: "a", count: 64), "name": "X"], on: "2020-01-06"))
    }

    func testBadPeriodIsRefused() throws {
        let f = try makeWorld()
        for period in ["2021-Q5", "2021-Q0", "2021-H3", "21-Q1", "2021-q1", "2021Q1", "2021-01", "år 2021"] {
            try assertRefused(fact("attendance.counted", ["offer": "nada", "venue": "cpi", "period": period, "contacts": 3], on: "2021-07-01"),
                              in: f, member: "data.period", reason: "is not a period")
        }
        try assertRefused(fact("target.set", ["kpi": "meetings.held", "scope": "styregruppe", "value": 4, "period": "2021-H0"], on: "2021-01-01"),
                          in: f, member: "data.period", reason: "is not a period")
        for period in ["2021", "2021-H2", "2021-Q4"] {
            try f.append(fact("attendance.counted", ["offer": "nada", "venue": "cpi", "period": period, "contacts": 3], on: "2021-07-01"))
        }
    }

    func testImpossibleOccurredDateIsRefused() throws {
        let f = try makeWorld()
        for occurred in ["2021-02-30", "2021-02-29", "2021-13-01", "2021-04-31", "31-03-2021", "2021-03-31T25:00:00Z", "2021-03-31T12:00:00"] {
            try assertRefused(fact("evaluation.milestone", ["milestone": "interim-1", "title": "Interim 1"], on: occurred),
                              in: f, member: "occurred", reason: "is not a real date")
        }
        try f.append(fact("evaluation.milestone", ["milestone": "interim-1", "title": "Interim 1"], on: "2020-02-29"),
                     fact("evaluation.milestone", ["milestone": "interim-2", "title": "Interim 2"], on: "2021-09-30T14:00:00+02:00"))
    }

    func testUnknownTypeIsRefusedWithASuggestion() throws {
        let f = try makeWorld()
        try assertRefused(fact("staff.hird", ["person": "peer-02", "role": "peer", "team": "unge-peers"], on: "2020-04-01"),
                          in: f, member: "type", reason: "Did you mean 'staff.hired'?")
        try assertRefused(fact("payroll.paid", ["person": "peer-02"], on: "2020-04-01"), in: f, member: "type", reason: "unknown event type \"payroll.paid\"")
    }

    func testStoreOnlyTypeIsRefused() throws {
        let f = try LedgerFixture(self)
        try assertRefused(fact("log.tail-quarantined", ["file": "events-000001.jsonl", "offset": 0, "bytes": 3, "quarantine": "quarantine/x"], on: "2020-01-01"),
                          in: f, member: "type", reason: "written by the store only")
    }

    func testMalformedIDIsRefused() throws {
        let f = try LedgerFixture(self)
        try assertRefused(fact("unit.registered", ["unit": "cpi", "name": "CPI"], on: "2020-01-06", id: "00000000-0000-4000-8000-00000000000A"),
                          in: f, member: "id", reason: "not a lower-case UUID")
    }

    // MARK: references

    func testReferencesToThingsThatDoNotExistAreRefused() throws {
        let f = try makeWorld()
        let cases: [(NewEvent, String, String)] = [
            (fact("team.established", ["team": "t", "name": "T", "kind": "peer-team", "units": ["cpi", "nowhere"]], on: "2020-03-01"),
             "data.units[1]", "unit nowhere does not exist"),
            (fact("unit.registered", ["unit": "hus", "name": "Hus", "parent": "nowhere"], on: "2020-03-01"), "data.parent", "unit nowhere does not exist"),
            (fact("unit.updated", ["unit": "nowhere", "headcount": 3], on: "2020-03-01"), "data.unit", "unit nowhere does not exist"),
            (fact("staff.hired", ["person": "peer-02", "role": "peer", "team": "no-team"], on: "2020-04-01"), "data.team", "team no-team does not exist"),
            (fact("team.closed", ["team": "no-team"], on: "2020-04-01"), "data.team", "team no-team does not exist"),
            (fact("meeting.held", ["meeting": "m-1", "body": "no-body"], on: "2020-04-01"), "data.body", "body no-body does not exist"),
            (fact("handover.started", ["case": "case-2", "from": "ungecenteret", "to": "cpi", "peer": "peer-99"], on: "2020-06-01"),
             "data.peer", "person peer-99 does not exist"),
            (fact("handover.started", ["case": "case-2", "from": "nowhere", "to": "cpi"], on: "2020-06-01"), "data.from", "unit nowhere does not exist"),
            (fact("staff.left", ["person": "peer-99"], on: "2020-06-01"), "data.person", "person peer-99 does not exist"),
            (fact("handover.completed", ["case": "case-9"], on: "2020-06-01"), "data.case", "case case-9 does not exist"),
            (fact("handover.cancelled", ["case": "case-9"], on: "2020-06-01"), "data.case", "case case-9 does not exist"),
            (fact("minutes.recorded", ["meeting": "no-meeting", "text": "Referat"], on: "2020-06-01"), "data.meeting", "meeting no-meeting does not exist"),
            (fact("training.held", ["training": "t-2", "title": "T", "kind": "course", "participants": J(["nowhere": 3])], on: "2020-06-01"),
             "data.participants.nowhere", "unit nowhere does not exist"),
            (fact("training.held", ["training": "t-2", "title": "T", "kind": "course", "participants": J(["cpi": 3]), "provider": "nowhere"], on: "2020-06-01"),
             "data.provider", "unit nowhere does not exist"),
            (fact("attendance.counted", ["offer": "nada", "venue": "nowhere", "period": "2021-H1", "contacts": 3], on: "2021-07-01"),
             "data.venue", "unit nowhere does not exist"),
            (fact("note.recorded", ["about": "team/no-team", "text": "En note"], on: "2021-07-01"), "data.about", "no event in the log is about team/no-team"),
            (fact("minutes.recorded", ["meeting": "sg-2020-1", "text": "Referat", "seal": "3:" + String(repeating: "a", count: 64)], on: "2020-06-01"),
             "data.seal", "is not the seq and hash of an event in this log"),
            (fact("text.erased", ["ref": "sha256-" + String(repeating: "b", count: 64), "reason": "navn"], on: "2020-06-01"),
             "data.ref", "no event in the log names the text"),
        ]
        for (event, member, reason) in cases {
            try assertRefused(event, in: f, member: member, reason: reason)
        }
    }

    func testAHandoverToTheSameUnitIsRefused() throws {
        let f = try makeWorld()
        try assertRefused(fact("handover.started", ["case": "case-2", "from": "cpi", "to": "cpi"], on: "2020-06-01"),
                          in: f, member: "data.to", reason: "from one unit to another")
    }

    func testAClosedTeamTakesNoNewStaff() throws {
        let f = try makeWorld()
        try f.append(fact("team.closed", ["team": "unge-peers", "reason": "Projektet sluttede"], on: "2022-09-30"))
        try assertRefused(fact("staff.hired", ["person": "peer-02", "role": "peer", "team": "unge-peers"], on: "2022-10-01"),
                          in: f, member: "data.team", reason: "team unge-peers is closed")
    }

    func testSecondCreationOfTheSameThingIsRefused() throws {
        let f = try makeWorld()
        let cases: [(NewEvent, String, String)] = [
            (fact("unit.registered", ["unit": "cpi", "name": "CPI igen"], on: "2021-01-01"), "data.unit", "unit cpi already exists"),
            (fact("team.established", ["team": "unge-peers", "name": "T", "kind": "peer-team", "units": ["cpi"]], on: "2021-01-01"),
             "data.team", "team unge-peers already exists"),
            (fact("body.established", ["body": "styregruppe", "name": "S", "kind": "steering-group"], on: "2021-01-01"),
             "data.body", "body styregruppe already exists"),
            (fact("handover.started", ["case": "case-2020-001", "from": "ungecenteret", "to": "cpi"], on: "2021-01-01"),
             "data.case", "case case-2020-001 already exists"),
            (fact("meeting.held", ["meeting": "sg-2020-1", "body": "styregruppe"], on: "2021-01-01"), "data.meeting", "meeting sg-2020-1 already exists"),
            (fact("training.held", ["training": "faelles-1", "title": "T", "kind": "course", "participants": J(["cpi": 1])], on: "2021-01-01"),
             "data.training", "training faelles-1 already exists"),
            (fact("evaluation.milestone", ["milestone": "baseline", "title": "Baseline igen"], on: "2021-01-01"),
             "data.milestone", "milestone baseline already exists"),
        ]
        for (event, member, reason) in cases {
            try assertRefused(event, in: f, member: member, reason: reason)
        }
        // A closed team still exists: its id cannot be used again.
        try f.append(fact("team.closed", ["team": "unge-peers"], on: "2022-01-01"))
        try assertRefused(fact("team.established", ["team": "unge-peers", "name": "T", "kind": "peer-team", "units": ["cpi"]], on: "2022-02-01"),
                          in: f, member: "data.team", reason: "already exists")
    }

    func testRehiringSomeoneEmployedIsRefusedButSomeoneWhoLeftMayComeBack() throws {
        let f = try makeWorld()
        try assertRefused(fact("staff.hired", ["person": "peer-01", "role": "peer", "team": "unge-peers"], on: "2021-01-01"),
                          in: f, member: "data.person", reason: "peer-01 is already employed")
        try f.append(fact("staff.left", ["person": "peer-01", "reason": "Nyt job"], on: "2021-01-31"))
        let rehired = try f.append(fact("staff.hired", ["person": "peer-01", "role": "professional", "team": "unge-peers"], on: "2021-06-01"))
        XCTAssertEqual(rehired.first?.stream, "person/peer-01")
        let state = try f.ledger.view(validAt: "2021-06-30").state
        XCTAssertEqual(state.people["peer-01"]?.role, "professional")
        XCTAssertEqual(state.people["peer-01"]?.employed, true)
    }

    func testClosingAHandoverThatIsNotOpenIsRefused() throws {
        let f = try makeWorld()
        try f.append(fact("handover.completed", ["case": "case-2020-001", "outcome": "accepted"], on: "2020-07-01"))
        try assertRefused(fact("handover.completed", ["case": "case-2020-001"], on: "2020-07-02"),
                          in: f, member: "data.case", reason: "handover case-2020-001 is already completed")
        try assertRefused(fact("handover.cancelled", ["case": "case-2020-001"], on: "2020-07-02"),
                          in: f, member: "data.case", reason: "already completed; only an open handover can be closed")
        try f.append(fact("handover.started", ["case": "case-2020-002", "from": "ungecenteret", "to": "cpi"], on: "2020-08-01"),
                     fact("handover.cancelled", ["case": "case-2020-002", "reason": "Flyttet"], on: "2020-08-10"))
        try assertRefused(fact("handover.completed", ["case": "case-2020-002"], on: "2020-08-11"),
                          in: f, member: "data.case", reason: "already cancelled")
    }

    func testStaffLeftIsOnlyForSomeoneEmployed() throws {
        let f = try makeWorld()
        try f.append(fact("staff.left", ["person": "peer-01"], on: "2021-01-31"))
        try assertRefused(fact("staff.left", ["person": "peer-01"], on: "2021-02-01"), in: f, member: "data.person", reason: "peer-01 is not employed")
    }

    // MARK: corrections and retractions

    func testCorrectionOrRetractionOfAMissingEventIsRefused() throws {
        let f = try makeWorld()
        let missing = fixtureID(999)
        try assertRefused(fact("event.corrected", ["target": missing, "reason": "typo", "changes": J(["headcount": 40])], on: "2021-01-01"),
                          in: f, member: "data.target", reason: "no event with id \(missing)")
        try assertRefused(fact("event.retracted", ["target": missing, "reason": "fejl"], on: "2021-01-01"),
                          in: f, member: "data.target", reason: "no event with id \(missing)")
        try assertRefused(fact("event.retracted", ["target": "not-an-id", "reason": "fejl"], on: "2021-01-01"),
                          in: f, member: "data.target", reason: "is not an event id")
    }

    func testCorrectionOrRetractionOfACorrectionIsRefused() throws {
        let f = try makeWorld()
        try f.append(fact("event.corrected", ["target": fixtureID(1), "reason": "HR-tal", "changes": J(["headcount": 40])], on: "2021-01-01", id: fixtureID(20)))
        try assertRefused(fact("event.corrected", ["target": fixtureID(20), "reason": "igen", "changes": J(["reason": "x"])], on: "2021-01-02"),
                          in: f, member: "data.target", reason: "is a event.corrected; corrections, retractions and store events cannot be corrected or retracted")
        try assertRefused(fact("event.retracted", ["target": fixtureID(20), "reason": "fortryd"], on: "2021-01-02"),
                          in: f, member: "data.target", reason: "cannot be corrected or retracted")
        // A second correction of the original is the way to change it again.
        try f.append(fact("event.corrected", ["target": fixtureID(1), "reason": "HR igen", "changes": J(["headcount": 41])], on: "2021-01-03"))
        XCTAssertEqual(try f.ledger.view().state.units["cpi"]?.headcount, 41)
    }

    func testCorrectionOrRetractionOfARetractedEventIsRefused() throws {
        let f = try makeWorld()
        try f.append(fact("event.retracted", ["target": fixtureID(9), "reason": "for tidligt"], on: "2021-01-01", id: fixtureID(20)))
        try assertRefused(fact("event.corrected", ["target": fixtureID(9), "reason": "titel", "changes": J(["title": "Baseline (PwC)"])], on: "2021-01-02"),
                          in: f, member: "data.target", reason: "was retracted by seq 10")
        try assertRefused(fact("event.retracted", ["target": fixtureID(9), "reason": "igen"], on: "2021-01-02"),
                          in: f, member: "data.target", reason: "was retracted by seq 10")
        try assertRefused(fact("event.retracted", ["target": fixtureID(20), "reason": "fortryd"], on: "2021-01-02"),
                          in: f, member: "data.target", reason: "is a event.retracted")
        // What a retraction withdrew may be recorded anew.
        try f.append(fact("evaluation.milestone", ["milestone": "baseline", "title": "Baseline"], on: "2020-10-15"))
    }

    func testCorrectionWhoseMergedDataWouldBeInvalidIsRefused() throws {
        let f = try makeWorld()
        let cases: [(JSONObject, String, String)] = [
            (J(["headcount": "x"]), "data.changes.headcount", "must be an integer"),
            (J(["headcount": -1]), "data.changes.headcount", "must be at least 0"),
            (J(["name": ""]), "data.changes.name", "must not be empty"),
            (J(["parent": "nowhere"]), "data.changes.parent", "unit nowhere does not exist"),
            (J(["colour": "blue"]), "data.changes.colour", "unit.registered has no member colour"),
            (J(["name": JSONValue.null]), "data.changes.name", "must be a string, found null"),
        ]
        for (changes, member, reason) in cases {
            try assertRefused(fact("event.corrected", ["target": fixtureID(1), "reason": "ret", "changes": changes], on: "2021-01-01"),
                              in: f, member: member, reason: reason)
        }
        try assertRefused(fact("event.corrected", ["target": fixtureID(4), "reason": "ret", "changes": J(["team": "no-team"])], on: "2021-01-01"),
                          in: f, member: "data.changes.team", reason: "team no-team does not exist")
        try assertRefused(fact("event.corrected", ["target": fixtureID(3), "reason": "ret", "changes": J(["units": ["cpi", "nowhere"]])], on: "2021-01-01"),
                          in: f, member: "data.changes.units[1]", reason: "(after the correction, the team.established at seq 3 would be invalid)")
        try assertRefused(fact("event.corrected", ["target": fixtureID(1), "reason": "dato", "occurred": "2020-02-30"], on: "2021-01-01"),
                          in: f, member: "data.occurred", reason: "is not a real date")
        try assertRefused(fact("event.corrected", ["target": fixtureID(1), "reason": "tom", "changes": J([:])], on: "2021-01-01"),
                          in: f, member: "data.changes", reason: "non-empty object")
    }

    func testCorrectionChangingWhatTheEventIsAboutIsRefused() throws {
        let f = try makeWorld()
        try assertRefused(fact("event.corrected", ["target": fixtureID(1), "reason": "omdøb", "changes": J(["unit": "cpi-2"])], on: "2021-01-01"),
                          in: f, member: "data.changes.unit", reason: "retract the event and append a new one instead")
        try assertRefused(fact("event.corrected", ["target": fixtureID(4), "reason": "ret", "changes": J(["person": "peer-02"])], on: "2021-01-01"),
                          in: f, member: "data.changes.person", reason: "names what the event is about")
        try assertRefused(fact("event.corrected", ["target": fixtureID(7), "reason": "ret", "changes": J(["case": "case-x"])], on: "2021-01-01"),
                          in: f, member: "data.changes.case", reason: "names what the event is about")
    }

    func testAValidCorrectionTakesTheTargetsStream() throws {
        let f = try makeWorld()
        let written = try f.append(fact("event.corrected", ["target": fixtureID(7), "reason": "peer skiftede", "changes": J(["ageBand": "18-23"])],
                                        on: "2021-01-01"))
        XCTAssertEqual(written.first?.stream, "handover/case-2020-001")
        let retraction = try f.append(fact("event.retracted", ["target": fixtureID(6), "reason": "dobbelt"], on: "2021-01-01"))
        XCTAssertEqual(retraction.first?.stream, "meeting/sg-2020-1")
    }

    func testACorrectionTakesItsTargetFromTheCommandsLookupOnlyWhileTheLogEndsWhereThatLookupRead() throws {
        let f = try makeWorld()
        let lookup = try f.ledger.lookUp(id: fixtureID(4))
        XCTAssertEqual(lookup.event?.type, "staff.hired")
        func correction() -> NewEvent {
            NewEvent(type: "event.corrected", data: J(["target": fixtureID(4), "reason": "timer", "changes": J(["hoursPerWeek": 30])]), actor: "tester")
        }
        // A lookup that claims the id names nothing, read to where the log ends: validation
        // takes its word, so it is what validation reads (not the log again). Validation
        // that reads the whole history (the subclass) has no use for a lookup.
        let claimingNothing = Ledger.IDLookup(id: fixtureID(4), found: nil, end: lookup.end)
        if ValidationContext.findsByIDUpToBatchSize >= 1 {
            XCTAssertThrowsError(try f.ledger.append([correction()], lookedUp: [claimingNothing])) { error in
                XCTAssertTrue("\(error)".contains("no event with id"), "\(error)")
            }
        } else {
            XCTAssertNoThrow(try f.ledger.append([correction()], lookedUp: [claimingNothing]))
        }
        // Once the log has grown past where it read, the lookup is not taken.
        try f.append(fact("staff.hired", ["person": "peer-02", "role": "peer", "team": "unge-peers"], on: "2020-05-01"))
        let report = try f.ledger.append([correction()], lookedUp: [claimingNothing])
        XCTAssertEqual(report.events.count, 1)
        // A fresh lookup gives what validation would read itself.
        let fresh = try f.ledger.lookUp(id: fixtureID(4))
        XCTAssertNoThrow(try f.ledger.append([correction()], lookedUp: [fresh]))
        XCTAssertEqual(try f.ledger.view().state.people["peer-01"]?.hoursPerWeek, 30)
    }

    func testEventsThatCloseSomethingCanStillBeCorrected() throws {
        // staff.left and handover.completed change what later events may do; correcting
        // their other members must not be judged as if they were appended again.
        let f = try makeWorld()
        try f.append(fact("staff.left", ["person": "peer-01", "reason": "Nyt job"], on: "2021-01-31", id: fixtureID(20)),
                     fact("handover.completed", ["case": "case-2020-001", "outcome": "accepted"], on: "2020-07-01", id: fixtureID(21)))
        try f.append(fact("event.corrected", ["target": fixtureID(20), "reason": "årsag", "changes": J(["reason": "Flyttede"])], on: "2021-02-01"),
                     fact("event.corrected", ["target": fixtureID(21), "reason": "udfald", "changes": J(["outcome": "redirected"])], on: "2021-02-01"),
                     fact("event.corrected", ["target": fixtureID(21), "reason": "dato", "occurred": "2020-07-03"], on: "2021-02-01"))
        let state = try f.ledger.view().state
        XCTAssertNil(state.handovers["case-2020-001"], "completed, so no longer open")
        XCTAssertEqual(closedCases(try f.ledger.view().facts)["case-2020-001"], .completed)
        // Started 2020-06-01, completed on the corrected date: 32 days, not 30.
        XCTAssertEqual(state.handoverTotals["ungecenteret->cpi"]?.completedDays, [32])
        XCTAssertEqual(state.handoverQuarters["2020-Q3"]?.completed, 1)
        XCTAssertEqual(state.people["peer-01"]?.employed, false)
    }

    func testCorrectingSealedMinutesIsAccepted() throws {
        let f = try makeWorld()
        let head = try f.ledger.view().head
        try f.append(fact("minutes.recorded", ["meeting": "sg-2020-1", "text": "Referat", "decisions": ["Plan godkendt"], "seal": head.description],
                          on: "2020-02-10", id: fixtureID(20)))
        let correction = fact("event.corrected", ["target": fixtureID(20), "reason": "beslutning", "changes": J(["decisions": ["Plan og budget godkendt"]])],
                              on: "2020-02-20")
        try f.append(correction)
        XCTAssertEqual(try f.ledger.view().history.event(seq: 10)?.data["decisions"], .array([.string("Plan og budget godkendt")]))
        try assertRefused(fact("event.corrected", ["target": fixtureID(20), "reason": "segl", "changes": J(["seal": "3:" + String(repeating: "a", count: 64)])],
                               on: "2020-02-20"), in: f, member: "data.changes.seal", reason: "is not the seq and hash of an event in this log")
    }

    func testAnEventInATeamClosedSinceCanStillBeCorrected() throws {
        let f = try makeWorld()
        try f.append(fact("team.closed", ["team": "unge-peers", "reason": "Slut"], on: "2022-09-30", id: fixtureID(20)))
        try f.append(fact("event.corrected", ["target": fixtureID(4), "reason": "timer", "changes": J(["hoursPerWeek": 30]), "occurred": "2020-04-02"], on: "2022-10-01"),
                     fact("event.corrected", ["target": fixtureID(20), "reason": "dato", "occurred": "2022-09-29"], on: "2022-10-01"))
        try assertRefused(fact("event.corrected", ["target": fixtureID(4), "reason": "team", "changes": J(["team": "no-team"])], on: "2022-10-01"),
                          in: f, member: "data.changes.team", reason: "team no-team does not exist")
        let state = try f.ledger.view().state
        XCTAssertEqual(state.people["peer-01"]?.hoursPerWeek, 30)
        XCTAssertEqual(state.teams["unge-peers"]?.closed, true)
    }

    // MARK: the CPR guard

    func testCPRNumberInDataAtAnyDepthIsRefused() throws {
        let f = try makeWorld()
        try assertRefused(fact("meeting.held", ["meeting": "sg-2020-2", "body": "styregruppe", "agenda": ["Status", "Borger 010190-1234 drøftet"]],
                               on: "2020-05-10"), in: f, member: "data.agenda[1]", reason: "looks like a CPR number")
        try assertRefused(fact("evaluation.milestone", ["milestone": "interim-1", "title": "Interim", "findings": ["ok", "0101901234"]], on: "2021-03-31"),
                          in: f, member: "data.findings[1]", reason: "looks like a CPR number")
        try assertRefused(fact("training.held", ["training": "t-2", "title": "T", "kind": "course", "participants": J(["0101901234": 3])], on: "2021-03-31"),
                          in: f, member: "data.participants.…", reason: "looks like a CPR number")
        try assertRefused(fact("unit.registered", ["unit": "010190-1234", "name": "X"], on: "2021-03-31"), in: f, member: "data.unit", reason: "looks like a CPR number")
        try assertRefused(fact("team.closed", ["team": "unge-peers", "reason": "Peer 241285 4321 stoppede"], on: "2021-03-31"),
                          in: f, member: "data.reason", reason: "looks like a CPR number")
        try assertRefused(fact("event.corrected", ["target": fixtureID(7), "reason": "ret", "changes": J(["ageBand": "18-23"]), "occurred": "2020-06-02"],
                               on: "2021-01-01", source: "journal 150515-4001"), in: f, member: "source", reason: "looks like a CPR number")
        try assertRefused(fact("event.retracted", ["target": fixtureID(6), "reason": "cpr 0101901234 nævnt"], on: "2021-01-01"),
                          in: f, member: "data.reason", reason: "looks like a CPR number")
    }

    func testCPRNumberInSourceOrActorIsRefused() throws {
        let f = try makeWorld()
        try assertRefused(fact("evaluation.milestone", ["milestone": "interim-1", "title": "Interim"], on: "2021-03-31", source: "brev til 010190-1234"),
                          in: f, member: "source", reason: "looks like a CPR number")
        try assertRefused(fact("evaluation.milestone", ["milestone": "interim-1", "title": "Interim"], on: "2021-03-31", actor: "0101901234"),
                          in: f, member: "actor", reason: "looks like a CPR number")
    }

    func testCPRNumberInATextIsRefusedAndTheTextIsNotStored() throws {
        let f = try makeWorld()
        try assertRefused(fact("note.recorded", ["about": "team/unge-peers", "text": "Samtale med borger,\ncpr 241285-4321, om overgang."], on: "2021-03-31"),
                          in: f, member: "data.text", reason: "looks like a CPR number")
        try assertRefused(fact("minutes.recorded", ["meeting": "sg-2020-1", "text": "Referat", "decisions": ["Sag 010190 1234 lukket"]], on: "2020-02-10"),
                          in: f, member: "data.decisions[0]", reason: "looks like a CPR number")
        XCTAssertEqual(f.attachmentNames(), [])
    }

    func testNumbersThatAreNotCPRNumbersPass() throws {
        let f = try makeWorld()
        try f.append(fact("meeting.held", ["meeting": "sg-2020-2", "body": "styregruppe",
                                           "agenda": ["Budget 12345678901", "Dato 310290-1234 er ikke en dato", "Tlf 8915 1515", "Sag 2021-004"]],
                          on: "2020-05-10", source: "referat side 0101901234567"))
    }

    func testEventIDsAndTextReferencesAreCheckedByFormNotByTheCPRGuard() throws {
        // SPEC §3: ids and text references are not the caller's text. A UUID may by
        // chance read "…010190-1234…", and a hash "…0101901234…".
        let f = try makeWorld()
        let id = "ab010190-1234-4abc-8def-abcdefabcdef"
        XCTAssertNotNil(CPRGuard.firstMatch(in: id))
        try f.append(fact("evaluation.milestone", ["milestone": "interim-1", "title": "Interim 1"], on: "2021-03-31", id: id))
        try f.append(fact("event.corrected", ["target": id, "reason": "titel", "changes": J(["title": "Interim 1 (PwC)"])], on: "2021-04-01"),
                     fact("event.retracted", ["target": id, "reason": "for tidligt"], on: "2021-04-02"))

        let reference = "sha256-" + "ab0101901234cd" + String(repeating: "e", count: 50)
        XCTAssertNotNil(CPRGuard.firstMatch(in: reference))
        let minutes = NewEvent(type: "minutes.recorded", data: J(["meeting": "sg-2020-1", "text": reference]), occurred: "2020-02-10", actor: "projektleder")
        XCTAssertNoThrow(try Validator.checkShape(minutes, texts: .reference))
        let erase = NewEvent(type: "text.erased", data: J(["ref": reference, "reason": "navn"]), occurred: "2020-02-10", actor: "projektleder")
        XCTAssertNoThrow(try Validator.checkShape(erase, texts: .raw))
        // As typed text, the same characters are checked.
        XCTAssertThrowsError(try Validator.checkShape(minutes, texts: .raw))
    }

    func testASealWhoseHashReadsLikeACPRNumberIsAccepted() throws {
        let directory = try makeTemporaryDirectory(prefix: "projections")
        var scenario = try ScenarioLog(at: directory.appending("log").path)
        // Vary the name until the event's hash holds a CPR-like run (about 1 in 400).
        var name = 0
        while true {
            var probe = Event(seq: 1, id: fixtureID(1), type: "unit.registered", v: 1, stream: "unit/cpi", occurred: "2020-01-06",
                              recorded: "2020-01-07T10:00:00.000Z", actor: "projektleder", source: nil,
                              data: J(["unit": "cpi", "name": "CPI \(name)"]), prev: Event.genesisHash, hash: "")
            probe.hash = probe.computedHash()
            if CPRGuard.firstMatch(in: probe.hash) != nil { break }
            name += 1
        }
        let unit = try scenario.add("unit.registered", ["unit": "cpi", "name": "CPI \(name)"], on: "2020-01-06", recorded: "2020-01-07T10:00:00.000Z")
        try scenario.add("body.established", ["body": "styregruppe", "name": "Styregruppe", "kind": "steering-group"], on: "2020-01-15")
        try scenario.add("meeting.held", ["meeting": "sg-1", "body": "styregruppe"], on: "2020-02-10")
        let text = try scenario.storeText("Referat", salt: "00")
        try scenario.add("minutes.recorded", ["meeting": "sg-1", "text": text, "seal": "1:\(unit.hash)"], on: "2020-02-10")
        XCTAssertEqual(scenario.events.count, 4)
    }

    // MARK: ids, expectSeq and batches

    func testSameIDWithSameContentIsANoOp() throws {
        let f = try makeWorld()
        let note = fact("note.recorded", ["about": "team/unge-peers", "text": "Godt møde."], on: "2021-03-31", id: fixtureID(30))
        let first = try f.ledger.append([note])
        let bytes = try f.segmentBytes()
        let attachments = f.attachmentNames()
        let again = try f.ledger.append([note])
        XCTAssertEqual(again.events.map(\.existing), [true])
        XCTAssertEqual(again.events.first?.event, first.events.first?.event)
        XCTAssertEqual(try f.segmentBytes(), bytes)
        XCTAssertEqual(f.attachmentNames(), attachments, "a retry stored its text again")

        // In a batch, the known one is skipped and the new one written.
        let batch = try f.ledger.append([note, fact("evaluation.milestone", ["milestone": "interim-1", "title": "Interim 1"], on: "2021-03-31")])
        XCTAssertEqual(batch.events.map(\.existing), [true, false])
        XCTAssertEqual(batch.events.map(\.event.seq), [10, 11])
    }

    func testSameIDWithOtherContentIsAConflict() throws {
        let f = try makeWorld()
        let bytes = try f.segmentBytes()
        for other in [fact("unit.registered", ["unit": "cpi", "name": "Center for Psykiatri", "headcount": 43], on: "2020-01-06", id: fixtureID(1)),
                      fact("unit.registered", ["unit": "cpi", "name": "Center for Psykiatri", "headcount": 42], on: "2020-01-07", id: fixtureID(1)),
                      fact("evaluation.milestone", ["milestone": "interim-1", "title": "Interim"], on: "2020-01-06", id: fixtureID(1))] {
            XCTAssertThrowsError(try f.ledger.append([other])) { error in
                guard case LogError.conflict(let message)? = error as? LogError else { return XCTFail("expected a conflict, got \(error)") }
                XCTAssertTrue(message.contains("already in the log as seq 1 with other content"), message)
            }
        }
        XCTAssertEqual(try f.segmentBytes(), bytes)
    }

    func testExpectSeqOtherThanTheHeadIsAConflict() throws {
        let f = try makeWorld()
        let bytes = try f.segmentBytes()
        let milestone = fact("evaluation.milestone", ["milestone": "interim-1", "title": "Interim 1"], on: "2021-03-31")
        XCTAssertThrowsError(try f.ledger.append([milestone], expectSeq: 8)) { error in
            guard case LogError.conflict(let message)? = error as? LogError else { return XCTFail("expected a conflict, got \(error)") }
            XCTAssertTrue(message.contains("head is seq 9, not 8"), message)
        }
        XCTAssertEqual(try f.segmentBytes(), bytes)
        XCTAssertEqual(try f.ledger.append([milestone], expectSeq: 9).head.seq, 10)
    }

    func testAnEventMayNameWhatAnEarlierEventOfTheSameBatchCreates() throws {
        let f = try LedgerFixture(self)
        let written = try f.append(
            fact("unit.registered", ["unit": "cpi", "name": "CPI", "headcount": 42], on: "2020-01-06", id: fixtureID(1)),
            fact("unit.registered", ["unit": "recoveryskolen", "name": "Recoveryskolen", "parent": "cpi"], on: "2020-01-06"),
            fact("team.established", ["team": "bosteder-peers", "name": "Peerteam", "kind": "peer-team", "units": ["cpi"]], on: "2020-03-01"),
            fact("staff.hired", ["person": "peer-01", "role": "peer", "team": "bosteder-peers"], on: "2020-04-01"),
            fact("staff.left", ["person": "peer-01"], on: "2020-05-01"),
            fact("staff.hired", ["person": "peer-01", "role": "peer", "team": "bosteder-peers"], on: "2020-06-01"),
            fact("event.corrected", ["target": fixtureID(1), "reason": "HR", "changes": J(["headcount": 40])], on: "2020-06-01"),
            fact("note.recorded", ["about": "team/bosteder-peers", "text": "Opstart"], on: "2020-06-01")
        )
        XCTAssertEqual(written.map(\.seq), Array(1...8))
        XCTAssertEqual(written[6].stream, "unit/cpi")
        let state = try f.ledger.view().state
        XCTAssertEqual(state.units["cpi"]?.headcount, 40)
        XCTAssertEqual(state.people["peer-01"]?.since, "2020-06-01")
    }

    func testARefusedBatchListsEveryBadEventAndWritesNothing() throws {
        let f = try makeWorld()
        let bytes = try f.segmentBytes()
        let batch = [
            fact("unit.registered", ["unit": "jobcenter-uur", "name": "Jobcenter"], on: "2020-01-06"),
            fact("team.established", ["team": "job-peers", "name": "Peerteam", "kind": "peer-team", "units": ["jobcenter-uur", "nowhere"]], on: "2020-03-01"),
            fact("team.established", ["team": "job-peers-2", "name": "Peerteam", "kind": "peer-team", "units": ["jobcenter-uur"]], on: "2020-03-01"),
            fact("staff.hired", ["person": "peer-02", "role": "peer", "team": "job-peers"], on: "2020-04-01"),
            fact("note.recorded", ["about": "team/job-peers-2", "text": "Opstart"], on: "2020-06-01"),
            fact("staff.left", ["person": "peer-03"], on: "2020-04-01"),
        ]
        guard let refused = refusal({ _ = try f.ledger.append(batch) }) else { return }
        XCTAssertEqual(refused.refusals.map(\.index), [1, 3, 5])
        XCTAssertEqual(refused.refusals.map(\.error.member), ["data.units[1]", "data.team", "data.person"])
        XCTAssertTrue(refused.description.contains("event 4: data.team: team job-peers does not exist"), refused.description)
        XCTAssertEqual(try f.segmentBytes(), bytes)

        let shapes = [
            fact("unit.registerd", ["unit": "a", "name": "A"], on: "2020-01-06"),
            fact("unit.registered", ["unit": "b", "name": "B"], on: "2020-01-06"),
            fact("unit.registered", ["unit": "c"], on: "2020-01-06"),
        ]
        guard let refusedShapes = refusal({ _ = try f.ledger.append(shapes) }) else { return }
        XCTAssertEqual(refusedShapes.refusals.map(\.index), [0, 2])
        XCTAssertEqual(try f.segmentBytes(), bytes)

        // A misshapen event and one naming what does not exist, in one batch: both listed.
        let mixed = [
            fact("unit.registered", ["unit": "d", "name": "D", "headcount": "many"], on: "2020-01-06"),
            fact("unit.registered", ["unit": "e", "name": "E"], on: "2020-01-06"),
            fact("staff.left", ["person": "peer-09"], on: "2020-04-01"),
        ]
        guard let refusedMixed = refusal({ _ = try f.ledger.append(mixed) }) else { return }
        XCTAssertEqual(refusedMixed.refusals.map(\.index), [0, 2])
        XCTAssertEqual(refusedMixed.refusals.map(\.error.member), ["data.headcount", "data.person"])
        XCTAssertEqual(try f.segmentBytes(), bytes)
    }

    func testARefusedEventLeavesNoTextBehind() throws {
        // A text is stored before the event that names it is checked against the log;
        // when that check refuses it, no event names the file, so 'erase' cannot remove it.
        let f = try makeWorld()
        _ = refusal { _ = try f.ledger.append([fact("note.recorded", ["about": "team/no-team", "text": "Fri tekst"], on: "2021-07-01")]) }
        XCTAssertThrowsError(try f.ledger.append([fact("note.recorded", ["about": "team/unge-peers", "text": "Fri tekst"], on: "2021-07-01")], expectSeq: 3))
        XCTAssertEqual(f.attachmentNames(), [])
    }

    func testADryRunChecksEverythingAndWritesNothing() throws {
        let f = try makeWorld()
        let bytes = try f.segmentBytes()
        let report = try f.ledger.append([fact("note.recorded", ["about": "team/unge-peers", "text": "Udkast"], on: "2021-01-01"),
                                          fact("evaluation.milestone", ["milestone": "interim-1", "title": "Interim 1"], on: "2021-03-31")],
                                         dryRun: true)
        XCTAssertEqual(report.events.map(\.event.seq), [10, 11])
        XCTAssertEqual(report.events.map(\.event.stream), ["team/unge-peers", "evaluation/interim-1"])
        XCTAssertEqual(try f.segmentBytes(), bytes)
        XCTAssertEqual(f.attachmentNames(), [])
        XCTAssertNotNil(refusal { _ = try f.ledger.append([fact("staff.left", ["person": "nobody"], on: "2021-01-01")], dryRun: true) })
    }
}

/// Every test of `ValidationTests` again, with events found by id in the whole history
/// read into memory, as a batch of more than `findsByIDUpToBatchSize` events finds them
/// (`ValidationTests` runs small batches, which find them in one pass over the log).
final class ValidationTestsWithTheWholeHistory: ValidationTests {
    private var saved = 0

    override func setUp() {
        super.setUp()
        saved = ValidationContext.findsByIDUpToBatchSize
        ValidationContext.findsByIDUpToBatchSize = -1
    }

    override func tearDown() {
        ValidationContext.findsByIDUpToBatchSize = saved
        super.tearDown()
    }

    // A class that declares no test of its own is not run on Linux, inherited tests or not.
    func testALookupByIDHereReadsTheWholeHistory() throws {
        let f = try LedgerFixture(self)
        let unit = try f.append(fact("unit.registered", ["unit": "u", "name": "U"], on: "2021-01-01"))[0]
        var context = try ValidationContext.load(f.log)
        XCTAssertNil(context.history)
        XCTAssertEqual(try context.event(id: unit.id, log: f.log)?.event, unit)
        XCTAssertNotNil(context.history)
    }
}
