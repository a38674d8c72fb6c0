import EventStore
import Projections
import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

// Shared machinery of the reliability tests (issue 7): knobs for the long runs, a seeded
// generator, children in their own process group (so one SIGKILL reaches everything
// they started), a log made by the built binary, and the figures RELIABILITY.md quotes.

/// Sizes of the randomised tests. CI runs the defaults; `scripts/reliability-long.sh`
/// raises them through the environment.
enum Knobs {
    static func int(_ name: String, _ defaultValue: Int) -> Int {
        ProcessInfo.processInfo.environment[name].flatMap { Int($0) } ?? defaultValue
    }

    /// `RELIABILITY_SEED` moves every randomised test to other cases; the default is fixed
    /// so CI runs the same cases every time.
    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["RELIABILITY_SEED"].flatMap { UInt64($0) } ?? 0x7E57_0007
    }
}


/// Figures for RELIABILITY.md: one JSON line per figure appended to `$RELIABILITY_FIGURES`
/// when it is set, and printed either way.
enum Figures {
    static func record(_ test: String, _ figures: KeyValuePairs<String, Int>) {
        var object = JSONObject(["test": .string(test)])
        for (name, value) in figures { object[name] = .integer(value) }
        let line = CanonicalJSON.string(.object(object))
        print("figures: \(line)")
        guard let path = ProcessInfo.processInfo.environment["RELIABILITY_FIGURES"], !path.isEmpty else { return }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}

// MARK: children

/// A child process started with `posix_spawn` in a new process group, its output sent to
/// files. A reference type because it owns the process until it is reaped.
final class Child {
    let pid: pid_t
    private(set) var status: Int32?

    /// Starts `arguments[0]` (an absolute path) with the test's environment minus every
    /// `RECOVERY_*` variable, plus `environment`.
    init(_ arguments: [String], environment: [String: String] = [:], stdout: String = "/dev/null", stderr: String = "/dev/null") throws {
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RECOVERY_") }
        merged.merge(environment) { _, new in new }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else { throw SpawnError(arguments: arguments, code: result) }
        self.pid = pid
    }

    struct SpawnError: Error, CustomStringConvertible {
        var arguments: [String]
        var code: Int32
        var description: String { "cannot start \(arguments[0]): \(String(cString: strerror(code)))" }
    }

    /// Sends `signal` to the whole group: the shell and the `recoveryctl` it is running.
    func signalGroup(_ signal: Int32) { kill(-pid, signal) }

    /// Waits for the child; the exit status, or 128 + the signal that ended it.
    @discardableResult
    func wait() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let decoded = Child.decode(raw)
        status = decoded
        return decoded
    }

    /// The status if the child has ended, without waiting.
    func poll() -> Int32? {
        if let status { return status }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
        status = Child.decode(raw)
        return status
    }

    private static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }

    deinit {
        if status == nil {
            signalGroup(SIGKILL)
            wait()
        }
    }
}

/// Runs a program to its end (killing it after `timeout` seconds) and returns its exit
/// status (128 + signal when a signal ended it) and output.
func runProcess(_ arguments: [String], env: [String: String] = [:], timeout: Double = 120) -> (status: Int32, stdout: String, stderr: String) {
    let scratch = NSTemporaryDirectory() + "/reliability-run-\(UUID().uuidString)"
    let out = scratch + ".out", err = scratch + ".err"
    defer {
        unlink(out)
        unlink(err)
    }
    do {
        let child = try Child(arguments, environment: env, stdout: out, stderr: err)
        let deadline = monotonicSeconds() + timeout
        while child.poll() == nil {
            if monotonicSeconds() > deadline { child.signalGroup(SIGKILL) }
            usleep(2_000)
        }
        let status = child.wait()
        return (status, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    } catch {
        return (-1, "", "\(error)")
    }
}

extension TemporaryDirectory {
    /// A directory made elsewhere, to be removed like the others.
    init(existing url: URL) { self.url = url }
}

extension XCTestCase {
    /// A fresh directory under `parent` when that is a writable directory, else under the
    /// system's temporary directory; deleted when the test ends.
    func makeTemporaryDirectory(prefix: String, under parent: String) throws -> TemporaryDirectory {
        guard access(parent, W_OK) == 0 else { return try makeTemporaryDirectory(prefix: prefix) }
        let url = URL(fileURLWithPath: parent).appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let directory = TemporaryDirectory(existing: url)
        addTeardownBlock { directory.remove() }
        return directory
    }
}

/// Seconds on a monotonic clock.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

func sleepSeconds(_ seconds: Double) {
    guard seconds > 0 else { return }
    usleep(UInt32(seconds * 1_000_000))
}

/// The size of a file, 0 when there is none.
func fileSize(atPath path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : 0
}

/// Quotes a string for a POSIX shell.
func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

// MARK: a log made by the binary

/// A log directory in a test's temporary directory, driven through the built binary.
struct CLILog {
    let root: URL
    let path: String

    /// Creates `root/log` with `recoveryctl init` (and `--segment-size` when given).
    init(in directory: TemporaryDirectory, name: String = "log", segmentSize: Int? = nil) throws {
        root = directory.url
        path = directory.appending(name).path
        var arguments = ["init"]
        if let segmentSize { arguments += ["--segment-size", String(segmentSize)] }
        let result = run(arguments)
        guard result.status == 0 else { throw CLILogError(message: "init failed: \(result.stderr)") }
    }

    /// A log that already exists at `path`.
    init(existing path: String, root: URL) {
        self.path = path
        self.root = root
    }

    struct CLILogError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static var binary: String { CLIExecutable.url?.path ?? "recoveryctl" }

    /// Runs `recoveryctl --log PATH ARGUMENTS…`.
    @discardableResult
    func run(_ arguments: [String], env: [String: String] = [:], stdin: Data? = nil, timeout: TimeInterval = 120) -> (status: Int32, stdout: String, stderr: String) {
        var environment = ["RECOVERY_ACTOR": "tester"]
        environment.merge(env) { _, new in new }
        return runCLI(["--log", path] + arguments, env: environment, stdin: stdin, cwd: root, timeout: timeout)
    }

    /// Runs an append or another writer and fails the test unless it exits 0.
    @discardableResult
    func must(_ arguments: [String], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) -> String {
        let result = run(arguments, env: env)
        XCTAssertEqual(result.status, 0, "recoveryctl \(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
        return result.stdout
    }

    /// `recoveryctl --json verify` parsed, with its exit status.
    func verify(_ extra: [String] = []) -> (status: Int32, report: JSONObject?, stderr: String) {
        let result = run(["--json", "verify"] + extra)
        let report: JSONObject? = {
            guard case .object(let object)? = try? JSONParser.parse(Array(result.stdout.trimmingCharacters(in: .newlines).utf8)) else { return nil }
            return object
        }()
        return (result.status, report, result.stderr)
    }

    /// `recoveryctl head`.
    func head() -> String { run(["head"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

    func segmentPath(_ number: Int = 1) -> String { "\(path)/\(EventLog.segmentName(number))" }

    /// The names of the segments, in order.
    func segments() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasPrefix("events-") }.sorted()
    }

    /// Every file under the log but the derived checkpoint, by relative path, with its bytes.
    func snapshot(includingDerived: Bool = false) -> [String: Data] {
        var files: [String: Data] = [:]
        guard let walker = FileManager.default.enumerator(atPath: path) else { return files }
        for case let relative as String in walker {
            if !includingDerived && relative == Checkpoint.fileName { continue }
            var isDirectory: ObjCBool = false
            let full = "\(path)/\(relative)"
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            files[relative] = FileManager.default.contents(atPath: full) ?? Data()
        }
        return files
    }

    /// The lines of all segments (without their newlines), in order, and what follows the last newline.
    func lines() -> (lines: [[UInt8]], tail: [UInt8]) {
        var all: [[UInt8]] = []
        var tail: [UInt8] = []
        for name in segments() {
            let bytes = [UInt8](FileManager.default.contents(atPath: "\(path)/\(name)") ?? Data())
            var parts = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
            tail = parts.removeLast()
            all += parts
        }
        return (all, tail)
    }

    /// The events in the log, read by the library with every check.
    func events() throws -> (events: [Event], torn: TornTail?) {
        var events: [Event] = []
        let summary = try EventLog(path: path).read(checks: .hashes) { events.append($0); return true }
        return (events, summary.tornTail)
    }
}

extension JSONObject {
    func string(_ key: String) -> String? { self[key]?.stringValue }
    func int(_ key: String) -> Int? {
        if case .integer(let value)? = self[key] { return value }
        return nil
    }
    func object(_ key: String) -> JSONObject? { self[key]?.objectValue }
}

/// Parses one JSON text, or nil.
func parseJSONObject(_ text: String) -> JSONObject? {
    guard case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) else { return nil }
    return object
}

/// A lower-case UUID made from a number, so a test can name the event it meant.
func uuid(_ number: Int, family: Int = 0) -> String {
    let hex = String(number, radix: 16)
    let digits = String(repeating: "0", count: max(0, 12 - hex.count)) + hex
    let familyHex = String(family, radix: 16)
    let familyDigits = String(repeating: "0", count: max(0, 8 - familyHex.count)) + familyHex
    return "\(familyDigits)-0000-4000-8000-\(digits)"
}
