@testable import EventStore
import Foundation
@testable import Projections
import XCTest

/// The fast paths of issue 6 give the same answers as the slow ones they stand in for:
/// the canonical line reader and the strict parser, the streaming fold and the history,
/// a warm KPI checkpoint and a cold replay, lazy and eager folding in a batch append.
/// (No timings here: `Benchmarks/run.sh` measures.)
final class FastPathTests: XCTestCase {
    func testFindingAnEventByItsIDGivesWhatTheWholeHistoryGives() throws {
        // Corrections, retractions and texts at random; then every id, and two no event has.
        let f = try LedgerFixture(self)
        var model = LogModel()
        var rng = SplitMix64(seed: 0xF1D)
        for _ in 0..<25 {
            model.learn(from: try f.ledger.append((0..<12).map { _ in model.nextEvent(using: &rng) }))
            for reference in model.takeErasedTexts() { try f.log.deleteText(reference) }
        }
        let history = try f.ledger.historyView().history
        XCTAssertGreaterThan(history.events.filter { $0.retractedBy != nil || !$0.correctedBy.isEmpty }.count, 5, "the log amends some events")
        var context = try ValidationContext.load(f.log)
        let ids = history.events.map(\.event.id) + ["00000000-0000-4000-8000-000000000000", "kbh-1"]
        for id in ids {
            XCTAssertEqual(try context.event(id: id, log: f.log), history.event(id: id), id)
            XCTAssertEqual(try f.ledger.event(id: id), history.event(id: id)?.event, id)
        }
        XCTAssertNil(context.history, "the lookups read no history into memory")
        for seq in [0, 1, history.events.count / 2, history.events.count, history.events.count + 1] {
            XCTAssertEqual(try f.ledger.event(seq: seq), history.event(seq: seq)?.event, "seq \(seq)")
        }
        // By seq in one pass: what a lookup of that event's id finds.
        for seq in 0...(history.events.count + 1) {
            let bySeq = try f.ledger.lookUp(seq: seq)
            let expected = history.event(seq: seq).map { history.event(id: $0.event.id) }
            XCTAssertEqual(bySeq?.found, expected ?? nil, "seq \(seq)")
            if let bySeq { XCTAssertEqual(bySeq.end, try f.ledger.lookUp(id: bySeq.id).end, "seq \(seq)") }
        }
    }

    func testIDIndexKeepsUUIDsAndOtherStringsApart() {
        let id = "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b"
        var index = IDIndex()
        index[id] = 1
        index[id.uppercased()] = 2
        index["kbh-1"] = 3
        index["1b4e28ba2fa14d3ba3f5ef19b5a7633b"] = 4
        XCTAssertEqual([index[id], index[id.uppercased()], index["kbh-1"], index["1b4e28ba2fa14d3ba3f5ef19b5a7633b"]], [1, 2, 3, 4])
        XCTAssertNil(index["1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633c"])
        XCTAssertEqual(index.count, 4)
        index[id] = nil
        XCTAssertNil(index[id])
        XCTAssertEqual(index[id.uppercased()], 2)
    }

    func testIDSetAnswersAsASetDoes() {
        // The stale ids of a batch: the fingerprint bitmap must never hide one that is there.
        var random = SplitMix64(seed: 0x1D5E7)
        let alphabet = Array("ab-/0123456789æø".unicodeScalars).map(String.init)
        func word() -> String { (0..<Int.random(in: 0...20, using: &random)).map { _ in alphabet.randomElement(using: &random)! }.joined() }
        var ids = IDSet(), plain = Set<String>()
        for _ in 0..<2000 {
            let id = word()
            ids.insert(id)
            plain.insert(id)
        }
        XCTAssertFalse(ids.isEmpty)
        for _ in 0..<3000 {
            let probe = Bool.random(using: &random) ? plain.randomElement(using: &random)! : word()
            XCTAssertEqual(ids.contains(probe), plain.contains(probe), probe)
            let stream = "\(word())/\(probe)"
            XCTAssertEqual(ids.endsAfterSlash(stream), plain.contains { stream.hasSuffix("/" + $0) }, stream)
        }
    }

    static let now = IncrementalReplayTests.now

    /// A random valid log of `batches` batches, with corrections and retractions.
    private func randomLog(seed: UInt64, batches: Int) throws -> (LedgerFixture, [String]) {
        var rng = SplitMix64(seed: seed)
        let f = try LedgerFixture(self)
        var model = LogModel()
        var recorded: [String] = []
        for _ in 0..<batches {
            let report = try f.ledger.append((0..<Int.random(in: 1...25, using: &rng)).map { _ in model.nextEvent(using: &rng) })
            model.learn(from: report)
            for reference in model.takeErasedTexts() { try f.log.deleteText(reference) }
            recorded.append(report.head.recorded ?? "")
            usleep(2_000)
        }
        return (f, recorded)
    }

    private func lines(of log: EventLog) throws -> [[UInt8]] {
        var lines: [[UInt8]] = []
        try log.forEachRawLine { line, _ in
            lines.append(Array(line))
            return true
        }
        return lines
    }

    // MARK: the canonical line reader

    func testTheFastPathReadsEveryLineAsTheStrictParserDoes() throws {
        let (f, _) = try randomLog(seed: 11, batches: 40)
        let all = try lines(of: f.log)
        XCTAssertGreaterThan(all.count, 300)
        for (index, line) in all.enumerated() {
            try line.withUnsafeBytes { bytes in
                let canonical = try XCTUnwrap(CanonicalLine.scan(bytes), "line \(index + 1) is canonical, yet the fast path refused it")
                let fast = try XCTUnwrap(Event(line: bytes, canonical: canonical))
                guard case .object(let object) = try JSONParser.parse(bytes, integersOnly: true) else { return XCTFail("not an object") }
                let strict = try Event(json: object)
                XCTAssertEqual(fast, strict, "line \(index + 1)")
                assertInPlaceReaderAgrees(UnsafeRawBufferPointer(rebasing: bytes[canonical.data]), strict.data, "line \(index + 1)")
                XCTAssertEqual(Hex.encode(canonical.computedDigest(of: bytes)), strict.computedHash(), "line \(index + 1)")
                XCTAssertTrue(canonical.hashMatches(canonical.computedDigest(of: bytes), in: bytes))
            }
        }
    }

    /// Every JSONTestSuite document, placed as `data` in an otherwise canonical line (or
    /// as a member's value when it is not an object): whenever the fast path accepts
    /// the line, the strict parser accepts it too, reads the same event, and the line is
    /// its own canonical form. The fast path may refuse more (then the strict path decides).
    func testTheFastPathNeverAcceptsWhatTheStrictParserRefuses() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/testdata/JSONTestSuite/test_parsing").standardizedFileURL
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw XCTSkip("JSONTestSuite not found at \(folder.path); these cases were NOT run")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThan(names.count, 300)
        let zeros = String(repeating: "0", count: 64)
        var acceptedByFastPath = 0
        for name in names {
            let document = Array(try Data(contentsOf: folder.appendingPathComponent(name)))
            for asData in [true, false] {
                let data = asData ? document : Array("{\"a\":".utf8) + document + Array("}".utf8)
                let line = Array("{\"actor\":\"a\",\"data\":".utf8) + data
                    + Array(",\"hash\":\"\(zeros)\",\"id\":\"3f2c9a4e-8b1d-4c6e-9f0a-1b2c3d4e5f60\",\"occurred\":\"2021-03-31\",\"prev\":\"\(zeros)\",\"recorded\":\"2021-04-01T10:00:00.000Z\",\"seq\":1,\"stream\":\"unit/a\",\"type\":\"unit.registered\",\"v\":1}".utf8)
                line.withUnsafeBytes { bytes in
                    guard let canonical = CanonicalLine.scan(bytes) else { return }
                    acceptedByFastPath += 1
                    guard let value = try? JSONParser.parse(bytes, integersOnly: true) else {
                        return XCTFail("\(name): the fast path accepted a line the strict parser refuses")
                    }
                    XCTAssertEqual(CanonicalJSON.encode(value), line, "\(name): the fast path accepted a line that is not canonical")
                    if let fast = Event(line: bytes, canonical: canonical), case .object(let object) = value {
                        XCTAssertEqual(fast, try? Event(json: object), name)
                        assertInPlaceReaderAgrees(UnsafeRawBufferPointer(rebasing: bytes[canonical.data]), fast.data, name)
                    }
                }
            }
        }
        XCTAssertGreaterThan(acceptedByFastPath, 20, "the suite's canonical documents should pass the fast path")
    }

    /// `CanonicalObject` (what the fold reads lines with) answers every question about
    /// `data` as the strict parser's tree does, nested objects and arrays included.
    private func assertInPlaceReaderAgrees(_ bytes: UnsafeRawBufferPointer, _ strict: JSONObject, _ message: String,
                                           file: StaticString = #filePath, line: UInt = #line) {
        let fast = CanonicalObject(bytes)
        var names: [String] = []
        fast.forEachMember { name, value in
            names.append(name)
            guard let expected = strict[name] else { return XCTFail("\(message): \(name) is not in the strict tree", file: file, line: line) }
            XCTAssertEqual(CanonicalObject.string(value), expected.stringValue, "\(message): \(name)", file: file, line: line)
            XCTAssertEqual(CanonicalObject.integer(value), expected.integerValue, "\(message): \(name)", file: file, line: line)
            XCTAssertEqual(try? JSONParser.parse(value, integersOnly: true), expected, "\(message): the bytes of \(name)", file: file, line: line)
            if case .object(let nested) = expected {
                assertInPlaceReaderAgrees(value, nested, "\(message).\(name)", file: file, line: line)
            }
        }
        XCTAssertEqual(names, strict.members.map(\.key), message, file: file, line: line)
    }

    func testTheInPlaceReaderFindsMembersByName() throws {
        let data = Array(#"{"a":"x\"y","b":[1,"two",{"c":3},"four"],"c":{"d":-12,"e":null},"f":9007199254740991,"g":9007199254740992}"#.utf8)
        try data.withUnsafeBytes { bytes in
            let object = CanonicalObject(bytes)
            XCTAssertEqual(object.string("a"), "x\"y")
            XCTAssertEqual(object.strings("b"), ["two", "four"])
            XCTAssertEqual(object.object("c")?.integer("d"), -12)
            XCTAssertTrue(try XCTUnwrap(object.object("c")).contains("e"))
            XCTAssertNil(object.object("c")?.string("e"))
            XCTAssertEqual(object.integer("f"), 9007199254740991)
            XCTAssertNil(object.integer("g"), "beyond JSON's safe integers, as the strict parser")
            XCTAssertFalse(object.contains("d"), "a nested member is not a member")
            XCTAssertNil(object.integer("a"))
        }
    }

    /// The in-place reader skips a string eight bytes at a time: an escaped quote or
    /// backslash, or a letter beyond ASCII, at any place in a string of any length must
    /// still end it where the strict parser does.
    func testTheInPlaceReaderEndsEveryStringWhereTheStrictParserDoes() throws {
        for length in 0..<20 {
            for place in 0...length {
                for special in [#"\""#, #"\\"#, "æ", #"\u001f"#, "🙂"] {
                    let plain = String(repeating: "x", count: length)
                    let text = String(plain.prefix(place)) + special + String(plain.dropFirst(place))
                    let document = #"{"a":""# + text + #"","b":[""# + text + #"",1],"c":""# + text + #""}"#
                    let strict = try XCTUnwrap(JSONParser.parse(Array(document.utf8)).objectValue)
                    Array(document.utf8).withUnsafeBytes { assertInPlaceReaderAgrees($0, strict, document) }
                }
            }
        }
    }

    func testTheMembersFoundOnceAnswerAsTheObjectDoesUpToAndBeyondTheirCapacity() {
        let names: [StaticString] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]
        let values = [#""x\"y""#, "-7", #"[1,"two"]"#, #"{"n":1}"#, "null", #""plain""#, "12", "true", #""é""#, "0", #""""#, "3"]
        for count in [0, 1, 3, 8, 9, 12] {
            let text = "{" + (0..<count).map { "\"\(names[$0])\":\(values[$0])" }.joined(separator: ",") + "}"
            Array(text.utf8).withUnsafeBytes { bytes in
                let object = CanonicalObject(bytes)
                let members = object.members
                for name in names + ["m", "ab"] {
                    XCTAssertEqual(members.contains(name), object.contains(name), "\(count) members: \(name)")
                    XCTAssertEqual(members.string(name), object.string(name), "\(count) members: \(name)")
                    XCTAssertEqual(members.integer(name), object.integer(name), "\(count) members: \(name)")
                }
                XCTAssertEqual(members.string("a"), count > 0 ? "x\"y" : nil)
                XCTAssertEqual(members.integer("l"), count == 12 ? 3 : nil)
            }
        }
    }

    func testAChangedByteFailsTheFastPathOrItsHash() throws {
        let (f, _) = try randomLog(seed: 12, batches: 10)
        for line in try lines(of: f.log).prefix(40) {
            for position in stride(from: 0, to: line.count, by: 7) {
                var changed = line
                changed[position] ^= 0x01
                changed.withUnsafeBytes { bytes in
                    guard let canonical = CanonicalLine.scan(bytes) else { return }
                    let digest = canonical.computedDigest(of: bytes)
                    // Only a byte inside the hash member itself can still be canonical; it no longer matches.
                    XCTAssertFalse(canonical.hashMatches(digest, in: bytes) && changed != line, "a changed byte at \(position) went unnoticed")
                }
            }
        }
    }

    // MARK: the streaming fold

    func testTheStreamingFoldEqualsTheFoldOfTheHistory() throws {
        let (f, recorded) = try randomLog(seed: 13, batches: 60)
        let zone = f.log.timeZone
        var asOfs: [Int64?] = [nil]
        for index in stride(from: 0, to: recorded.count, by: 7) { asOfs.append(Timestamp.millis(ofRecorded: recorded[index])) }
        let validAts: [Int64] = [FastPathTests.now] + ["2020-01-01", "2021-06-30", "2022-03-31"].map {
            Timestamp.endOfDay(Timestamp.CalendarDate($0)!, in: zone)
        }
        for asOf in asOfs {
            let history = try Ledger.history(of: f.log, asOf: asOf).history
            for validAt in validAts {
                let fold = try f.ledger.streamingFold(ProjectState(), asOf: asOf, validAt: validAt)
                XCTAssertEqual(fold.folded, ProjectState(facts: history.facts(validAt: validAt, in: zone)), "asOf \(String(describing: asOf)), validAt \(validAt)")
                XCTAssertEqual(fold.head, history.head)
                XCTAssertNotNil(fold.end, "the streaming fold answered, not the history")
            }
        }
        // Up to a seq, as a warm checkpoint's refold reads.
        let history = try Ledger.history(of: f.log, asOf: nil).history
        for last in [0, 1, history.events.count / 3, history.events.count - 1] {
            let prefix = try Ledger.history(of: f.log, asOf: nil, upTo: last).history
            let fold = try f.ledger.streamingFold(ProjectState(), asOf: nil, validAt: FastPathTests.now, upTo: last)
            XCTAssertEqual(fold.folded, ProjectState(facts: prefix.facts(validAt: FastPathTests.now, in: zone)), "up to \(last)")
            XCTAssertEqual(fold.head, prefix.head, "up to \(last)")
        }
    }

    /// `head` reads no history, yet names the head the history ends at, at any `--as-of`.
    func testTheHeadViewNamesTheHistorysHead() throws {
        let (f, recorded) = try randomLog(seed: 17, batches: 20)
        var asOfs: [String?] = [nil, "2000-01-01"]
        for index in stride(from: 0, to: recorded.count, by: 3) { asOfs.append(recorded[index]) }
        for asOf in asOfs {
            let quick = try f.ledger.headView(asOf: asOf), full = try f.ledger.historyView(asOf: asOf)
            XCTAssertEqual(quick.head, full.head, "as of \(asOf ?? "now")")
            XCTAssertEqual(try quick.history.events.map(\.event), try full.history.events.map(\.event), "as of \(asOf ?? "now")")
        }
        let torn = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(f.path)/\(EventLog.segmentName(1))"))
        try torn.seekToEnd()
        try torn.write(contentsOf: Data("{\"actor\":".utf8))
        try torn.close()
        let quick = try f.ledger.headView(), full = try f.ledger.historyView()
        XCTAssertEqual(quick.head, full.head)
        XCTAssertNotNil(quick.tornTail)
        XCTAssertEqual(quick.tornTail, full.tornTail)
    }

    /// A view reads the history only when asked; if the log was changed under it by
    /// then, asking throws the integrity failure (it used to end the process).
    func testAHistoryReadAfterTheLogWasChangedUnderTheViewThrows() throws {
        let (f, _) = try randomLog(seed: 19, batches: 10)
        let view = try f.ledger.view(now: FastPathTests.now)
        let rows = try view.kpis
        var bytes = try Data(contentsOf: URL(fileURLWithPath: f.segmentPath))
        let line = try XCTUnwrap(bytes.firstIndex(of: 0x0A))
        let at = try XCTUnwrap(bytes[..<line].range(of: Data(#""actor":""#.utf8))).upperBound
        bytes[at] = bytes[at] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
        try bytes.write(to: URL(fileURLWithPath: f.segmentPath))
        XCTAssertThrowsError(try view.history) { error in
            guard case .integrity(let failure)? = error as? LogError else { return XCTFail("\(error)") }
            XCTAssertEqual(failure.place.seq, 1)
        }
        XCTAssertEqual(try view.kpis, rows, "what the view had read stands")
    }

    /// The fold of lines read in place and the fold of the same events: one state.
    func testFoldingLinesInPlaceEqualsFoldingTheirEvents() throws {
        let (f, _) = try randomLog(seed: 15, batches: 40)
        var inPlace = ProjectState(), ofEvents = ProjectState()
        var folded = 0
        try f.log.readLines(checks: .hashes) { line in
            let event = try line.event()
            let kind = line.withType { FactKind(type: $0) }
            XCTAssertEqual(kind, FactKind(rawValue: event.type))
            XCTAssertEqual(line.id, UUIDKey(event.id))
            XCTAssertEqual([line.occurred, line.recorded, line.hash], [event.occurred, event.recorded, event.hash])
            let fact = try XCTUnwrap(LineFact(line, kind: kind), "seq \(event.seq) is canonical")
            inPlace.fold(fact)
            ofEvents.apply(ResolvedEvent(event))
            folded += 1
            return true
        }
        XCTAssertGreaterThan(folded, 300)
        XCTAssertEqual(inPlace, ofEvents)
        XCTAssertFalse(inPlace.handovers.isEmpty || inPlace.trainings.isEmpty || inPlace.teams.isEmpty, "the log exercises the fold")
    }

    /// A line's type is matched by its length and first and last eight bytes; the bytes
    /// between those still decide.
    func testAFactKindIsFoundByItsWholeName() {
        func kind(_ name: String) -> FactKind? { Array(name.utf8).withUnsafeBytes { FactKind(type: $0) } }
        for expected in FactKind.allCases { XCTAssertEqual(kind(expected.rawValue), expected) }
        for other in ["attendanXe.counted", "handover.Xompleted", "evaluatioX.milestone", "evaluation.milXstone", "unit.registerex", "xnit.registered",
                      "unit.registere", "event.corrected", "note.recorded", "staff", "", "training.held "] {
            XCTAssertNil(kind(other), other)
        }
    }

    /// The handover figures the fold keeps (totals per route, closed cases reduced to how
    /// they ended) give the rows a count over every case gives.
    func testHandoverRowsEqualACountOverEveryCase() throws {
        let (f, _) = try randomLog(seed: 16, batches: 60)
        let view = try f.ledger.view(now: FastPathTests.now)
        struct Case { var route: String; var started: String; var peer: Bool; var ended: (String, completed: Bool)? }
        var cases: [String: Case] = [:]
        for fact in try view.facts {
            let d = fact.data
            guard let id = d["case"]?.stringValue else { continue }
            switch fact.event.type {
            case "handover.started":
                cases[id] = Case(route: "\(d["from"]!.stringValue!)->\(d["to"]!.stringValue!)", started: fact.occurred, peer: d["peer"] != nil, ended: nil)
            case "handover.completed", "handover.cancelled":
                if cases[id]?.ended == nil { cases[id]?.ended = (fact.occurred, fact.event.type == "handover.completed") }
            default: break
            }
        }
        XCTAssertGreaterThan(cases.count, 20, "the log exercises handovers")
        let rows = Dictionary(uniqueKeysWithValues: try view.kpis.filter { $0.kpi.hasPrefix("handovers.") }.map { ("\($0.kpi) \($0.scope)", $0.actual) })
        for (route, along) in Dictionary(grouping: cases.values, by: \.route) {
            let days = along.compactMap { c -> Int? in
                guard let (end, completed) = c.ended, completed else { return nil }
                return Timestamp.calendarDate(ofOccurred: end)!.daysSinceEpoch - Timestamp.calendarDate(ofOccurred: c.started)!.daysSinceEpoch
            }.sorted()
            XCTAssertEqual(rows["handovers.started \(route)"], along.count, route)
            XCTAssertEqual(rows["handovers.completed \(route)"], along.count { $0.ended?.completed == true }, route)
            XCTAssertEqual(rows["handovers.open \(route)"], along.count { $0.ended == nil }, route)
            XCTAssertEqual(rows["handovers.with-peer \(route)"], along.count(where: \.peer), route)
            XCTAssertEqual(rows["handovers.median-days \(route)"] ?? nil, days.isEmpty ? nil : days[(days.count - 1) / 2], route)
        }
        XCTAssertEqual(try view.state.handovers.count, cases.values.count { $0.ended == nil })
        XCTAssertEqual(closedCases(try view.facts).count, cases.values.count { $0.ended != nil })
    }

    // MARK: the audit trail of one stream or event

    func testTheAuditOfAStreamOrAnEventWithoutTheHistoryIsTheHistorysAtEveryAsOf() throws {
        let (f, recorded) = try randomLog(seed: 21, batches: 40)
        let whole = try f.ledger.historyView().history
        XCTAssertGreaterThan(whole.events.count { $0.event.type == History.correctedType }, 3, "the log holds corrections")
        XCTAssertGreaterThan(whole.events.count { $0.event.type == History.retractedType }, 1, "the log holds retractions")
        // Every stream, and the ids of events that are corrected, retracted, or correct or retract others.
        let streams = Set(whole.events.map(\.event.stream))
        let amended = whole.events.filter { !$0.correctedBy.isEmpty || $0.retractedBy != nil || $0.event.data["target"] != nil }.map(\.event.id)
        let subjects = Array(streams).sorted() + amended + [whole.events[0].event.id, "team/none", "00000000-0000-4000-8000-000000000000"]
        // At the head, and as of a time in the middle (a stream's later events, and later amendments, not yet recorded).
        for asOf in [nil, recorded[recorded.count / 2]] {
            let view = try f.ledger.headView(asOf: asOf)
            let history = try view.history
            for subject in subjects {
                XCTAssertEqual(try Audit.entries(of: subject, in: f.log, through: view.head), Audit.entries(history, subject: subject),
                               "\(subject) as of \(asOf ?? "now")")
            }
        }

        // Lines the catalog would refuse, written through the store alone: a correction in
        // another stream than its target's, and an event reusing a corrected event's id.
        let target = try appendAmendmentsInAnotherStreamAndTheirTargetsIDAgain(f, whole)
        let view = try f.ledger.headView()
        for subject in [target.stream, target.id, "elsewhere/x", "elsewhere/y"] {
            XCTAssertEqual(try Audit.entries(of: subject, in: f.log, through: view.head), Audit.entries(try view.history, subject: subject), subject)
        }
    }

    // MARK: the events of `log` and `show`

    func testAQueryWithoutTheHistoryAnswersAsTheHistoryAtEveryAsOf() throws {
        let (f, recorded) = try randomLog(seed: 22, batches: 40)
        let whole = try f.ledger.historyView().history
        XCTAssertGreaterThan(whole.events.count { $0.event.type == History.correctedType }, 3, "the log holds corrections")
        XCTAssertGreaterThan(whole.events.count { $0.event.type == History.retractedType }, 1, "the log holds retractions")
        XCTAssertFalse(whole.erasedTexts.isEmpty, "the log erases texts")
        let events = whole.events.map(\.event)
        let amended = whole.events.filter { !$0.correctedBy.isEmpty || $0.retractedBy != nil || $0.event.data["target"] != nil }.map(\.event.id)
        let types = Set(events.map(\.type)).sorted()
        let streams = Array(Set(events.map(\.stream)).sorted().prefix(12))
        var queries = [EventQuery(), EventQuery(from: events.count / 2), EventQuery(from: events.count + 1)]
        queries += types.map { EventQuery(type: $0) } + streams.map { EventQuery(stream: $0) }
        queries += [EventQuery(from: 20, type: "staff.hired"), EventQuery(type: History.correctedType, stream: streams[0])]
        // `log --valid-at` (as corrected) and `--limit`.
        let middle = try XCTUnwrap(History.instant(ofOccurred: events.map(\.occurred).sorted()[events.count / 2], in: f.log.timeZone))
        let valid = EventQuery.ValidTime(middle, in: f.log.timeZone)
        queries += [EventQuery(limit: 7), EventQuery(from: 30, limit: 0), EventQuery(type: "staff.hired", limit: 3),
                    EventQuery(validAt: valid), EventQuery(from: 40, validAt: valid, limit: 9)]
        // What those filters mean, said another way, on the history.
        func seqs(_ query: EventQuery) -> [Int] { query.answer(from: whole).events.map(\.event.seq) }
        let validSeqs = whole.events.filter { History.instant(ofOccurred: $0.occurred, in: f.log.timeZone)! <= middle }.map(\.event.seq)
        XCTAssertTrue(validSeqs.count > 10 && validSeqs.count < events.count - 10, "the valid time leaves events out")
        XCTAssertEqual(seqs(EventQuery(validAt: valid)), validSeqs)
        XCTAssertEqual(seqs(EventQuery(from: 40, validAt: valid, limit: 9)), Array(validSeqs.filter { $0 >= 40 }.prefix(9)))
        XCTAssertEqual(seqs(EventQuery(type: "staff.hired", limit: 3)), Array(events.filter { $0.type == "staff.hired" }.map(\.seq).prefix(3)))
        XCTAssertEqual(seqs(EventQuery(from: 30, limit: 0)), [])
        XCTAssertEqual(seqs(EventQuery(stream: streams[1])), events.filter { $0.stream == streams[1] }.map(\.seq))
        queries += (amended + [events[0].id, "00000000-0000-4000-8000-000000000000"]).map { EventQuery(.event(id: $0)) }
        queries += Array(stride(from: 0, through: events.count + 1, by: 17)).map { EventQuery(.eventAt(seq: $0)) }
        queries += whole.events.filter { !$0.correctedBy.isEmpty || $0.retractedBy != nil }.map { EventQuery(.eventAt(seq: $0.event.seq)) }

        // At the head, and as of a time in the middle (later events and amendments not yet recorded).
        try assertSameAnswers(f, queries, events.count, "at the head", readTheHistory: false)
        try assertSameAnswers(f, queries, events.count, "as of the middle", readTheHistory: false, asOf: recorded[recorded.count / 2])

        // Lines the catalog would refuse, written through the store alone. An event reusing
        // the id of one that nothing amends: `show` and `audit` of that id name the later one.
        let plain = try XCTUnwrap(whole.events.first { $0.correctedBy.isEmpty && $0.retractedBy == nil && $0.event.data["target"] == nil }).event
        _ = try f.log.append { _ in [
            EventDraft(id: plain.id, type: "staff.left", stream: "elsewhere/z", occurred: "2024-01-01", actor: "forger", data: J(["person": "p"])),
        ] }
        queries += [EventQuery(.event(id: plain.id)), EventQuery(.eventAt(seq: events.count + 1)), EventQuery(stream: "elsewhere/z")]
        try assertSameAnswers(f, queries, events.count, "with an id nothing aims at held twice", readTheHistory: false)
        let reused = try f.ledger.events(EventQuery(.event(id: plain.id)), through: try f.ledger.headView().head)
        XCTAssertEqual(reused.events.map(\.event.seq), [events.count + 1], "the later event with the id")

        // A correction in another stream than its target's, an event reusing a corrected
        // event's id (an id aimed at held twice): the history answers.
        let target = try appendAmendmentsInAnotherStreamAndTheirTargetsIDAgain(f, whole)
        queries += [target.stream, "elsewhere/x", "elsewhere/y"].map { EventQuery(stream: $0) } + [EventQuery(.event(id: target.id))]
        queries += (events.count + 2...events.count + 4).map { EventQuery(.eventAt(seq: $0)) }
        try assertSameAnswers(f, queries, events.count, "with an id held twice", readTheHistory: true)
        try assertSameAnswers(f, queries, events.count, "as of before the forged lines", readTheHistory: false, asOf: recorded[recorded.count / 2])
    }

    func testAFactNamingATargetIsAnsweredFromTheHistory() throws {
        let (f, _) = try randomLog(seed: 23, batches: 12)
        let whole = try f.ledger.historyView().history
        // An event nothing amends: only the history knows its seq for the fact that names it.
        let aimedAt = Set(whole.events.compactMap { $0.event.data["target"]?.stringValue })
        let named = try XCTUnwrap(whole.events.first { $0.event.data["target"] == nil && !aimedAt.contains($0.event.id) }).event
        _ = try f.log.append { _ in [
            EventDraft(type: "staff.left", stream: "elsewhere/t", occurred: "2024-01-01", actor: "forger",
                       data: J(["person": "p", "target": named.id])),
        ] }
        let naming = EventQuery(stream: "elsewhere/t")
        let (answer, read) = try f.ledger.answer(naming, through: try f.ledger.headView().head)
        XCTAssertTrue(read, "a fact naming a target is answered from the history")
        XCTAssertEqual(answer.targetSeq(of: try XCTUnwrap(answer.events.first).event), named.seq)
        try assertSameAnswers(f, [naming, EventQuery(), EventQuery(type: "staff.left")], 1, "with a fact naming a target", readTheHistory: nil)
    }

    /// Lines the catalog would refuse, written through the store alone, about the last
    /// `staff.hired` of `whole`: a correction in another stream than its target's
    /// (`elsewhere/x`), an event reusing the target's id (`elsewhere/y`), a retraction.
    /// Returns the target.
    private func appendAmendmentsInAnotherStreamAndTheirTargetsIDAgain(_ f: LedgerFixture, _ whole: History) throws -> Event {
        let target = try XCTUnwrap(whole.events.last { $0.event.type == "staff.hired" }).event
        _ = try f.log.append { _ in [
            EventDraft(type: History.correctedType, stream: "elsewhere/x", occurred: "2024-01-01", actor: "forger",
                       data: J(["target": target.id, "reason": "r", "changes": J(["hoursPerWeek": 1])])),
            EventDraft(id: target.id, type: "staff.left", stream: "elsewhere/y", occurred: "2024-01-02", actor: "forger", data: J(["person": "p"])),
            EventDraft(type: History.retractedType, stream: "elsewhere/x", occurred: "2024-01-03", actor: "forger",
                       data: J(["target": target.id, "reason": "r"])),
        ] }
        return target
    }

    /// `Ledger.events` and the history give the same answer to every query, at `asOf`.
    private func assertSameAnswers(_ f: LedgerFixture, _ queries: [EventQuery], _ eventCount: Int, _ label: String,
                                   readTheHistory: Bool?, asOf: String? = nil) throws {
        let view = try f.ledger.headView(asOf: asOf)
        let history = try view.history
        var picked = 0
        for query in queries {
            let expected = query.answer(from: history)
            let (answer, read) = try f.ledger.answer(query, through: view.head)
            XCTAssertEqual(answer, expected, "\(query) \(label)")
            if let readTheHistory { XCTAssertEqual(read, readTheHistory, "\(query) \(label)") }
            picked += answer.events.count
            guard query.subject == .events else { continue }
            // Handed over as read: the same events, each with the seq of what it aims at.
            var streamed: [ResolvedEvent] = []
            try f.ledger.forEachEvent(query, through: view.head) { resolved, targetSeq in
                streamed.append(resolved)
                XCTAssertEqual(targetSeq, expected.targetSeq(of: resolved.event), "\(query) \(label): seq \(resolved.event.seq)")
            }
            XCTAssertEqual(streamed, expected.events, "\(query) \(label), handed over as read")
        }
        XCTAssertGreaterThan(picked, eventCount, "the queries pick events \(label)")
    }

    // MARK: the KPI checkpoint

    func testAWarmKPICheckpointAnswersAsTheColdReplayAndOnlyAtItsHead() throws {
        let (f, _) = try randomLog(seed: 14, batches: 30)
        let checkpointPath = "\(f.path)/\(KPICheckpoint.fileName)"
        let cold = try f.ledger.view(now: FastPathTests.now)
        let coldRows = try cold.kpis
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpointPath), "a cold read at the head keeps its rows")
        XCTAssertNotNil(KPICheckpoint.load(f.log, validAt: FastPathTests.now))
        let warm = try f.ledger.view(now: FastPathTests.now)
        XCTAssertNotNil(warm.source.encodedRows, "the warm view answers from the checkpoint")
        XCTAssertEqual(try warm.kpiJSON(asOf: nil, validAt: "2030-01-01"), try cold.kpiJSON(asOf: nil, validAt: "2030-01-01"),
                       "the rows' bytes as kept are those a cold read prints")
        XCTAssertEqual(try warm.kpis, coldRows)
        XCTAssertEqual(warm.head, cold.head)
        XCTAssertEqual(try warm.state, try cold.state, "the state behind a warm view is folded on demand")
        XCTAssertEqual(try warm.history.head, cold.head)

        // An earlier valid time, another day, or an as-of read: not from the checkpoint.
        XCTAssertNil(KPICheckpoint.load(f.log, validAt: FastPathTests.now - 1))
        XCTAssertNil(KPICheckpoint.load(f.log, validAt: FastPathTests.now + 1000))
        // After an append the checkpoint no longer ends the log.
        _ = try f.ledger.append([NewEvent(type: "unit.registered", data: JSONObject(["unit": .string("zz-new"), "name": .string("Ny")]),
                                          occurred: "2021-01-01", actor: "t")])
        XCTAssertNil(KPICheckpoint.load(f.log, validAt: FastPathTests.now))
        let after = try f.ledger.view(now: FastPathTests.now)
        try FileManager.default.removeItem(atPath: checkpointPath)
        XCTAssertEqual(try after.kpis, try f.ledger.view(now: FastPathTests.now).kpis)
    }

    // MARK: lazy folding in a batch

    func testLazyAndEagerFoldingInABatchValidateAlike() throws {
        defer { ValidationContext.refoldsAtOnce = false }
        for seed in [UInt64(21), 22, 23] {
            var reports: [[String]] = []
            var states: [ValidationContext] = []
            for eager in [true, false] {
                ValidationContext.refoldsAtOnce = eager
                var rng = SplitMix64(seed: seed)
                let f = try LedgerFixture(self)
                var model = LogModel()
                var written: [String] = []
                for _ in 0..<20 {
                    let report = try f.ledger.append((0..<Int.random(in: 10...40, using: &rng)).map { _ in model.nextEvent(using: &rng) })
                    model.learn(from: report)
                    for reference in model.takeErasedTexts() { try f.log.deleteText(reference) }
                    written += report.events.map { "\($0.event.type) \(CanonicalJSON.string(.object($0.event.data)))" }
                }
                reports.append(written)
                states.append(try ValidationContext.replaying(f.log))
            }
            XCTAssertEqual(reports[0].count, reports[1].count, "seed \(seed)")
            XCTAssertEqual(states[0].state, states[1].state, "seed \(seed)")
        }

        // A retraction undoes a unit; later in the same batch, naming it is refused either way.
        for eager in [true, false] {
            ValidationContext.refoldsAtOnce = eager
            let f = try LedgerFixture(self)
            let unit = NewEvent(type: "unit.registered", data: JSONObject(["unit": .string("u1"), "name": .string("Enhed")]),
                                occurred: "2021-01-01", actor: "t", id: "3f2c9a4e-8b1d-4c6e-9f0a-1b2c3d4e5f60")
            let retract = NewEvent(type: "event.retracted", data: JSONObject(["target": .string(unit.id!), "reason": .string("fejl")]),
                                   occurred: "2021-01-02", actor: "t")
            let update = NewEvent(type: "unit.updated", data: JSONObject(["unit": .string("u1"), "headcount": .integer(3)]),
                                  occurred: "2021-01-03", actor: "t")
            XCTAssertThrowsError(try f.ledger.append([unit, retract, update]), "eager: \(eager)") { error in
                XCTAssertEqual((error as? Ledger.BatchRefused)?.refusals.map(\.index), [2], "eager: \(eager)")
            }
        }
    }
}
