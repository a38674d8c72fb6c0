import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The errors a person meets at the terminal (issue 4, "Errors a person can act on"):
/// each with its exit code of SPEC §6, a message that says what to do, and nothing written.
final class CLIErrorTests: XCTestCase {
    private var sandbox: CLISandbox!

    override func setUpWithError() throws {
        sandbox = CLISandbox(try makeTemporaryDirectory(prefix: "cli-errors"))
    }

    private func makeLog() throws {
        sandbox.initLog()
        try sandbox.append("unit.registered", ["unit=cpi", "name=CPI", "headcount=30"], occurred: "2021-01-04")
        try sandbox.append("team.established", ["team=peers", "name=Peers", "kind=peer-team", #"units=["cpi"]"#], occurred: "2021-02-01")
    }

    /// Asserts a runtime failure: no stdout, `Error: ` then the message on stderr.
    private func assertFailure(
        _ result: (status: Int32, stdout: String, stderr: String), status: Int32, startsWith prefix: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(result.status, status, result.stderr, file: file, line: line)
        XCTAssertEqual(result.stdout, "", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("Error: " + prefix), "expected 'Error: \(prefix)…', got: \(result.stderr)", file: file, line: line)
    }

    // MARK: No log, newer format

    func testNoLogHereSaysHowToCreateOneOrWhereToPoint() throws {
        try Data(#"{"type":"unit.registered","data":{"unit":"cpi","name":"CPI"}}"#.utf8).write(to: sandbox.directory.appending("x.jsonl"))
        let hint = "Create one with 'recoveryctl init', or point to an existing one with '--log DIR' or RECOVERY_LOG.\n"
        for args in [["kpi"], ["append", "unit.registered", "unit=cpi", "name=CPI"], ["verify"], ["head"], ["log"], ["import", "x.jsonl"]] {
            let result = sandbox.run(args)
            assertFailure(result, status: 5, startsWith: "no log at log: ")
            XCTAssertTrue(result.stderr.hasSuffix(hint), "\(args): \(result.stderr)")
        }
        let elsewhere = sandbox.run(["state", "--log", "/nonexistent/recovery-log"])
        assertFailure(elsewhere, status: 5, startsWith: "no log at /nonexistent/recovery-log: ")
        let fromEnvironment = sandbox.run(["state"], env: ["RECOVERY_LOG": "missing"])
        assertFailure(fromEnvironment, status: 5, startsWith: "no log at missing: ")
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.logURL.path), "a read or an append never creates a log")
    }

    func testADirectoryWithoutAManifestIsNoLog() throws {
        try FileManager.default.createDirectory(at: sandbox.logURL, withIntermediateDirectories: true)
        let result = sandbox.run(["append", "unit.registered", "unit=cpi", "name=CPI"])
        assertFailure(result, status: 5, startsWith: "no log at log: ")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: sandbox.logURL.path), [], "nothing written")
    }

    func testALogOfANewerFormatIsRefusedWithExitFive() throws {
        try makeLog()
        let manifestURL = sandbox.logURL.appendingPathComponent("manifest.json")
        let manifest = try String(decoding: Data(contentsOf: manifestURL), as: UTF8.self)
        try Data(manifest.replacingOccurrences(of: "recovery-log/1", with: "recovery-log/2").utf8).write(to: manifestURL)
        let before = try sandbox.segmentBytes()

        let message = #"the log at log has format "recovery-log/2"; this recoveryctl reads "recovery-log/1" only (a newer format needs a newer recoveryctl)"#
        for args in [["append", "unit.registered", "unit=x", "name=X"], ["kpi"], ["verify"], ["init"]] {
            let result = sandbox.run(args)
            XCTAssertEqual(result.status, 5, "\(args): \(result.stderr)")
            XCTAssertEqual(result.stdout, "", "\(args)")
            if args != ["init"] { XCTAssertEqual(result.stderr, "Error: \(message)\n", "\(args)") }
        }
        XCTAssertEqual(try sandbox.segmentBytes(), before)
    }

    func testALogWhoseTimeZoneThisMachineLacksIsRefusedWithExitFive() throws {
        try makeLog()
        let before = try sandbox.segmentBytes()
        // A tz database without Europe/Copenhagen (the log's zone): read in another zone,
        // every period and date would shift, so nothing is answered.
        let database = sandbox.directory.appending("zoneinfo").path
        try FileManager.default.createDirectory(atPath: database, withIntermediateDirectories: true)
        let message = #"the log at log reads plain dates in the time zone "Europe/Copenhagen", which the tz database in \#(database) does not have"#
        for args in [["kpi"], ["state"], ["verify"], ["append", "unit.registered", "unit=x", "name=X"]] {
            let result = sandbox.run(args, env: ["TZDIR": database])
            assertFailure(result, status: 5, startsWith: message)
            XCTAssertTrue(result.stderr.contains("Install the tzdata package"), result.stderr)
        }
        XCTAssertEqual(try sandbox.segmentBytes(), before)
        XCTAssertEqual(sandbox.run(["kpi"]).status, 0, "with the system's database it opens")
    }

    // MARK: Lock, permission

    func testALockHeldTooLongTimesOutWithExitFiveAndWritesNothing() throws {
        try makeLog()
        let before = try sandbox.segmentBytes()
        let lockPath = sandbox.logURL.appendingPathComponent("LOCK").path
        let descriptor = open(lockPath, O_RDWR)
        XCTAssertGreaterThanOrEqual(descriptor, 0, "open \(lockPath)")
        defer { close(descriptor) }
        XCTAssertEqual(flock(descriptor, LOCK_EX), 0, "the test holds the writers' lock")

        let started = Date()
        let result = sandbox.run(["append", "unit.registered", "unit=x", "name=X"], env: ["RECOVERY_LOCK_TIMEOUT": "0.3"])
        let waited = Date().timeIntervalSince(started)
        assertFailure(result, status: 5, startsWith: "another writer held log/LOCK for more than 0.3 s; nothing was written\n")
        XCTAssertTrue(result.stderr.contains("RECOVERY_LOCK_TIMEOUT"), result.stderr)
        XCTAssertTrue(result.stderr.lowercased().contains("lock"), result.stderr)
        XCTAssertGreaterThanOrEqual(waited, 0.3, "it waited for the lock")
        XCTAssertLessThan(waited, 10, "and gave up after about the timeout")
        XCTAssertEqual(try sandbox.segmentBytes(), before)

        let importFile = sandbox.directory.appending("one.jsonl")
        try Data(#"{"type":"unit.registered","data":{"unit":"y","name":"Y"}}"#.utf8).write(to: importFile)
        let importing = sandbox.run(["import", "one.jsonl"], env: ["RECOVERY_LOCK_TIMEOUT": "0.3"])
        XCTAssertEqual(importing.status, 5, importing.stderr)
        XCTAssertEqual(sandbox.run(["kpi"]).status, 0, "readers do not take the writers' lock")

        XCTAssertEqual(flock(descriptor, LOCK_UN), 0)
        XCTAssertEqual(sandbox.run(["append", "unit.registered", "unit=x", "name=X"], env: ["RECOVERY_LOCK_TIMEOUT": "0.3"]).status, 0)
    }

    func testPermissionDeniedExitsFiveAndSaysToCheckThePermissions() throws {
        if getuid() == 0 {
            throw XCTSkip("running as root: permission bits do not stop root, so a read-only log cannot be simulated")
        }
        try makeLog()
        let before = try sandbox.segmentBytes()
        // A log this user may read but not write: group access as SPEC §1 sets it, without w.
        let files = FileManager.default
        for name in try files.contentsOfDirectory(atPath: sandbox.logURL.path) {
            try files.setAttributes([.posixPermissions: 0o440], ofItemAtPath: sandbox.logURL.appendingPathComponent(name).path)
        }
        try files.setAttributes([.posixPermissions: 0o500], ofItemAtPath: sandbox.logURL.path)
        let logPath = sandbox.logURL.path
        addTeardownBlock {
            try? FileManager.default.setAttributes([.posixPermissions: 0o750], ofItemAtPath: logPath)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: logPath)) ?? [] {
                try? FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: logPath + "/" + name)
            }
        }

        let result = sandbox.run(["append", "unit.registered", "unit=x", "name=X"])
        XCTAssertEqual(result.status, 5, result.stderr)
        XCTAssertEqual(result.stdout, "")
        XCTAssertTrue(result.stderr.hasPrefix("Error: "), result.stderr)
        XCTAssertTrue(result.stderr.contains("Permission denied"), result.stderr)
        XCTAssertTrue(result.stderr.contains("Check the permissions of the log directory"), result.stderr)
        XCTAssertEqual(try sandbox.segmentBytes(), before)
        XCTAssertEqual(sandbox.run(["kpi"]).status, 0, "reading needs read access only")
    }

    // MARK: Integrity

    func testAnAppendAfterATamperedLastLineExitsFourAndSaysToRunVerify() throws {
        try makeLog()
        try sandbox.rewriteLine(2) { $0.replacingOccurrences(of: #""name":"Peers""#, with: #""name":"Peerz""#) }
        let tampered = try sandbox.segmentBytes()

        let result = sandbox.run(["append", "unit.registered", "unit=x", "name=X"])
        assertFailure(result, status: 4, startsWith: "integrity failure: seq 2 in events-000001.jsonl")
        XCTAssertTrue(result.stderr.contains("changed after it was written"), result.stderr)
        XCTAssertTrue(result.stderr.hasSuffix("Nothing was written. Run 'recoveryctl verify' for the full report.\n"), result.stderr)
        XCTAssertEqual(try sandbox.segmentBytes(), tampered, "nothing appended after the damage")

        let batch = sandbox.directory.appending("batch.jsonl")
        try Data(#"{"type":"unit.registered","data":{"unit":"y","name":"Y"}}"#.utf8).write(to: batch)
        XCTAssertEqual(sandbox.run(["import", "batch.jsonl"]).status, 4)
        XCTAssertEqual(sandbox.run(["correct", "1", "headcount=31", "--reason", "r"]).status, 4)
        XCTAssertEqual(try sandbox.segmentBytes(), tampered)

        let verify = sandbox.run(["verify"])
        assertFailure(verify, status: 4, startsWith: "integrity failure at seq 2 in events-000001.jsonl:2: hash does not match")
    }

    func testALastLineThatIsNotJSONStopsWriters() throws {
        try makeLog()
        var bytes = try sandbox.segmentBytes()
        bytes.append(contentsOf: Array("{\"seq\":3,garbage}\n".utf8))
        try bytes.write(to: sandbox.segmentURL)
        let result = sandbox.run(["append", "unit.registered", "unit=x", "name=X"])
        assertFailure(result, status: 4, startsWith: "integrity failure: ")
        XCTAssertTrue(result.stderr.contains("recoveryctl verify"), result.stderr)
        XCTAssertEqual(try sandbox.segmentBytes(), bytes)
        let verify = sandbox.run(["verify", "--json"])
        XCTAssertEqual(verify.status, 4)
        let error = try sandbox.object(verify.stdout)["error"] as? [String: Any]
        XCTAssertEqual(error?["seq"] as? Int, 3)
        XCTAssertEqual(error?["line"] as? Int, 3)
    }

    func testATornTailIsReportedByReadersAndQuarantinedByTheNextWriter() throws {
        try makeLog()
        var bytes = try sandbox.segmentBytes()
        let whole = bytes.count
        bytes.append(contentsOf: Array(#"{"actor":"x","da"#.utf8))
        try bytes.write(to: sandbox.segmentURL)

        let read = sandbox.run(["kpi", "--json"])
        XCTAssertEqual(read.status, 0, read.stderr)
        XCTAssertTrue(read.stderr.hasPrefix("Note: events-000001.jsonl ends with 16 bytes of a write that never finished (from offset \(whole))"), read.stderr)
        let verify = try sandbox.object(sandbox.run(["verify", "--json"]).stdout)
        XCTAssertEqual(verify["ok"] as? Bool, true, "a torn tail is not a failure")
        let torn = try XCTUnwrap(verify["tornTail"] as? [String: Any])
        XCTAssertEqual(torn["file"] as? String, "events-000001.jsonl")
        XCTAssertEqual(torn["offset"] as? Int, whole)
        XCTAssertEqual(torn["bytes"] as? Int, 16)
        XCTAssertEqual(try sandbox.segmentBytes(), bytes, "readers leave the bytes where they are")

        let append = sandbox.run(["append", "unit.registered", "unit=x", "name=X"])
        XCTAssertEqual(append.status, 0, append.stderr)
        XCTAssertTrue(append.stderr.hasPrefix("Note: moved 16 torn bytes from the end of events-000001.jsonl (offset \(whole)) to "), append.stderr)
        let lines = sandbox.segmentLines()
        XCTAssertEqual(lines.count, 4)
        let quarantined = try sandbox.object(lines[2])
        XCTAssertEqual(quarantined["type"] as? String, "log.tail-quarantined")
        XCTAssertTrue(append.stdout.hasPrefix("seq 4 hash "), append.stdout)
        let copies = try FileManager.default.contentsOfDirectory(atPath: sandbox.logURL.appendingPathComponent("quarantine").path)
        XCTAssertEqual(copies.count, 1)
        XCTAssertEqual(sandbox.ok(["verify"]), "ok: 4 events, head \(try sandbox.head())\n")
    }

    // MARK: Invalid input

    func testInvalidInputExitsOneNamingTheMemberAndWritesNothing() throws {
        try makeLog()
        let before = try sandbox.segmentBytes()
        let cases: [([String], String)] = [
            (["append", "unit.registered", "name=X"], "data.unit: missing; unit.registered requires it"),
            (["append", "unit.registered", "unit=CPI-2", "name=X"], #"data.unit: "CPI-2" is not a slug"#),
            (["append", "unit.registered", "unit=x", "name=X", "headcount=many"], #"data.headcount: must be an integer, found "many""#),
            (["append", "unit.registered", "unit=x", "name=X", "headcount=-3"], "data.headcount: must be at least 0"),
            (["append", "unit.registered", "unit=x", "name=X", "colour=red"], "data.colour: unknown member for unit.registered"),
            (["append", "unit.registered", "unit=cpi", "name=Again"], "data.unit: "),
            (["append", "staff.hired", "person=peer-01", "role=boss", "team=peers"], #"data.role: "boss" is not one of peer, professional, project-leader"#),
            (["append", "staff.hired", "person=peer-01", "role=peer", "team=nowhere"], "data.team: team nowhere does not exist in the log by now"),
            (["append", "staff.left", "person=peer-09"], "data.person: "),
            (["append", "team.established", "team=t2", "name=T", "kind=peer-team", "units=[]"], "data.units: "),
            (["append", "handover.completed", "case=case-1"], "data.case: "),
            (["append", "unit.register", "unit=x", "name=X"], #"type: unknown event type "unit.register""#),
            (["append", "log.tail-quarantined", "file=x", "offset=1", "bytes=1", "quarantine=q"], "type: "),
            (["append", "unit.registered", "unit=x", "name=X", "--occurred", "31-12-2021"], #"occurred: "31-12-2021" is not a real date"#),
            (["append", "minutes.recorded", "meeting=m", "text=@no-such-file.txt"], "data.text: cannot read no-such-file.txt"),
        ]
        for (args, message) in cases {
            let result = sandbox.run(args)
            assertFailure(result, status: 1, startsWith: message)
        }
        let suggestion = sandbox.run(["append", "unit.register", "unit=x", "name=X"])
        XCTAssertTrue(suggestion.stderr.contains("Did you mean 'unit.registered'?"), suggestion.stderr)
        XCTAssertTrue(
            sandbox.run(["append", "unit.registered", "name=X"]).stderr.hasSuffix(
                "\nNothing was written. 'recoveryctl types' lists every type and its members.\n"))
        XCTAssertEqual(try sandbox.segmentBytes(), before)
        let attachments = sandbox.logURL.appendingPathComponent("attachments").path
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: attachments)) ?? [], [], "no text was stored")
    }

    func testACPRNumberAnywhereIsRefusedAndNothingIsWritten() throws {
        try makeLog()
        try Data("Referat: borgeren (010203-1234) deltog.\n".utf8).write(to: sandbox.directory.appending("minutes.txt"))
        let before = try sandbox.segmentBytes()
        let cases: [([String], String)] = [
            (["append", "unit.registered", "unit=x", "name=Borger 010203-1234"], "data.name: "),
            (["append", "unit.registered", "unit=x", "name=Borger 0102031234"], "data.name: "),
            (["append", "unit.registered", "unit=x", "name=Borger 010203 1234"], "data.name: "),
            (["append", "meeting.held", "meeting=m1", "body=sg", #"agenda=["Sag 241285-4321"]"#], "data.agenda"),
            (["append", "unit.registered", "unit=x", "name=X", "--source", "journal 010203-1234"], "source: "),
            (["append", "unit.registered", "unit=x", "name=X", "--actor", "sagsbehandler 010203-1234"], "actor: "),
            (["append", "note.recorded", "about=team/peers", "text=Borger 010203-1234"], "data.text: "),
            (["append", "note.recorded", "about=team/peers", "text=@minutes.txt"], "data.text: "),
            (["append", "unit.registered", "--data", #"{"unit":"x","name":"Borger 010203-1234"}"#], "data.name: "),
        ]
        for (args, member) in cases {
            let result = sandbox.run(args)
            assertFailure(result, status: 1, startsWith: member)
            XCTAssertTrue(result.stderr.contains("CPR number"), "\(args): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("1234"), "the refusal does not repeat the number: \(result.stderr)")
        }
        XCTAssertEqual(try sandbox.segmentBytes(), before)
        let attachments = sandbox.logURL.appendingPathComponent("attachments").path
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: attachments)) ?? [], [], "no text was stored")

        // Six digits that are no date (day 32) are not a CPR number.
        XCTAssertEqual(sandbox.run(["append", "unit.registered", "unit=x", "name=Sag 320103-1234"]).status, 0)
    }

    // MARK: Usage errors

    func testUsageErrorsExitTwoWithTheUsageLineAndWhereToFindHelp() throws {
        try makeLog()
        let before = try sandbox.segmentBytes()
        let cases: [([String], String, String)] = [
            (["append"], "append", "Missing expected argument '<type>'"),
            (["correct", "1", "headcount=3"], "correct", "Missing expected argument '--reason <reason>'"),
            (["retract", "1"], "retract", "Missing expected argument '--reason <reason>'"),
            (["erase"], "erase", "Missing expected argument '<ref>'"),
            (["show"], "show", "Missing expected argument '<id-or-seq>'"),
            (["append", "unit.registered", "unit"], "append", "Expected key=value, found 'unit'"),
            (["append", "unit.registered", "=x"], "append", "Expected key=value, found '=x'"),
            (["log", "--limit", "ten"], "log", "The value 'ten' is invalid for '--limit <n>': not a whole number"),
            (["kpi", "--valid-at", "2021-13-01"], "kpi", "The value '2021-13-01' is invalid for '--valid-at <date>'"),
            (["state", "--as-of", "tomorrow"], "state", "The value 'tomorrow' is invalid for '--as-of <time>'"),
            (["report", "--lang", "de"], "report", "The value 'de' is invalid for '--lang <lang>'. Please provide one of 'da' and 'en'."),
            (["import", "rows.csv"], "import", "A CSV file needs --type: the event type of every row"),
            (["verify", "--expect-head", "latest"], "verify", "The value 'latest' is invalid for '--expect-head <seq:hash>'"),
            (["kpi", "--valid"], "kpi", "Unknown option '--valid'. Did you mean '--valid-at'?"),
            (["head", "extra"], "head", "Unexpected argument 'extra'"),
            (["init", "--segment-size", "10"], "init", "The value '10' is invalid for '--segment-size <bytes>': must be at least 4096"),
        ]
        try Data("unit,name\nx,X\n".utf8).write(to: sandbox.directory.appending("rows.csv"))
        for (args, command, message) in cases {
            let result = sandbox.run(args)
            XCTAssertEqual(result.status, 2, "\(args): \(result.stderr)")
            XCTAssertEqual(result.stdout, "", "\(args)")
            let lines = result.stderr.split(separator: "\n").map(String.init)
            XCTAssertTrue(lines.first?.hasPrefix("Error: \(message)") ?? false, "\(args): \(result.stderr)")
            XCTAssertTrue(lines.contains { $0.hasPrefix("Usage: recoveryctl \(command) ") }, "\(args): \(result.stderr)")
            XCTAssertEqual(lines.last, "  See 'recoveryctl \(command) --help' for more information.", "\(args)")
        }
        XCTAssertEqual(try sandbox.segmentBytes(), before)
    }
}
