import Foundation
import XCTest

/// A checkpoint edited in the log's directory never changes an answer: both checkpoints
/// are sealed with a MAC under a key kept outside the log (README, "Checkpoints").
final class CheckpointSealTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var env: [String: String] = [:]

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory()
        env = ["RECOVERY_ACTOR": "tester", "RECOVERY_CHECKPOINT_KEY": directory.appending("key/checkpoint.key").path]
        let rows = (1...300).map { #"{"type":"unit.registered","data":{"unit":"u\#($0)","name":"U \#($0)","headcount":2}}"# }
        try (rows.joined(separator: "\n") + "\n").write(to: directory.appending("units.jsonl"), atomically: true, encoding: .utf8)
        try run(["init"])
        try run(["import", "units.jsonl"])
        try run(["append", "unit.registered", "unit=x", "name=X"])
    }

    @discardableResult
    private func run(_ arguments: [String], status: Int32 = 0) throws -> String {
        let result = runCLI(arguments, env: env, cwd: directory.url)
        XCTAssertEqual(result.status, status, "recoveryctl \(arguments.joined(separator: " ")): \(result.stderr)")
        return result.stdout
    }

    private func file(_ name: String) -> URL { directory.appending("log/\(name)") }

    func testTheKeyIsMadeOutsideTheLogWithModeSixHundred() throws {
        let key = directory.appending("key/checkpoint.key").path
        let attributes = try FileManager.default.attributesOfItem(atPath: key)
        XCTAssertEqual((attributes[.posixPermissions] as? Int), 0o600)
        XCTAssertEqual((attributes[.size] as? Int), 32)
        XCTAssertTrue(try String(contentsOf: file("checkpoint.bin"), encoding: .isoLatin1).hasPrefix("recovery-sealed-pages/1\n"))
    }

    func testAnEditedKPICheckpointIsNotBelieved() throws {
        let cold = try run(["kpi", "--json"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: file("kpi-checkpoint.json").path))
        // Change a figure and keep everything else, the MAC line included.
        let text = try String(contentsOf: file("kpi-checkpoint.json"), encoding: .utf8)
        let edited = text.replacingOccurrences(of: #""scope":"u1","target":2}"#, with: #""scope":"u1","target":7}"#)
        XCTAssertNotEqual(edited, text, "the edit must change the file")
        try edited.write(to: file("kpi-checkpoint.json"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(["kpi", "--json"]), cold)
    }

    func testAnEditedValidationCheckpointIsNotBelieved() throws {
        // The checkpoint (taken after the import) knows unit u1: an entry of a stream that
        // exists (flags 3), a key of 3 bytes (the kind unit, 1, then u1); renamed to q1
        // there, a believed checkpoint would refuse an update of u1 as naming a unit that
        // does not exist.
        var bytes = try Data(contentsOf: file("checkpoint.bin"))
        let key = Data([3, 3, 1, UInt8(ascii: "u"), UInt8(ascii: "1")])
        guard let at = bytes.range(of: key) else { return XCTFail("the checkpoint holds unit u1") }
        bytes[at.upperBound - 2] = UInt8(ascii: "q")
        try bytes.write(to: file("checkpoint.bin"))
        try run(["append", "unit.updated", "unit=u1", "headcount=3"])
        let state = try run(["state", "--json"])
        XCTAssertTrue(state.contains(#""u1":{"headcount":3,"name":"U 1","parent":null}"#), state)
    }

    func testAPageEditedWhereAnAppendLooksIsCaughtThereAndTheAppendValidatesFromTheLog() throws {
        // A checkpoint of many pages, so the edit lies on a page that only a lookup reads
        // (the first page, with the header, is read by every load).
        let rows = (301...3300).map { #"{"type":"unit.registered","data":{"unit":"u\#($0)","name":"U \#($0)","headcount":2}}"# }
        try (rows.joined(separator: "\n") + "\n").write(to: directory.appending("more.jsonl"), atomically: true, encoding: .utf8)
        try run(["import", "more.jsonl"])
        // Unit u2500 as the checkpoint stores it: a stream that exists (flags 3), a key of
        // 6 bytes (the kind unit, 1, then u2500). Renamed to q2500 there, a believed page
        // would refuse an update of u2500 as naming a unit that does not exist.
        var bytes = try Data(contentsOf: file("checkpoint.bin"))
        let key = Data([3, 6, 1] + Array("u2500".utf8))
        guard let at = bytes.range(of: key) else { return XCTFail("the checkpoint holds unit u2500") }
        XCTAssertGreaterThan(at.lowerBound, 2 * 4096, "the entry lies past the first pages")
        bytes[at.lowerBound + 3] = UInt8(ascii: "q")
        try bytes.write(to: file("checkpoint.bin"))
        try run(["append", "unit.updated", "unit=u2500", "headcount=3"])
        let state = try run(["state", "--json"])
        XCTAssertTrue(state.contains(#""u2500":{"headcount":3,"name":"U 2500","parent":null}"#), "u2500 updated")
        // The edited checkpoint was replaced by one that verify finds equal to a replay.
        XCTAssertNotEqual(try Data(contentsOf: file("checkpoint.bin")), bytes)
        let verified = runCLI(["verify"], env: env, cwd: directory.url)
        XCTAssertEqual(verified.status, 0, verified.stderr)
        XCTAssertFalse(verified.stderr.contains("did not match"), verified.stderr)
    }

    func testWithoutAKeyNoCheckpointIsWrittenAndAnswersStayTheSame() throws {
        let answer = try run(["kpi", "--json"])
        try FileManager.default.removeItem(at: file("checkpoint.bin"))
        try? FileManager.default.removeItem(at: file("kpi-checkpoint.json"))
        // A key readable by others is refused, and with it every checkpoint.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory.appending("key/checkpoint.key").path)
        let rows = (301...700).map { #"{"type":"unit.registered","data":{"unit":"u\#($0)","name":"U \#($0)"}}"# }
        try (rows.joined(separator: "\n") + "\n").write(to: directory.appending("more.jsonl"), atomically: true, encoding: .utf8)
        try run(["import", "more.jsonl"])
        try run(["append", "unit.registered", "unit=y", "name=Y"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: file("checkpoint.bin").path))
        XCTAssertNotEqual(try run(["kpi", "--json"]), answer)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file("kpi-checkpoint.json").path))
    }
}
