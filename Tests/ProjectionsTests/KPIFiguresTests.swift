@testable import EventStore
import Foundation
@testable import Projections
import XCTest

/// `KPIFigures`, the compact fold `kpi` reads, gives the rows that SPEC §5's rules give
/// when they are computed from the whole `ProjectState` (`ReferenceKPI`): for any facts,
/// valid by the catalog or not, read in place from their lines or as events.
final class KPIFiguresTests: XCTestCase {
    private static let now = IncrementalReplayTests.now
    private static let validAts = [nil, "2019-12-31", "2020-06-30", "2021-03-31", "2021-06-30T23:59:59+02:00", "2022-12-31"]

    /// Facts written straight into the store (no catalog check), drawn from small pools
    /// of ids so that they collide: a training or a unit registered twice, a handover
    /// started twice or closed unopened, a meeting of an unknown body, members missing
    /// or of the wrong type, ids that need escapes, corrections and retractions.
    private func writeRandomFacts(_ log: EventLog, seed: UInt64, count: Int) throws {
        var random = SplitMix64(seed: seed)
        func pick<T>(_ options: [T]) -> T { options[Int(random.next() % UInt64(options.count))] }
        func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
        let units = ["u1", "u2", "u\"3", "ü4", "u\\5", "u6"], teams = ["t1", "t2", "t\t3"], people = ["p1", "p2", "p3", "p4", "p5"]
        let bodies = ["b1", "b2", "b3"], cases = ["c1", "c2", "c3", "c4"], trainings = ["tr1", "tr2", "tr3"], kinds = ["day", "course", ""]
        let periods = ["2020-Q1", "2020-Q3", "2021", "2021-H1", "2021-Q2", "odd"]
        var written: [String] = []
        func occurred() -> String {
            let date = Timestamp.CalendarDate(daysSinceEpoch: 17_897 + Int(random.next() % 1_400)).description // 2019-01-01 on
            return chance(80) ? date : "\(date)T\(pick(["00:30:00+02:00", "23:30:00Z", "12:00:00-05:00"]))"
        }
        func maybe(_ data: inout JSONObject, _ key: String, _ value: @autoclosure () -> JSONValue, percent: UInt64 = 85) {
            if chance(percent) { data[key] = value() }
        }
        func integerOrNot() -> JSONValue { chance(90) ? .integer(Int(random.next() % 60)) : .string("many") }

        var drafts: [EventDraft] = []
        for _ in 0..<count {
            var data = JSONObject()
            let type: String
            switch random.next() % 20 {
            case 0:
                type = "unit.registered"
                maybe(&data, "unit", .string(pick(units)), percent: 95)
                maybe(&data, "headcount", integerOrNot(), percent: 70)
            case 1:
                type = "unit.updated"
                maybe(&data, "unit", .string(pick(units)), percent: 95)
                maybe(&data, "headcount", integerOrNot(), percent: 80)
            case 2:
                type = "team.established"
                maybe(&data, "team", .string(pick(teams)), percent: 95)
                maybe(&data, "units", .array((0..<Int(random.next() % 4)).map { _ in chance(90) ? .string(pick(units)) : .integer(1) }))
                maybe(&data, "plan", .object(JSONObject(["peers": integerOrNot(), "professionals": integerOrNot()])), percent: 70)
            case 3:
                type = "team.closed"
                maybe(&data, "team", .string(pick(teams)))
            case 4, 5:
                type = "staff.hired"
                maybe(&data, "person", .string(pick(people)), percent: 95)
                maybe(&data, "role", .string(pick(["peer", "professional", "project-leader"])), percent: 95)
                maybe(&data, "team", .string(pick(teams)), percent: 95)
            case 6:
                type = "staff.left"
                maybe(&data, "person", .string(pick(people)))
            case 7:
                type = "training.held"
                maybe(&data, "training", .string(pick(trainings)), percent: 95)
                maybe(&data, "kind", .string(pick(kinds)))
                let members = Set((0..<Int(random.next() % 3)).map { _ in pick(units) })
                maybe(&data, "participants", .object(try! JSONObject(members: members.map { ($0, integerOrNot()) })))
            case 8, 9:
                type = "handover.started"
                maybe(&data, "case", .string(pick(cases)), percent: 95)
                maybe(&data, "from", .string(pick(units)), percent: 95)
                maybe(&data, "to", .string(pick(units)), percent: 95)
                maybe(&data, "peer", chance(90) ? .string(pick(people)) : .integer(7), percent: 50)
            case 10:
                type = pick(["handover.completed", "handover.cancelled"])
                maybe(&data, "case", .string(pick(cases)), percent: 95)
            case 11:
                type = "body.established"
                maybe(&data, "body", .string(pick(bodies)), percent: 95)
                maybe(&data, "cadence", .string(pick(["quarterly", "half-yearly", "yearly", "4-per-year", "monthly"])))
            case 12, 13:
                type = "meeting.held"
                maybe(&data, "meeting", .string("m\(random.next() % 5)"), percent: 90)
                maybe(&data, "body", .string(pick(bodies + ["b-unknown"])), percent: 95)
            case 14:
                type = "evaluation.milestone"
                maybe(&data, "milestone", .string(pick(["ms1", "ms2", "ms3"])))
            case 15, 19:
                type = "target.set"
                // Scopes the kpi has rows for, mostly, so that later targets replace earlier ones.
                let (kpi, scopes) = pick([("peers.employed", teams), ("training.participants", units), ("meetings.held", bodies),
                                          ("units.with-peer", ["project"]), ("meetings.held", units)])
                maybe(&data, "kpi", .string(kpi), percent: 95)
                maybe(&data, "scope", .string(pick(scopes)), percent: 95)
                maybe(&data, "value", integerOrNot(), percent: 95)
                maybe(&data, "period", .string(pick(periods)), percent: 40)
            case 16:
                type = "attendance.counted"
                let offer = pick(units)
                maybe(&data, "offer", .string(offer), percent: 95)
                maybe(&data, "venue", .string(chance(30) ? offer : pick(units)), percent: 95)
                maybe(&data, "period", .string(pick(periods)), percent: 95)
                maybe(&data, "contacts", integerOrNot(), percent: 95)
            case 17 where !written.isEmpty:
                type = History.correctedType
                data["target"] = .string(pick(written))
                data["changes"] = .object(JSONObject([pick(["unit", "team", "person", "case", "body", "headcount", "kind", "contacts"]): chance(80) ? .string(pick(units + teams + people)) : .integer(3)]))
                maybe(&data, "occurred", .string(occurred()), percent: 40)
            case 18 where !written.isEmpty:
                type = History.retractedType
                data["target"] = .string(pick(written))
            default:
                type = "note.recorded"
                data["text"] = .string("nothing to count")
            }
            let id = UUID().uuidString.lowercased()
            written.append(id)
            drafts.append(EventDraft(id: id, type: type, stream: "test/1", occurred: occurred(), actor: "test", data: data))
        }
        // In a few batches, so that --as-of has somewhere to stop.
        for batch in stride(from: 0, to: drafts.count, by: 50) {
            _ = try log.append { _ in Array(drafts[batch..<min(batch + 50, drafts.count)]) }
            usleep(2_000)
        }
    }

    private func referenceRows(_ f: LedgerFixture, asOf: String?, validAt: String?) throws -> [KPIRow] {
        let view = try f.ledger.historyView(asOf: asOf, validAt: validAt, now: Self.now)
        return ReferenceKPI.rows(of: ProjectState(facts: try view.facts), validAt: view.validAt, in: view.timeZone)
    }

    private func assertRowsAreTheReferences(_ f: LedgerFixture, asOfs: [String?], _ label: String) throws {
        var compared = 0
        for asOf in asOfs {
            for validAt in Self.validAts {
                let expected = try referenceRows(f, asOf: asOf, validAt: validAt)
                for folding in [Ledger.Folding.kpis, .state, .both] {
                    try? FileManager.default.removeItem(atPath: "\(f.path)/\(KPICheckpoint.fileName)")
                    let rows = try f.ledger.view(asOf: asOf, validAt: validAt, now: Self.now, folding: folding).kpis
                    XCTAssertEqual(rows, expected, "\(label): asOf \(asOf ?? "-"), validAt \(validAt ?? "-"), \(folding)")
                    compared += rows.count
                }
            }
        }
        XCTAssertGreaterThan(compared, 1_000, "\(label): the rows compared are not all empty")
    }

    private func recordedTimes(_ log: EventLog) throws -> [String] {
        var times: [String] = []
        _ = try log.read(checks: .hashes) { event in
            if times.last != event.recorded { times.append(event.recorded) }
            return true
        }
        return times
    }

    func testTheCompactFoldGivesTheReferenceRowsForFactsTheCatalogWouldRefuse() throws {
        for seed: UInt64 in [1, 2, 3] {
            let f = try LedgerFixture(self)
            try writeRandomFacts(f.log, seed: seed, count: 400)
            let times = try recordedTimes(f.log)
            try assertRowsAreTheReferences(f, asOfs: [nil, times[times.count / 3], times[2 * times.count / 3]], "seed \(seed)")
        }
    }

    func testTheCompactFoldGivesTheReferenceRowsForAValidLog() throws {
        var rng = SplitMix64(seed: 31)
        let f = try LedgerFixture(self)
        var model = LogModel()
        for _ in 0..<40 {
            let report = try f.ledger.append((0..<Int.random(in: 1...25, using: &rng)).map { _ in model.nextEvent(using: &rng) })
            model.learn(from: report)
            for reference in model.takeErasedTexts() { try f.log.deleteText(reference) }
            usleep(2_000)
        }
        let times = try recordedTimes(f.log)
        try assertRowsAreTheReferences(f, asOfs: [nil, times[times.count / 2]], "valid log")
        // A view that folded only the figures reads the state again when it is asked for.
        for asOf in [nil, times[times.count / 2]] {
            let view = try f.ledger.view(asOf: asOf, validAt: "2021-06-30", now: Self.now, folding: .kpis)
            XCTAssertEqual(try view.state, ProjectState(facts: try view.facts), "asOf \(asOf ?? "-")")
        }
    }

    /// A fact read as an event (the history's way, and a corrected line's) and the same
    /// fact read in place from its line fold to the same figures.
    func testFoldingLinesInPlaceAndTheirEventsGivesTheSameRows() throws {
        let f = try LedgerFixture(self)
        try writeRandomFacts(f.log, seed: 9, count: 600)
        var inPlace = KPIFigures(), ofEvents = KPIFigures()
        var escaped = 0, readStrictly = 0
        try f.log.readLines(checks: .hashes) { line in
            let event = try line.event()
            // A line the in-place reader leaves to the strict parser (a member name
            // beyond ASCII) is folded as its event, as the streaming fold does.
            if let fact = LineFact(line, kind: line.withType { FactKind(type: $0) }) {
                inPlace.fold(fact)
                if line.bytes.contains(UInt8(ascii: "\\")) { escaped += 1 }
            } else {
                inPlace.fold(ResolvedEvent(event))
                readStrictly += 1
            }
            ofEvents.fold(ResolvedEvent(event))
            return true
        }
        XCTAssertGreaterThan(escaped, 20, "lines with escapes are read in place")
        XCTAssertLessThan(readStrictly, 100, "most lines are read in place")
        for validAt in [Self.now, Timestamp.endOfDay(Timestamp.CalendarDate("2020-06-30")!, in: f.log.timeZone)] {
            let rows = inPlace.rows(validAt: validAt, in: f.log.timeZone)
            XCTAssertEqual(rows, ofEvents.rows(validAt: validAt, in: f.log.timeZone))
            XCTAssertGreaterThan(rows.count, 50)
        }
    }

    func testTheInternerNumbersEachStringOnceAndGivesItBack() {
        var interner = Interner()
        var random = SplitMix64(seed: 5)
        var expected: [String: Int] = [:]
        for _ in 0..<20_000 {
            // Lengths around the eight-byte steps of the hash, and the empty string.
            let length = Int(random.next() % 20)
            let string = String((0..<length).map { _ in Character(UnicodeScalar(UInt8(97 + random.next() % 3))) })
            let number = interner.number(string)
            if let known = expected[string] { XCTAssertEqual(number, known, string) } else { XCTAssertEqual(number, expected.count, string) }
            expected[string] = number
        }
        XCTAssertEqual(interner.count, expected.count)
        XCTAssertGreaterThan(expected.count, 10_000, "the table grew many times")
        for (string, number) in expected { XCTAssertEqual(interner.string(number), string) }
    }
}
