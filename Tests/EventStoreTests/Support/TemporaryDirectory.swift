import EventStore
import Foundation
import XCTest

/// A base test case that gives every test its own new directory under the system's
/// temporary directory and removes it afterwards (after GRDB's `GRDBTestCase`), plus
/// helpers that look at a log the way a user would: its bytes on disk.
///
/// Set `RECOVERY_KEEP_TEST_DIRS=1` to keep the directories for inspection.
class TemporaryDirectoryTestCase: XCTestCase {
    /// The test's own directory; exists from `setUp` to `tearDown`.
    private(set) var directory = ""

    /// Where tests put their log: `directory/log` (not yet created).
    var logPath: String { "\(directory)/log" }

    override func setUpWithError() throws {
        try super.setUpWithError()
        let test = name.split(whereSeparator: { $0 == "." || $0 == " " }).last.map(String.init) ?? name
        let name = test.filter { $0.isLetter || $0.isNumber }.prefix(60)
        let path = "\(NSTemporaryDirectory())/recoveryctl-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        directory = URL(fileURLWithPath: path).standardizedFileURL.path
    }

    override func tearDownWithError() throws {
        if !directory.isEmpty, ProcessInfo.processInfo.environment["RECOVERY_KEEP_TEST_DIRS"] != "1" {
            // A test may have left a directory without write permission behind.
            _ = chmod(directory, 0o755)
            try? FileManager.default.removeItem(atPath: directory)
        }
        try super.tearDownWithError()
    }
}

// MARK: logs

extension TemporaryDirectoryTestCase {
    /// Creates a log at `logPath`.
    @discardableResult
    func makeLog(segmentSize: Int = Manifest.defaultSegmentSize, fileOperations: any FileOperations = SystemFileOperations()) throws -> EventLog {
        try EventLog.create(at: logPath, segmentSize: segmentSize, fileOperations: fileOperations)
    }

    /// A draft of a note, `n` in its data so every event differs.
    func draft(_ n: Int, id: String? = nil, extra: KeyValuePairs<String, JSONValue> = [:]) -> EventDraft {
        var data = JSONObject(["n": .integer(n)])
        for (key, value) in extra { data[key] = value }
        return EventDraft(id: id, type: "note.recorded", stream: "unit/u\(n)", occurred: "2021-03-31", actor: "tester", data: data)
    }

    /// Appends drafts `first..<first+count`, one event per append; returns the events written.
    @discardableResult
    func appendNotes(_ log: EventLog, count: Int, from first: Int = 1) throws -> [Event] {
        var events = [Event]()
        for n in first..<(first + count) {
            events += try log.append { _ in [self.draft(n)] }.events
        }
        return events
    }

    /// Every event `read` yields, and its summary.
    func readAll(_ log: EventLog, checks: ReadChecks = []) throws -> (events: [Event], summary: ReadSummary) {
        var events = [Event]()
        let summary = try log.read(checks: checks) { events.append($0); return true }
        return (events, summary)
    }

    /// The integrity failure an expression throws, or a test failure when it throws none or another error.
    func integrityFailure(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> IntegrityFailure? {
        do {
            try body()
            XCTFail("expected an integrity failure, nothing was thrown", file: file, line: line)
        } catch LogError.integrity(let failure) {
            return failure
        } catch {
            XCTFail("expected an integrity failure, got \(error)", file: file, line: line)
        }
        return nil
    }
}

// MARK: bytes on disk

extension TemporaryDirectoryTestCase {
    func segmentPath(_ number: Int = 1, in log: String? = nil) -> String {
        "\(log ?? logPath)/\(EventLog.segmentName(number))"
    }

    func bytes(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            XCTFail("cannot read \(path)", file: file, line: line)
            return []
        }
        return [UInt8](data)
    }

    func text(_ path: String) throws -> String {
        String(decoding: try bytes(path), as: UTF8.self)
    }

    func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func appendBytes(_ bytes: [UInt8], to path: String) throws {
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
    }

    /// The lines of a segment, each without its newline. A torn tail is the last element
    /// when the file does not end with a newline.
    func lines(_ path: String) throws -> [[UInt8]] {
        var lines = try bytes(path).split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if lines.last == [] { lines.removeLast() }
        return lines
    }

    /// Writes lines back, each ended by a newline.
    func writeLines(_ lines: [[UInt8]], to path: String) throws {
        try write(lines.flatMap { $0 + [0x0A] }, to: path)
    }

    /// The permission bits of a file or directory.
    func mode(_ path: String) -> mode_t {
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0, "stat \(path)")
        return info.st_mode & 0o7777
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// Names in a directory, sorted.
    func entries(_ path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    /// The event a line holds, parsed through the store's own envelope reader.
    func event(_ line: [UInt8]) throws -> Event {
        let value = try JSONParser.parse(line, integersOnly: true)
        let object = try XCTUnwrap({ if case .object(let o) = value { o } else { nil } }(), "the line is not a JSON object")
        return try Event(json: object)
    }

    /// Re-links `events` into a chain after `prev`: each gets the previous hash and a
    /// recomputed hash of its own. What a forger with a copy of the code can do.
    func rechain(_ events: [Event], after prev: String) -> [Event] {
        var prev = prev
        return events.map { event in
            var event = event
            event.prev = prev
            event.hash = event.computedHash()
            prev = event.hash
            return event
        }
    }
}

// MARK: assertions

extension TemporaryDirectoryTestCase {
    /// Compares bytes and, when they differ, says where instead of printing both arrays.
    func assertBytes(_ actual: @autoclosure () throws -> [UInt8], _ expected: @autoclosure () throws -> [UInt8], _ message: String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
        do {
            let a = try actual(), e = try expected()
            guard a != e else { return }
            let first = (0..<min(a.count, e.count)).first { a[$0] != e[$0] } ?? min(a.count, e.count)
            func around(_ bytes: [UInt8]) -> String {
                String(decoding: bytes[max(0, first - 20)..<min(bytes.count, first + 40)], as: UTF8.self).debugDescription
            }
            XCTFail("bytes differ at offset \(first) (\(a.count) bytes, expected \(e.count)): \(around(a)) vs \(around(e)) \(message)", file: file, line: line)
        } catch {
            XCTFail("\(error) \(message)", file: file, line: line)
        }
    }
}

/// Runs `body` with the environment variable `name` set to `value`, then sets it back
/// as it was (or unsets it).
func withEnvironment<T>(_ name: String, _ value: String, _ body: () throws -> T) rethrows -> T {
    let previous = getenv(name).map { String(cString: $0) }
    setenv(name, value, 1)
    defer { if let previous { setenv(name, previous, 1) } else { unsetenv(name) } }
    return try body()
}
