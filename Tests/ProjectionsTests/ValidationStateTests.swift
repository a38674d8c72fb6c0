import EventStore
import Foundation
@testable import Projections
import XCTest

/// `ValidationState` answers every question validation asks as the fold into
/// `ProjectState` did, and its checkpoint form round-trips and is never believed when
/// it is not what this code sealed.
final class ValidationStateTests: XCTestCase {
    func testEveryKeyFormDecodesToItselfAndAReferenceIsFoundByKindAndID() {
        let hex = String(repeating: "0123456789abcdef", count: 4)
        let keys = ["unit/cpi", "team/unge-peers", "person/p-1", "handover/case-7", "evaluation/m1", "log/events-000001.jsonl",
                    "text/sha256-\(hex)", "text/sha256-\(hex.uppercased())", "text/sha256-\(hex.dropLast())", "text/plain",
                    "unknown/x", "no-slash", "", "/leading", "unit/", "unit/æøå/ü", "units/cpi"]
        var state = ValidationState()
        for (n, key) in keys.enumerated() {
            XCTAssertEqual(ValidationState.encode(key).withUnsafeBytes { ValidationState.decode($0) }, key)
            state.noteStream(key)
            XCTAssertTrue(state.isStream(key), "\(n): \(key)")
        }
        XCTAssertEqual(ValidationState.encode("text/sha256-\(hex)").count, 33, "a text reference is kept as its 32 bytes")
        for kind in ReferenceKind.allCases {
            let key = ValidationState.key(kind, "some-id")
            state.noteStream(key)
            XCTAssertEqual(ValidationState.encode(kind, "some-id"), ValidationState.encode(key), "\(kind)")
            XCTAssertEqual(state.flags(kind, "some-id"), state.flags(key), "\(kind)")
            XCTAssertTrue(state.flags(kind, "some-id").contains(.stream), "\(kind)")
            XCTAssertEqual(state.flags(kind, "other-id"), [], "\(kind)")
        }
    }

    // MARK: the same answers as the old fold

    /// What validation asked of a `ProjectState` (Validation.swift before `ValidationState`).
    private struct OldAnswers: Equatable {
        var exists: Bool      // requireExists
        var isNew: Bool       // requireNew
        var closed: Bool      // the "team … is closed" message
        var employed: Bool    // staff.left
        var status: String?   // handover.completed / .cancelled
        var existsForCorrection: Bool  // a correction keeps a team closed since

        init(_ state: ProjectState, closed closedCases: [String: ValidationState.Flags], _ kind: ReferenceKind, _ id: String) {
            exists = switch kind {
            case .unit: state.units[id] != nil
            case .team: state.teams[id].map { !$0.closed } ?? false
            case .body: state.bodies[id] != nil
            case .person: state.people[id] != nil
            case .case: state.handovers[id] != nil || closedCases[id] != nil
            case .meeting: state.meetings[id] != nil
            case .training: state.trainings[id] != nil
            case .milestone: state.milestones[id] != nil
            }
            let taken: Bool = switch kind {
            case .unit: state.units[id] != nil
            case .team: state.teams[id] != nil
            case .body: state.bodies[id] != nil
            case .person: state.people[id]?.employed == true
            case .case: state.handovers[id] != nil || closedCases[id] != nil
            case .meeting: state.meetings[id] != nil
            case .training: state.trainings[id] != nil
            case .milestone: state.milestones[id] != nil
            }
            isNew = !taken
            closed = kind == .team && state.teams[id]?.closed == true
            employed = kind == .person && state.people[id]?.employed == true
            let ended = closedCases[id].map { $0 == .completed ? "completed" : "cancelled" }
            status = kind == .case ? ended ?? state.handovers[id].map { _ in "open" } : nil
            existsForCorrection = kind == .team ? state.teams[id] != nil : exists
        }

        init(_ state: ValidationState, _ kind: ReferenceKind, _ id: String) {
            let flags = state.flags(kind, id)
            exists = flags.contains(.exists) && !(kind == .team && flags.contains(.closed))
            isNew = !flags.contains(kind == .person ? [.exists, .employed] : .exists)
            closed = kind == .team && flags.contains([.exists, .closed])
            employed = kind == .person && flags.contains(.employed)
            status = kind == .case && flags.contains(.exists)
                ? (flags.contains(.completed) ? "completed" : flags.contains(.cancelled) ? "cancelled" : "open") : nil
            existsForCorrection = kind == .team ? flags.contains(.exists) : exists
        }
    }

    func testTheStateAnswersAsTheFoldIntoProjectStateOnRandomLogs() throws {
        var rng = SplitMix64(seed: 0xC0FF_EE06)
        var retracted = 0
        for logIndex in 0..<12 {
            let f = try LedgerFixture(self)
            var model = LogModel()
            let batches = Int.random(in: 5...25, using: &rng)
            for _ in 0..<batches {
                let report = try f.ledger.append((0..<Int.random(in: 1...30, using: &rng)).map { _ in model.nextEvent(using: &rng) })
                model.learn(from: report)
                for reference in model.takeErasedTexts() { try f.log.deleteText(reference) }
                retracted += report.events.filter { $0.event.type == History.retractedType }.count
            }
            var context = try ValidationContext.replaying(f.log)
            let history = try context.fullHistory(f.log)
            let facts = history.events.filter(\.isFact)
            let old = ProjectState(facts: facts), closed = closedCases(facts)
            let name = "log \(logIndex)"

            // Every id the log names, and some it does not, of every kind.
            var ids: Set<String> = ["nobody", "u-0", "t-0"]
            for resolved in history.events {
                for value in resolved.event.data.members.map(\.value) {
                    if let s = value.stringValue, Catalog.isSlug(s) { ids.insert(s) }
                    for item in value.arrayValue ?? [] { if let s = item.stringValue { ids.insert(s) } }
                }
            }
            for kind in ReferenceKind.allCases {
                for id in ids {
                    XCTAssertEqual(OldAnswers(context.state, kind, id), OldAnswers(old, closed: closed, kind, id), "\(name): \(kind.rawValue) \(id)")
                }
            }
            XCTAssertEqual(context.state.entries(.folded), ValidationState(foldedOf: old, closedCases: closed).entries(.folded), name)

            // Streams, texts named and erased: what the old context kept in sets.
            let streams = Set(history.events.map(\.event.stream))
            let texts = Set(history.events.compactMap { $0.event.data["text"]?.stringValue }.filter(EventLog.isTextReference))
            XCTAssertEqual(Set(context.state.entries(.stream).keys), streams, name)
            XCTAssertEqual(Set(context.state.entries(.text).keys), Set(texts.map(ValidationState.textKey)), name)
            XCTAssertEqual(Set(context.state.entries(.erased).keys), Set(history.erasedTexts.map(ValidationState.textKey)), name)
            for stream in streams { XCTAssertTrue(context.state.isStream(stream), "\(name): \(stream)") }
            XCTAssertFalse(context.state.isStream("unit/nobody"))
            XCTAssertFalse(context.state.isStream("unit"))

            // Folding again (after a retraction) gives the same state as folding once.
            var refolded = context.state
            refolded.refold(history.events.lazy.filter(\.isFact))
            XCTAssertEqual(refolded.entries(ValidationState.everything), context.state.entries(ValidationState.everything), name)
        }
        XCTAssertGreaterThan(retracted, 10, "the logs retract things")
    }

    func testAppliedInOrderTheFactsGiveWhatProjectStateGives() {
        // Sequences a valid log cannot hold, but a fold after a retraction can meet.
        func fact(_ seq: Int, _ type: String, _ data: [String: String]) -> ResolvedEvent {
            var object = JSONObject()
            for (key, value) in data { object[key] = .string(value) }
            return ResolvedEvent(Event(seq: seq, id: "", type: type, v: 1, stream: "", occurred: "2021-01-01", recorded: "",
                                       actor: "t", source: nil, data: object, prev: "", hash: ""))
        }
        let facts = [
            fact(1, "team.closed", ["team": "t"]),
            fact(2, "staff.left", ["person": "p"]),
            fact(3, "handover.completed", ["case": "c"]),
            fact(4, "team.established", ["team": "t", "name": "T", "kind": "peer-team"]),
            fact(5, "team.closed", ["team": "t"]),
            fact(6, "team.established", ["team": "t", "name": "T", "kind": "peer-team"]),
            fact(7, "staff.hired", ["person": "p", "role": "peer", "team": "t"]),
            fact(8, "staff.left", ["person": "p"]),
            fact(9, "staff.hired", ["person": "q", "role": "peer"]),
            fact(10, "handover.started", ["case": "c", "from": "a", "to": "b"]),
            fact(11, "handover.cancelled", ["case": "c"]),
            fact(12, "handover.completed", ["case": "c"]),
            fact(13, "handover.started", ["case": "d", "from": "a"]),
            fact(14, "handover.started", ["case": "c", "from": "a", "to": "b"]),
            fact(15, "meeting.held", ["meeting": "m"]),
            fact(16, "meeting.held", ["meeting": "n", "body": "b"]),
            fact(17, "unit.updated", ["unit": "u"]),
            fact(18, "unit.registered", ["unit": "u", "name": "U"]),
            fact(19, "evaluation.milestone", ["milestone": "baseline", "title": "B"]),
            fact(20, "training.held", ["training": "tr", "title": "T", "kind": "course"]),
            fact(21, "body.established", ["body": "b", "name": "B", "kind": "network"]),
        ]
        for end in facts.indices {
            let prefix = Array(facts[...end])
            var state = ValidationState()
            for fact in prefix { state.apply(type: fact.event.type, data: fact.data) }
            let old = ProjectState(facts: prefix)
            XCTAssertEqual(state.entries(.folded), ValidationState(foldedOf: old, closedCases: closedCases(prefix)).entries(.folded), "after seq \(end + 1)")
        }
    }

    // MARK: the checkpoint's form

    func testTheBinaryFormRoundTrips() throws {
        let all = ValidationState.everything
        var rng = SplitMix64(seed: 42)
        var state = ValidationState()
        var expected: [String: ValidationState.Flags] = [:]
        for i in 0..<5_000 {
            // Keys of every length a LEB128 length takes one or two bytes for, and some non-ASCII.
            let length = Int.random(in: 1...300, using: &rng)
            let key = "k\(i)/" + String(repeating: i % 7 == 0 ? "å" : "x", count: length)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: state.noteStream(key); expected[key, default: []].insert(.stream)
            case 1: state.noteText(key); expected["text/" + key, default: []].insert(.text)
            default: state.noteText(key); state.noteErased(key); expected["text/" + key, default: []].formUnion([.text, .erased])
            }
        }
        state.apply(type: "unit.registered", data: JSONObject(["unit": .string("cpi"), "name": .string("CPI")]))
        expected["unit/cpi", default: []].insert(.exists)
        XCTAssertEqual(state.entries(all), expected)

        let position = LogPosition(segment: 3, offset: 12_345, linesBefore: 17, seq: 5_000, hash: String(repeating: "ab", count: 32))
        let checkpoint = Checkpoint(position: position, state: state)
        let bytes = try XCTUnwrap(checkpoint.encoded())
        let decoded = try XCTUnwrap(Checkpoint.decode(bytes))
        XCTAssertEqual(decoded.position, position)
        XCTAssertEqual(decoded, checkpoint)
        XCTAssertEqual(decoded.state.entries(all), expected)
        for key in expected.keys { XCTAssertEqual(decoded.state.flags(key), expected[key], key) }
        XCTAssertEqual(decoded.state.flags("unit/absent"), [])
        // Decoded, it keeps growing as a state built in memory does, past a doubling of its index.
        var grown = decoded.state
        for i in 0..<6_000 {
            state.noteStream("unit/new-\(i)")
            grown.noteStream("unit/new-\(i)")
        }
        XCTAssertEqual(grown.entries(all), state.entries(all))
        XCTAssertEqual(try XCTUnwrap(Checkpoint.decode(XCTUnwrap(Checkpoint(position: position, state: grown).encoded()))), Checkpoint(position: position, state: state))
        XCTAssertEqual(Checkpoint.decode(try XCTUnwrap(Checkpoint(position: .start, state: ValidationState()).encoded())), Checkpoint(position: .start, state: ValidationState()))
        XCTAssertNotEqual(Checkpoint(position: position, state: grown), Checkpoint(position: position, state: ValidationState()), "streams and texts count")

        // Cut short, one byte more, another format, sizes that do not add up: not read.
        XCTAssertNil(Checkpoint.decode(Array(bytes.dropLast())))
        XCTAssertNil(Checkpoint.decode(bytes + [0]))
        XCTAssertNil(Checkpoint.decode(Array("recovery-checkpoint/2 binary\n".utf8) + bytes.dropFirst(Checkpoint.magic.count)))
        // Format 3 stored keys as their UTF-8: its entries would read as other keys here.
        XCTAssertNil(Checkpoint.decode(Array("recovery-checkpoint/3\n".utf8) + bytes.dropFirst(Checkpoint.magic.count)))
        let header = try XCTUnwrap(Checkpoint.Header(bytes))
        for field in 0..<4 {
            for value in field == 0 ? [-1, Int.max, Int.min] : [-1, 3, Int.max, Int.min] {
                var edited = bytes
                withUnsafeBytes(of: Int64(value).littleEndian) { for i in 0..<8 { edited[header.end + 8 * field + i] = $0[i] } }
                XCTAssertNil(Checkpoint.decode(edited), "field \(field) = \(value)")
            }
        }
        // An index that points anywhere (not what this code writes, but sealed by a key
        // someone held) makes lookups fail, never crash or hang.
        var scrambled = bytes
        var fill = SplitMix64(seed: 9)
        for i in (header.end + 32)..<(header.end + 32 + 4 * 1024) { scrambled[i] = UInt8.random(in: 0...255, using: &fill) }
        let odd = try XCTUnwrap(Checkpoint.decode(scrambled)).state
        for key in expected.keys.prefix(200) { _ = odd.flags(key) }
        var full = bytes
        for i in (header.end + 32)..<(header.end + 32 + 4 * 8192) { full[i] = 0xFF }
        var wrong = try XCTUnwrap(Checkpoint.decode(full)).state
        XCTAssertEqual(wrong.flags("unit/absent"), [])
        // Added to, such a state finds its index full and builds it again from the entries.
        wrong.noteStream("unit/absent")
        XCTAssertEqual(wrong.flags("unit/absent"), .stream)
        XCTAssertEqual(wrong.flags(expected.keys.first!), expected.values.first!)
        // A count that is not the entries' is mended the same way.
        var miscounted = bytes
        miscounted[header.end] = 3
        for i in 1..<8 { miscounted[header.end + i] = 0 }
        var few = try XCTUnwrap(Checkpoint.decode(miscounted)).state
        few.noteStream("unit/other")
        XCTAssertEqual(few.flags("unit/other"), .stream)
        XCTAssertEqual(few.flags(expected.keys.first!), expected.values.first!)
    }

    func testEveryKeyHasOneStoredFormAndComesBack() {
        let hex = String(repeating: "0123456789abcdef", count: 4)
        let keys = ["unit/cpi", "handover/case-2021-004", "evaluation/baseline", "target/peers.employed/unge-peers",
                    "attendance/cpi/nada", "log/events-000001.jsonl", "text/sha256-\(hex)", "text/sha256-\(hex.uppercased())",
                    "text/sha256-\(hex.dropLast())", "text/sha256-\(hex)0", "text/other", "text/", "unit/", "unit", "", "/",
                    "nokind/x", "Unit/x", "units/x", "unit/x/y", "møde/æ", "\u{1}/x", "\u{0}unit/x", "sha256-\(hex)"]
        var forms: [[UInt8]: String] = [:]
        for key in keys {
            let stored = ValidationState.encode(key)
            XCTAssertEqual(stored.withUnsafeBytes { ValidationState.decode($0) }, key)
            XCTAssertNil(forms[stored], "\(key) and \(forms[stored] ?? "") are stored alike")
            forms[stored] = key
        }
        XCTAssertEqual(ValidationState.encode("text/sha256-\(hex)").count, 33, "a text reference is stored as its 32 bytes")
        XCTAssertEqual(ValidationState.encode("handover/c-1"), [5] + Array("c-1".utf8))
        var state = ValidationState()
        for key in keys { state.noteStream(key) }
        XCTAssertEqual(Set(state.entries(.stream).keys), Set(keys))
    }

    func testACheckpointRoundTripsThroughTheLogAndAnEditedOneIsIgnored() throws {
        var rng = SplitMix64(seed: 6)
        let f = try LedgerFixture(self)
        var model = LogModel()
        for _ in 0..<4 {
            let report = try f.ledger.append((0..<40).map { _ in model.nextEvent(using: &rng) })
            model.learn(from: report)
            for reference in model.takeErasedTexts() { try f.log.deleteText(reference) }
        }
        let replayed = try ValidationContext.replaying(f.log)
        replayed.checkpoint.save(f.log)
        let loaded = try XCTUnwrap(Checkpoint.load(f.log))
        XCTAssertEqual(loaded, replayed.checkpoint)
        XCTAssertEqual(try f.ledger.checkCheckpoint(), .matches)

        // A byte changed anywhere (the sealed head, a page's MAC, the contents): the head's
        // MAC fails and the checkpoint is not loaded, or the page's does once it is read,
        // and the state read over it answers nothing. Verify deletes it either way.
        let path = Checkpoint.path(in: f.log)
        let sealed = try Data(contentsOf: URL(fileURLWithPath: path))
        for at in [0, 30, 60, 80, 100, sealed.count / 2, sealed.count - 1] {
            var edited = sealed
            edited[at] ^= 0x20
            try edited.write(to: URL(fileURLWithPath: path))
            if let loaded = Checkpoint.load(f.log) {
                XCTAssertNotEqual(loaded, replayed.checkpoint, "byte \(at) changed")
                XCTAssertTrue(loaded.state.readDamagedCheckpoint, "byte \(at) changed")
                XCTAssertNil(loaded.encoded(), "byte \(at) changed")
            }
            XCTAssertEqual(try f.ledger.checkCheckpoint(), .deleted, "byte \(at) changed")
        }
        // Sealed with the right key but not what this code writes: ignored too, and verify deletes it.
        var garbled = try XCTUnwrap(replayed.checkpoint.encoded())
        garbled.append(0x01)
        try f.log.writePageSealedDerivedFile(Checkpoint.fileName, bytes: garbled)
        XCTAssertNil(Checkpoint.load(f.log))
        XCTAssertEqual(try ValidationContext.load(f.log).checkpoint, replayed.checkpoint)
        XCTAssertEqual(try f.ledger.checkCheckpoint(), .deleted)

        // A checkpoint that is sealed and well formed but wrong (a unit known that is not)
        // is what verify finds: it differs from a replay and is deleted.
        var wrong = replayed.checkpoint
        wrong.state.apply(type: "unit.registered", data: JSONObject(["unit": .string("ghost"), "name": .string("G")]))
        wrong.save(f.log)
        XCTAssertEqual(try f.ledger.checkCheckpoint(), .deleted)
        XCTAssertNil(Checkpoint.load(f.log))

        // Appends go on, and the next checkpoint is what a replay gives.
        let report = try f.ledger.append((0..<300).map { _ in model.nextEvent(using: &rng) })
        model.learn(from: report)
        XCTAssertEqual(try XCTUnwrap(Checkpoint.load(f.log)), try ValidationContext.replaying(f.log).checkpoint)
    }

    func testAStateOverASealedCheckpointAnswersAndChangesAsOneInMemory() throws {
        let f = try LedgerFixture(self)
        var rng = SplitMix64(seed: 12)
        func unit(_ i: Int) -> JSONObject { JSONObject(["unit": .string("u\(i)"), "name": .string("U")]) }
        func team(_ i: Int) -> JSONObject { JSONObject(["team": .string("t\(i)"), "name": .string("T"), "unit": .string("u0")]) }
        // Enough keys for a checkpoint of a few hundred pages.
        var memory = ValidationState()
        for i in 0..<60_000 {
            memory.noteStream("unit/u\(i)")
            if i % 3 == 0 { memory.apply(type: "unit.registered", data: unit(i)) }
            if i % 5 == 0 { memory.apply(type: "team.established", data: team(i)) }
        }
        Checkpoint(position: .start, state: memory).save(f.log)
        let loaded = try XCTUnwrap(Checkpoint.load(f.log))
        var over = loaded.state
        let pages = (FileIO_size(Checkpoint.path(in: f.log)) + 4095) / 4096
        XCTAssertGreaterThan(pages, 250)
        XCTAssertEqual(over.checkpointPagesRead, 1, "loading reads the first page (the header) only")
        for i in 0..<20 { XCTAssertEqual(over.flags(.unit, "u\(i * 997)"), memory.flags(.unit, "u\(i * 997)")) }
        XCTAssertLessThan(over.checkpointPagesRead, 20 * 4, "a lookup reads the few pages it probes")

        // The same changes to both, on keys old and new: the same answers.
        for _ in 0..<3_000 {
            let i = Int.random(in: 0..<70_000, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: over.noteStream("unit/u\(i)"); memory.noteStream("unit/u\(i)")
            case 1: over.apply(type: "unit.registered", data: unit(i)); memory.apply(type: "unit.registered", data: unit(i))
            case 2: over.apply(type: "team.established", data: team(i)); memory.apply(type: "team.established", data: team(i))
            case 3: over.apply(type: "team.closed", data: team(i)); memory.apply(type: "team.closed", data: team(i))
            default: over.noteText("sha256-\(i)"); memory.noteText("sha256-\(i)")
            }
            XCTAssertEqual(over.flags(.team, "t\(i)"), memory.flags(.team, "t\(i)"))
            XCTAssertEqual(over.flags(.unit, "u\(i)"), memory.flags(.unit, "u\(i)"))
        }
        XCTAssertFalse(over.readDamagedCheckpoint)
        XCTAssertEqual(over.entries(ValidationState.everything), memory.entries(ValidationState.everything))
        XCTAssertEqual(Checkpoint(position: .start, state: over), Checkpoint(position: .start, state: memory))
        // Saved again, merged into one buffer: it loads as the state in memory.
        Checkpoint(position: .start, state: over).save(f.log)
        XCTAssertEqual(try XCTUnwrap(Checkpoint.load(f.log)), Checkpoint(position: .start, state: memory))
        // Folded again (after a retraction), it leaves the checkpoint for one buffer.
        var refolded = try XCTUnwrap(Checkpoint.load(f.log)).state
        memory.refold(EmptyCollection<ResolvedEvent>())
        refolded.refold(EmptyCollection<ResolvedEvent>())
        XCTAssertEqual(refolded.entries(ValidationState.everything), memory.entries(ValidationState.everything))
    }
}

extension ValidationStateTests {
    /// `same(as:in:)` is what `verify` compares `checkpoint.bin` with a replay by: the
    /// same keys with the same flags, whatever order they were added in and whether one
    /// lies in a sealed checkpoint.
    func testTwoStatesAreTheSameOnlyWithTheSameKeysAndFlags() throws {
        let f = try LedgerFixture(self)
        func unit(_ id: String) -> JSONObject { JSONObject(["unit": .string(id), "name": .string("U")]) }
        func team(_ id: String) -> JSONObject { JSONObject(["team": .string(id), "name": .string("T")]) }
        var first = ValidationState(), second = ValidationState()
        for i in 0..<500 {
            first.noteStream("unit/u\(i)")
            first.apply(type: "unit.registered", data: unit("u\(i)"))
        }
        first.apply(type: "team.established", data: team("t1"))
        second.apply(type: "team.established", data: team("t1"))
        for i in (0..<500).reversed() {
            second.apply(type: "unit.registered", data: unit("u\(i)"))
            second.noteStream("unit/u\(i)")
        }
        XCTAssertTrue(first.same(as: second, in: ValidationState.everything))
        XCTAssertTrue(second.same(as: first, in: ValidationState.everything))
        Checkpoint(position: .start, state: first).save(f.log)
        let sealed = try XCTUnwrap(Checkpoint.load(f.log)).state
        XCTAssertTrue(sealed.same(as: second, in: ValidationState.everything))

        var closed = second
        closed.apply(type: "team.closed", data: team("t1"))
        XCTAssertFalse(closed.same(as: first, in: ValidationState.everything), "one flag of one key differs")
        XCTAssertFalse(sealed.same(as: closed, in: ValidationState.everything))
        XCTAssertTrue(closed.same(as: first, in: .stream), "the flags outside the mask are not compared")
        var more = second
        more.noteStream("unit/u-new")
        XCTAssertFalse(first.same(as: more, in: ValidationState.everything), "a key only the other holds")
        XCTAssertFalse(more.same(as: first, in: ValidationState.everything), "a key only this one holds")
    }

    func testAPageEditedPastTheFirstFailsOnlyWhenALookupReadsItAndThenVoidsTheState() throws {
        let f = try LedgerFixture(self)
        var memory = ValidationState()
        for i in 0..<20_000 { memory.noteStream("unit/u\(i)") }
        Checkpoint(position: .start, state: memory).save(f.log)
        // The entry of unit/u15000 as stored: its flags, its key's length (7), the kind
        // unit (1) and u15000; renamed to q15000.
        let url = URL(fileURLWithPath: Checkpoint.path(in: f.log))
        var bytes = try Data(contentsOf: url)
        let at = try XCTUnwrap(bytes.range(of: Data([7, 1] + Array("u15000".utf8)))).lowerBound
        XCTAssertGreaterThan(at, 3 * 4096, "the entry lies past the first pages")
        bytes[at + 2] = UInt8(ascii: "q")
        try bytes.write(to: url)

        let loaded = try XCTUnwrap(Checkpoint.load(f.log), "loading reads the first page only, which is intact")
        let state = loaded.state
        XCTAssertEqual(state.checkpointPagesRead, 1)
        XCTAssertEqual(state.flags("unit/u3"), .stream, "pages that were not edited read as written")
        XCTAssertFalse(state.readDamagedCheckpoint)
        _ = state.flags("unit/u15000")
        XCTAssertTrue(state.readDamagedCheckpoint, "the lookup that read the edited page found it")
        XCTAssertEqual(state.flags("unit/u3"), [], "after that, the checkpoint answers nothing")
        XCTAssertNil(state.merged())
        XCTAssertNotEqual(loaded, Checkpoint(position: .start, state: memory))
    }

    func testSingleAppendsKeepTheCheckpointUntilTheyHaveReadTheRewriteDistancePastIt() throws {
        var rng = SplitMix64(seed: 23)
        let f = try LedgerFixture(self)
        var model = LogModel()
        // A batch longer than the distance leaves a checkpoint at its end.
        model.learn(from: try f.ledger.append((0..<(Checkpoint.rewriteDistance + 20)).map { _ in model.nextEvent(using: &rng) }))
        for reference in model.takeErasedTexts() { try f.log.deleteText(reference) }
        var kept = try XCTUnwrap(Checkpoint.load(f.log)).position
        var retractions: [Int] = []
        var rewrites = 0
        for append in 1...(Checkpoint.rewriteDistance + 2) {
            // A new ledger each time, as a new process would: validation catches up from the checkpoint.
            let report = try Ledger(log: f.log).append([model.nextEvent(using: &rng)])
            model.learn(from: report)
            for reference in model.takeErasedTexts() { try f.log.deleteText(reference) }
            let position = try XCTUnwrap(Checkpoint.load(f.log)).position
            // The checkpoint is rewritten once an append reads the distance past it, or folds
            // the log again for a retraction it meets past it (an earlier append's).
            let read = report.head.seq - kept.seq
            let metRetraction = retractions.contains { $0 > kept.seq }
            if read >= Checkpoint.rewriteDistance || metRetraction {
                XCTAssertEqual(position.seq, report.head.seq, "append \(append) read \(read) events past the checkpoint, a retraction: \(metRetraction)")
                kept = position
                rewrites += 1
            } else {
                XCTAssertEqual(position, kept, "append \(append) read \(read) events past the checkpoint")
            }
            retractions += report.events.filter { !$0.existing && $0.event.type == History.retractedType }.map(\.event.seq)
        }
        XCTAssertGreaterThan(rewrites, 0)
        XCTAssertFalse(retractions.isEmpty, "the appends hold retractions")
        // The checkpoint written through the overlay is what a replay to its position gives.
        XCTAssertEqual(try f.ledger.checkCheckpoint(), .matches)
    }

    func testTheAppendThatFoldsARetractionAgainKeepsACheckpointSoTheNextOnesDoNot() throws {
        let f = try LedgerFixture(self)
        _ = try f.ledger.append((1...(Checkpoint.rewriteDistance + 4)).map { n in
            NewEvent(type: "unit.registered", data: J(["unit": "u\(n)", "name": "U\(n)"]), occurred: "2021-01-04", actor: "tester")
        })
        let first = try XCTUnwrap(Checkpoint.load(f.log)).position
        let target = try XCTUnwrap(f.ledger.event(seq: 3))
        let retraction = try f.ledger.append([NewEvent(type: "event.retracted", data: J(["target": target.id, "reason": "fejl"]), actor: "tester")])
        XCTAssertEqual(try XCTUnwrap(Checkpoint.load(f.log)).position, first, "a single append leaves the checkpoint")

        // The next writer meets the retraction past the checkpoint and folds the log again:
        // it keeps what it folded, so the one after it starts from there.
        let next = try Ledger(log: f.log).append([NewEvent(type: "unit.updated", data: J(["unit": "u1", "name": "Ny"]), occurred: "2021-02-01", actor: "tester")])
        let kept = try XCTUnwrap(Checkpoint.load(f.log)).position
        XCTAssertEqual(kept.seq, next.head.seq)
        XCTAssertGreaterThan(kept.seq, retraction.head.seq)
        XCTAssertEqual(try f.ledger.checkCheckpoint(), .matches)
        _ = try Ledger(log: f.log).append([NewEvent(type: "unit.updated", data: J(["unit": "u2", "name": "Ny"]), occurred: "2021-02-01", actor: "tester")])
        XCTAssertEqual(try XCTUnwrap(Checkpoint.load(f.log)).position, kept, "no retraction past it: the checkpoint stays")
        // The retracted unit is gone from what validation knows.
        XCTAssertThrowsError(try f.ledger.append([NewEvent(type: "unit.updated", data: J(["unit": "u3", "name": "Ny"]), occurred: "2021-02-01", actor: "tester")]))
    }
}

private func FileIO_size(_ path: String) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
}

extension ValidationState {
    /// A key as stored (`withEncoded`), as an array: the form the tests state.
    static func encode(_ key: String) -> [UInt8] { key.withUTF8Bytes { withEncoded($0) { Array($0) } } }

    /// `encode(key(kind, id))`, without the key as a string.
    static func encode(_ kind: ReferenceKind, _ id: String) -> [UInt8] { id.withUTF8Bytes { withEncoded(kind, $0) { Array($0) } } }
}
