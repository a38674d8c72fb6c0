import Foundation
import XCTest

/// The README's walk-through, as a new user follows it, in one test: every command they
/// type, and the figures `kpi --json` gives after each step.
final class CLIWalkthroughTests: XCTestCase {
    func testTheReadmeWalkThrough() throws {
        let sandbox = CLISandbox(try makeTemporaryDirectory(prefix: "cli-walkthrough"))
        let env = ["RECOVERY_ACTOR": "projektleder"]

        /// Runs a step and expects `seq N hash …`.
        func append(_ args: [String], seq: Int, file: StaticString = #filePath, line: UInt = #line) {
            let output = sandbox.ok(["append"] + args, env: env, file: file, line: line)
            XCTAssertTrue(output.hasPrefix("seq \(seq) hash "), output, file: file, line: line)
        }
        /// The KPI rows at the end of 2020, as `kpi --json --valid-at 2020-12-31` gives them.
        func figures(asOf: String? = nil, validAt: String = "2020-12-31", file: StaticString = #filePath, line: UInt = #line) throws -> [String: CLISandbox.KPIRow] {
            let document = try sandbox.kpis(asOf: asOf, validAt: validAt, file: file, line: line)
            XCTAssertEqual(document.validAt, validAt, file: file, line: line)
            return Dictionary(document.rows.map { ("\($0.kpi) \($0.scope)" + ($0.period.map { " \($0)" } ?? ""), $0) }) { first, _ in first }
        }
        func row(_ kpi: String, _ scope: String, _ actual: Int?, period: String? = nil, target: Int? = nil, met: Bool? = nil) -> CLISandbox.KPIRow {
            CLISandbox.KPIRow(kpi: kpi, scope: scope, period: period, actual: actual, target: target, met: met)
        }

        // recoveryctl init
        XCTAssertEqual(sandbox.ok(["init"], env: env), "Created an empty log at log (plain dates in Europe/Copenhagen).\n")
        XCTAssertEqual(try figures().values.sorted { $0.kpi < $1.kpi }, [
            row("milestones.reached", "project", 0), row("units.with-peer", "project", 0, target: 0, met: true),
        ])

        // The organisation: units, a peer team with its plan, a steering group with its cadence.
        append(["unit.registered", "unit=cpi", "name=Center for Psykiatri", "headcount=42", "--occurred", "2020-01-01"], seq: 1)
        append(["unit.registered", "unit=ungecenteret", "name=UngeCenteret", "headcount=8", "--occurred", "2020-01-01"], seq: 2)
        var now = try figures()
        XCTAssertEqual(now["training.participants cpi"], row("training.participants", "cpi", 0, target: 42, met: false))
        XCTAssertEqual(now["training.participants ungecenteret"], row("training.participants", "ungecenteret", 0, target: 8, met: false))
        XCTAssertEqual(now["units.with-peer project"], row("units.with-peer", "project", 0, target: 2, met: false))

        append(["team.established", "team=unge-peers", "name=Peer-team CPI/UngeCenteret", "kind=peer-team",
                #"units=["cpi","ungecenteret"]"#, #"plan={"peers":2,"professionals":0}"#, "--occurred", "2020-02-01"], seq: 3)
        now = try figures()
        XCTAssertEqual(now["peers.employed unge-peers"], row("peers.employed", "unge-peers", 0, target: 2, met: false))
        XCTAssertEqual(now["professionals.employed unge-peers"], row("professionals.employed", "unge-peers", 0, target: 0, met: true))

        append(["body.established", "body=styregruppe", "name=Styregruppen", "kind=steering-group", "cadence=4-per-year",
                "--occurred", "2020-01-15"], seq: 4)
        now = try figures()
        XCTAssertEqual(now["meetings.held styregruppe 2020"], row("meetings.held", "styregruppe", 0, period: "2020", target: 4),
                       "2020 is still running at its last day: met is open")

        // Hire a peer, hold a theme day.
        append(["staff.hired", "person=peer-01", "role=peer", "team=unge-peers", "--occurred", "2020-03-01"], seq: 5)
        now = try figures()
        XCTAssertEqual(now["peers.employed unge-peers"]?.actual, 1)
        XCTAssertEqual(now["units.with-peer project"], row("units.with-peer", "project", 2, target: 2, met: true))
        XCTAssertEqual(try figures(validAt: "2020-02-29")["peers.employed unge-peers"]?.actual, 0, "not yet employed on 29 February")

        append(["training.held", "training=temadag-2020-05", "title=Temadag om recovery", "kind=theme-day",
                #"participants={"cpi":30,"ungecenteret":8}"#, "--occurred", "2020-05-12"], seq: 6)
        now = try figures()
        XCTAssertEqual(now["training.held theme-day"], row("training.held", "theme-day", 1))
        XCTAssertEqual(now["training.participants cpi"], row("training.participants", "cpi", 30, target: 42, met: false))
        XCTAssertEqual(now["training.participants ungecenteret"], row("training.participants", "ungecenteret", 8, target: 8, met: true))

        // Start and complete a handover from UngeCenteret to CPI, supported by the peer.
        append(["handover.started", "case=case-2020-001", "from=ungecenteret", "to=cpi", "peer=peer-01", "ageBand=18-23",
                "--occurred", "2020-06-01"], seq: 7)
        now = try figures()
        XCTAssertEqual(now["handovers.started ungecenteret->cpi"]?.actual, 1)
        XCTAssertEqual(now["handovers.open ungecenteret->cpi"]?.actual, 1)
        XCTAssertEqual(now["handovers.with-peer ungecenteret->cpi"]?.actual, 1)
        XCTAssertEqual(now["handovers.completed ungecenteret->cpi"]?.actual, 0)
        XCTAssertEqual(now["handovers.median-days ungecenteret->cpi"], row("handovers.median-days", "ungecenteret->cpi", nil), "none completed")

        append(["handover.completed", "case=case-2020-001", "outcome=accepted", "--occurred", "2020-07-15"], seq: 8)
        now = try figures()
        XCTAssertEqual(now["handovers.open ungecenteret->cpi"]?.actual, 0)
        XCTAssertEqual(now["handovers.completed ungecenteret->cpi"]?.actual, 1)
        XCTAssertEqual(now["handovers.median-days ungecenteret->cpi"]?.actual, 44, "1 June to 15 July")

        // A meeting, and its minutes with the seal of the log read out at the meeting.
        append(["meeting.held", "meeting=sg-2020-1", "body=styregruppe", "attendees=6", "--occurred", "2020-03-10"], seq: 9)
        XCTAssertEqual(try figures()["meetings.held styregruppe 2020"], row("meetings.held", "styregruppe", 1, period: "2020", target: 4))
        XCTAssertEqual(try figures(validAt: "2021-01-01")["meetings.held styregruppe 2020"]?.met, false, "1 of 4 once 2020 is over")

        let seal = try sandbox.head()
        XCTAssertTrue(seal.hasPrefix("9:"), seal)
        let minutes = "Referat af styregruppemødet 10. marts 2020\nPeer-teamet er i gang; næste møde i juni.\n"
        try Data(minutes.utf8).write(to: sandbox.directory.appending("minutes.txt"))
        append(["minutes.recorded", "meeting=sg-2020-1", "text=@minutes.txt", "seal=\(seal)", "--occurred", "2020-03-10"], seq: 10)
        let minutesEvent = try sandbox.object(sandbox.segmentLines()[9])
        let minutesData = try XCTUnwrap(minutesEvent["data"] as? [String: Any])
        XCTAssertEqual(minutesData["seal"] as? String, seal)
        let reference = try XCTUnwrap(minutesData["text"] as? String)
        XCTAssertTrue(sandbox.ok(["show", "10"]).contains("    │ Peer-teamet er i gang; næste møde i juni.\n"))
        XCTAssertFalse(sandbox.segmentLines().joined().contains("Peer-teamet"), "the minutes stay out of the log's lines")
        XCTAssertTrue(FileManager.default.fileExists(atPath: sandbox.logURL.appendingPathComponent("attachments/\(reference)").path))

        // A mistake: the attendance list said 32 from CPI. Correct it; nothing is rewritten.
        let beforeCorrection = try XCTUnwrap(try sandbox.object(sandbox.ok(["head", "--json"]))["recorded"] as? String)
        let linesBefore = sandbox.segmentLines()
        Thread.sleep(forTimeInterval: 0.02)
        let corrected = sandbox.ok(
            ["correct", "6", #"participants={"cpi":32,"ungecenteret":8}"#, "--reason", "fremmødelisten talte 32 fra CPI"], env: env)
        XCTAssertTrue(corrected.hasPrefix("seq 11 hash "), corrected)
        XCTAssertEqual(Array(sandbox.segmentLines().prefix(10)), linesBefore, "the original lines are untouched")
        XCTAssertEqual(try figures()["training.participants cpi"], row("training.participants", "cpi", 32, target: 42, met: false))

        // What was true on a date.
        let may31 = try figures(validAt: "2020-05-31")
        XCTAssertEqual(may31["training.participants cpi"]?.actual, 32, "held on 12 May, as corrected")
        XCTAssertEqual(may31["peers.employed unge-peers"]?.actual, 1)
        XCTAssertNil(may31["handovers.started ungecenteret->cpi"], "no handover had started by 31 May")
        XCTAssertEqual(try figures(validAt: "2020-05-11")["training.participants cpi"]?.actual, 0, "the day before the theme day")

        // What the record said on a date: before the correction, the original stands.
        let then = try sandbox.kpis(asOf: beforeCorrection, validAt: "2020-12-31")
        XCTAssertEqual(then.head, "10:" + (minutesEvent["hash"] as! String), "the last event recorded by then")
        XCTAssertEqual(then.asOf, beforeCorrection)
        XCTAssertEqual(then.rows.first { $0.kpi == "training.participants" && $0.scope == "cpi" }?.actual, 30)
        XCTAssertEqual(try figures(asOf: "2000-01-01")["units.with-peer project"], row("units.with-peer", "project", 0, target: 0, met: true),
                       "nothing was recorded in 2000")

        // Who recorded what, and what corrected it.
        let audit = try sandbox.jsonLines(sandbox.ok(["audit", "training/temadag-2020-05", "--json"]))
        XCTAssertEqual(audit.map { $0["seq"] as? Int }, [6, 11])
        XCTAssertEqual(audit[0]["correctedBy"] as? [Int], [11])
        XCTAssertTrue(audit.allSatisfy { $0["actor"] as? String == "projektleder" })

        // The chain holds, and the sealed head is still in it.
        let head = try sandbox.head()
        XCTAssertEqual(
            sandbox.ok(["verify", "--expect-head", seal]),
            "ok: 11 events, head \(head); the seal 9:\(seal.dropFirst(2).prefix(12))… is in the log\n")
        let report = try sandbox.object(sandbox.ok(["verify", "--json", "--expect-head", seal]))
        XCTAssertEqual(report["ok"] as? Bool, true)
        XCTAssertEqual(report["events"] as? Int, 11)
        XCTAssertEqual(report["head"] as? String, head)

        // The state a reader sees at the end.
        let state = sandbox.ok(["state", "--valid-at", "2020-12-31"])
        XCTAssertTrue(state.contains("\nunge-peers  peer-team  cpi,ungecenteret    1/2            0/0\n"), state)
        XCTAssertTrue(state.contains("\nOpen handovers (1 completed, 0 cancelled)\n  (none)\n"), state)
        XCTAssertTrue(state.contains("\nstyregruppe  steering-group  4-per-year         1  2020-03-10\n"), state)
    }
}
