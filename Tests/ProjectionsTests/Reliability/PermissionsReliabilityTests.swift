import EventStore
import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Permissions and privacy through the built binary (issue 7): every file the tool makes
/// is 0640 and every directory 0750 (SPEC §1), whatever the umask, including quarantine/,
/// attachments/, the files in them, later segments and the checkpoint; and every event
/// records who wrote it.
final class PermissionsReliabilityTests: XCTestCase {
    /// Runs `recoveryctl --log LOG ARGUMENTS…` under `umask MASK`.
    private func run(_ log: CLILog, umask mask: String, _ arguments: [String], env: [String: String] = ["RECOVERY_ACTOR": "tester"]) -> (status: Int32, stdout: String, stderr: String) {
        let command = ([CLILog.binary, "--log", log.path] + arguments).map(shellQuoted).joined(separator: " ")
        return runProcess(["/bin/bash", "-c", "umask \(mask); exec \(command)"], env: env)
    }

    private func mode(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    func testEveryFileIs0640AndEveryDirectory0750WhateverTheUmask() throws {
        var checkedFiles = 0, checkedDirectories = 0
        for mask in ["000", "077", "022"] {
            let directory = try makeTemporaryDirectory(prefix: "reliability-modes")
            let log = CLILog(existing: directory.appending("log").path, root: directory.url)
            func must(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) {
                let result = run(log, umask: mask, arguments)
                XCTAssertEqual(result.status, 0, "umask \(mask): \(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
            }
            must(["init", "--segment-size", "4096"])
            must(["append", "unit.registered", "unit=venue", "name=Venue"])
            must(["append", "note.recorded", "about=unit/venue", "text=A note kept as an attachment."])
            // A torn tail, moved to quarantine/ by the next writer.
            let handle = try XCTUnwrap(FileHandle(forWritingAtPath: log.segments().last.map { "\(log.path)/\($0)" } ?? ""))
            handle.seekToEndOfFile()
            handle.write(Data(#"{"torn":"#.utf8))
            try handle.close()
            // Enough events to start new segments and to make the writer keep a checkpoint.
            let rows = (1...300).map { #"{"type":"attendance.counted","occurred":"2021-06-01","data":{"offer":"o","venue":"venue","period":"2021","contacts":\#($0)}}"# }
            try (rows.joined(separator: "\n") + "\n").write(to: directory.appending("rows.jsonl"), atomically: true, encoding: .utf8)
            must(["import", directory.appending("rows.jsonl").path])
            must(["append", "attendance.counted", "offer=o", "venue=venue", "period=2021", "contacts=0"])
            // Readers may keep derived files too (a KPI checkpoint).
            must(["kpi"])
            must(["verify"])

            XCTAssertGreaterThan(log.segments().count, 1, "umask \(mask): no second segment")
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(log.path)/quarantine"), "umask \(mask): nothing was quarantined")
            XCTAssertEqual(mode(log.path), 0o750, "umask \(mask): the log directory")
            checkedDirectories += 1
            let walker = try XCTUnwrap(FileManager.default.enumerator(atPath: log.path))
            for case let relative as String in walker {
                let path = "\(log.path)/\(relative)"
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
                XCTAssertEqual(String(mode(path), radix: 8), isDirectory.boolValue ? "750" : "640", "umask \(mask): \(relative)")
                if isDirectory.boolValue { checkedDirectories += 1 } else { checkedFiles += 1 }
            }
            for expected in ["manifest.json", "LOCK", "events-000001.jsonl", "events-000002.jsonl", "quarantine", "attachments"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: "\(log.path)/\(expected)"), "umask \(mask): \(expected) is missing")
            }
            XCTAssertEqual(log.verify().report?["ok"], .bool(true))
        }
        Figures.record("permissions.modes", ["umasks": 3, "filesChecked": checkedFiles, "directoriesChecked": checkedDirectories])
    }

    /// `--actor`, else `RECOVERY_ACTOR`, else the login name; import rows too; the store's
    /// own events say `recoveryctl`.
    func testEveryEventRecordsItsActor() throws {
        let log = try CLILog(in: makeTemporaryDirectory(prefix: "reliability-actor"))
        log.must(["append", "unit.registered", "unit=a", "name=A", "--actor", "given-actor"], env: ["RECOVERY_ACTOR": "env-actor"])
        log.must(["append", "unit.registered", "unit=b", "name=B"], env: ["RECOVERY_ACTOR": "env-actor"])
        let login = try XCTUnwrap(getpwuid(geteuid())?.pointee.pw_name.map { String(cString: $0) })
        let plain = runCLI(["--log", log.path, "append", "unit.registered", "unit=c", "name=C"], cwd: log.root)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        try (#"{"type":"unit.registered","data":{"unit":"d","name":"D"}}"# + "\n").write(to: log.root.appendingPathComponent("d.jsonl"), atomically: true, encoding: .utf8)
        log.must(["import", "d.jsonl", "--actor", "importer"])
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: log.segmentPath()))
        handle.seekToEndOfFile()
        handle.write(Data("torn".utf8))
        try handle.close()
        log.must(["append", "unit.registered", "unit=e", "name=E"])
        let actors = try log.events().events.map(\.actor)
        XCTAssertEqual(actors, ["given-actor", "env-actor", login, "importer", "recoveryctl", "tester"])
    }
}
