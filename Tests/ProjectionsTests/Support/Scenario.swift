import EventStore
import Foundation
@testable import Projections
import XCTest

// MARK: building data

/// A value a test can write in a data literal: strings, integers, booleans, lists and
/// objects of them, and JSON values themselves.
protocol FixtureValue {
    var json: JSONValue { get }
}

extension String: FixtureValue { var json: JSONValue { .string(self) } }
extension Int: FixtureValue { var json: JSONValue { .integer(self) } }
extension Bool: FixtureValue { var json: JSONValue { .bool(self) } }
extension JSONValue: FixtureValue { var json: JSONValue { self } }
extension JSONObject: FixtureValue { var json: JSONValue { .object(self) } }
extension Array: FixtureValue where Element: FixtureValue { var json: JSONValue { .array(map(\.json)) } }
extension Dictionary: FixtureValue where Key == String, Value: FixtureValue {
    var json: JSONValue {
        var object = JSONObject()
        for (key, value) in self { object[key] = value.json }
        return .object(object)
    }
}

/// `J(["unit": "cpi", "headcount": 42])`: an event's data from a literal.
func J(_ pairs: KeyValuePairs<String, any FixtureValue>) -> JSONObject {
    var object = JSONObject()
    for (key, value) in pairs { object[key] = value.json }
    return object
}

/// A fact to append, with the defaults tests want: a fixed actor.
func fact(_ type: String, _ pairs: KeyValuePairs<String, any FixtureValue>, on occurred: String? = nil,
          id: String? = nil, source: String? = nil, actor: String = "projektleder") -> NewEvent {
    NewEvent(type: type, data: J(pairs), occurred: occurred, source: source, actor: actor, id: id)
}

/// A deterministic lower-case UUID for the `n`th event of a fixture.
func fixtureID(_ n: Int) -> String {
    let hex = String(n, radix: 16)
    return "00000000-0000-4000-8000-" + String(repeating: "0", count: max(0, 12 - hex.count)) + hex
}

// MARK: a log through the public API

/// A fresh log in a temporary directory and its ledger, for tests that append through
/// `Ledger.append` (recorded times come from the clock).
struct LedgerFixture {
    let directory: TemporaryDirectory
    let log: EventLog
    let ledger: Ledger

    var path: String { log.path }
    var segmentPath: String { "\(log.path)/\(EventLog.segmentName(1))" }

    init(_ test: XCTestCase) throws {
        directory = try test.makeTemporaryDirectory(prefix: "projections")
        log = try EventLog.create(at: directory.appending("log").path)
        ledger = Ledger(log: log)
    }

    /// Appends `events` as one batch and returns them as written.
    @discardableResult
    func append(_ events: NewEvent...) throws -> [Event] {
        try ledger.append(events).events.map(\.event)
    }

    /// The bytes of the first segment: what "nothing written" is checked against.
    func segmentBytes() throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: segmentPath))
    }

    /// The files under `attachments/` (none when the directory does not exist).
    func attachmentNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(log.path)/\(EventLog.attachmentsName)")) ?? []).sorted()
    }
}

/// The refusal `body` throws, failing the test when it throws another error or none.
func refusal(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> Ledger.BatchRefused? {
    do {
        try body()
        XCTFail("expected the append to be refused, but it succeeded", file: file, line: line)
    } catch let refused as Ledger.BatchRefused {
        return refused
    } catch {
        XCTFail("expected BatchRefused, got \(error)", file: file, line: line)
    }
    return nil
}

// MARK: a log written by hand

/// Writes a log line by line with chosen `recorded` times and ids, so a scenario is
/// the same bytes every run (golden files, bitemporal tests).
///
/// Each event is first checked by a dry-run append against the log as it stands, which
/// also derives its stream; then it is sealed (seq, prev, hash) and its line appended to
/// `events-000001.jsonl` as the store would write it.
struct ScenarioLog {
    let log: EventLog
    let ledger: Ledger
    private(set) var events: [Event] = []
    private var lastRecorded: Int64 = 0

    init(at path: String) throws {
        log = try EventLog.create(at: path)
        ledger = Ledger(log: log)
    }

    var head: LogHead { events.last.map { LogHead(seq: $0.seq, hash: $0.hash, recorded: $0.recorded) } ?? .empty }
    var segmentPath: String { "\(log.path)/\(EventLog.segmentName(1))" }

    /// Appends one event. `recorded` defaults to 10:00 UTC on the day after `occurred`'s
    /// date (a minute after the previous event when that is later); `id` to `fixtureID(seq)`.
    @discardableResult
    mutating func add(_ type: String, _ pairs: KeyValuePairs<String, any FixtureValue>, on occurred: String,
                      recorded: String? = nil, id: String? = nil, source: String? = nil, actor: String = "projektleder") throws -> Event {
        let seq = events.count + 1
        let new = NewEvent(type: type, data: J(pairs), occurred: occurred, source: source, actor: actor, id: id ?? fixtureID(seq))
        let preview = try ledger.append([new], dryRun: true)
        guard let checked = preview.events.first?.event else { throw ScenarioError("the dry run of seq \(seq) returned no event") }
        return try write(type: type, data: new.data, stream: checked.stream, occurred: occurred, recorded: recorded,
                         id: new.id!, source: source, actor: actor)
    }

    /// Appends an event the store writes itself (`log.tail-quarantined`), unchecked.
    @discardableResult
    mutating func addStoreEvent(_ type: String, _ pairs: KeyValuePairs<String, any FixtureValue>, stream: String, on occurred: String,
                                recorded: String? = nil, actor: String = "recoveryctl") throws -> Event {
        try write(type: type, data: J(pairs), stream: stream, occurred: occurred, recorded: recorded,
                  id: fixtureID(events.count + 1), source: nil, actor: actor)
    }

    /// Stores a text under `attachments/` with a fixed salt, as `storeText` would with a
    /// random one, and returns its reference.
    func storeText(_ text: String, salt: String) throws -> String {
        let directory = "\(log.path)/\(EventLog.attachmentsName)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let bytes = Array("salt \(salt)\n".utf8) + Array(text.utf8)
        let reference = "sha256-" + SHA256.hex(bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/\(reference)"))
        return reference
    }

    private mutating func write(type: String, data: JSONObject, stream: String, occurred: String, recorded: String?,
                                id: String, source: String?, actor: String) throws -> Event {
        let millis: Int64
        if let recorded {
            guard let parsed = Timestamp.millis(ofRecorded: recorded) else { throw ScenarioError("\(recorded) is not a recorded time") }
            millis = parsed
        } else {
            let day = Timestamp.calendarDate(ofOccurred: occurred)!.daysSinceEpoch + 1
            millis = max(Int64(day) * 86_400_000 + 10 * 3_600_000, lastRecorded + 60_000)
        }
        guard millis >= lastRecorded else { throw ScenarioError("recorded \(recorded ?? "") goes back in time") }
        lastRecorded = millis
        var event = Event(seq: events.count + 1, id: id, type: type, v: 1, stream: stream, occurred: occurred,
                          recorded: Timestamp.recordedString(millis: millis), actor: actor, source: source, data: data,
                          prev: head.hash, hash: "")
        event.hash = event.computedHash()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: segmentPath))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(event.lineBytes()))
        events.append(event)
        return event
    }
}

struct ScenarioError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: reading answers

extension Array where Element == KPIRow {
    /// The one row with this kpi, scope and period; fails the test when there is none.
    func row(_ kpi: String, _ scope: String, _ period: String? = nil, file: StaticString = #filePath, line: UInt = #line) -> KPIRow? {
        let found = filter { $0.kpi == kpi && $0.scope == scope && $0.period == period }
        XCTAssertEqual(found.count, 1, "rows for \(kpi) \(scope) \(period ?? "-"): \(found)", file: file, line: line)
        return found.first
    }

    /// The rows of one kpi and scope, in period order: `period actual/target met`.
    func summary(_ kpi: String, _ scope: String) -> [String] {
        filter { $0.kpi == kpi && $0.scope == scope }.map(\.brief)
    }
}

extension KPIRow {
    /// `2021-Q1 1/1 true`, `- 0/3 false`, `- null/- null`: a row in one short string.
    var brief: String {
        "\(period ?? "-") \(actual.map(String.init) ?? "null")/\(target.map(String.init) ?? "-") \(met.map(String.init) ?? "null")"
    }
}

// MARK: golden files

/// Readable, stable JSON for golden files: an object or list holding objects or lists
/// is spread one member a line (two spaces per level, members in canonical order);
/// anything flat (a KPI row, a unit, a list of strings) stays on one line as canonical JSON.
func prettyJSON(_ value: JSONValue, indent: String = "") -> String {
    func isNested(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let object): object.members.contains { if case .object = $0.value { true } else if case .array = $0.value { true } else { false } }
        case .array(let items): items.contains { if case .object = $0 { true } else if case .array = $0 { true } else { false } }
        default: false
        }
    }
    let inner = indent + "  "
    switch value {
    case .object(let object) where isNested(value):
        let members = object.members.map { "\(inner)\(CanonicalJSON.string(.string($0.key))): \(prettyJSON($0.value, indent: inner))" }
        return "{\n" + members.joined(separator: ",\n") + "\n\(indent)}"
    case .array(let items) where isNested(value):
        return "[\n" + items.map { inner + prettyJSON($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
    default:
        return CanonicalJSON.string(value)
    }
}

enum Golden {
    static var recording: Bool { ProcessInfo.processInfo.environment["RECORD_GOLDEN"] == "1" }

    /// Compares `actual` with the golden file `name` under `directory`, or writes it when
    /// `RECORD_GOLDEN=1`. A difference fails with the first differing lines.
    static func check(_ actual: String, against name: String, in directory: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = directory.appendingPathComponent(name)
        if recording {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: url)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            XCTFail("golden file \(url.path) is missing; run the tests with RECORD_GOLDEN=1 to write it", file: file, line: line)
            return
        }
        guard expected != actual else { return }
        XCTFail("\(name) differs from the golden file (RECORD_GOLDEN=1 rewrites it; review the diff):\n" + diff(expected, actual), file: file, line: line)
    }

    /// The lines around the first difference, `-` expected and `+` actual.
    static func diff(_ expected: String, _ actual: String) -> String {
        let a = expected.components(separatedBy: "\n"), b = actual.components(separatedBy: "\n")
        let first = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        var lastA = a.count - 1, lastB = b.count - 1
        while lastA >= first, lastB >= first, a[lastA] == b[lastB] { lastA -= 1; lastB -= 1 }
        var out = ["@@ line \(first + 1) @@"]
        for i in max(0, first - 3)..<first { out.append("  " + a[i]) }
        for i in first..<min(lastA + 1, first + 40) where i <= lastA { out.append("- " + a[i]) }
        for i in first..<min(lastB + 1, first + 40) where i <= lastB { out.append("+ " + b[i]) }
        for i in (max(lastA, first - 1) + 1)..<min(a.count, max(lastA, first - 1) + 4) { out.append("  " + a[i]) }
        return out.joined(separator: "\n")
    }
}

/// How each closed handover ended, from facts in the order `ProjectState(facts:)` folds
/// them: what `ProjectState` kept as `closedHandovers` before it stopped keeping it,
/// and the tests' independent account of it (a case is closed by its first completion
/// or cancellation while open; a new start opens it again).
func closedCases(_ facts: some Sequence<ResolvedEvent>) -> [String: ValidationState.Flags] {
    var open = Set<String>()
    var closed: [String: ValidationState.Flags] = [:]
    for fact in facts {
        guard let id = fact.data["case"]?.stringValue else { continue }
        switch fact.event.type {
        case "handover.started" where fact.data["from"]?.stringValue != nil && fact.data["to"]?.stringValue != nil:
            open.insert(id)
            closed[id] = nil
        case "handover.completed" where open.remove(id) != nil:
            closed[id] = .completed
        case "handover.cancelled" where open.remove(id) != nil:
            closed[id] = .cancelled
        default:
            break
        }
    }
    return closed
}
