import EventStore
import Foundation
@testable import Projections
import XCTest

/// Property: for random valid logs, whatever is caught up incrementally (an append's
/// validation context, a checkpoint and what was appended after it) equals a replay
/// from the start, and every read agrees with the reads taken along the way.
final class IncrementalReplayTests: XCTestCase {
    /// The valid time of every read: after all generated dates, fixed so runs agree.
    static let now = Timestamp.endOfDay(Timestamp.CalendarDate(year: 2023, month: 6, day: 30)!, in: ZoneRules(identifier: "Europe/Copenhagen")!)

    func testIncrementalValidationAndCheckpointsEqualAFullReplay() throws {
        var rng = SplitMix64(seed: 0x5EED_2021)
        var written: [String: Int] = [:]
        for logIndex in 0..<50 {
            let seed = rng.next()
            try checkOneLog(seed: seed, events: Int.random(in: 20...200, using: &rng), name: "log \(logIndex) (seed \(seed))", written: &written)
        }
        // The logs exercised every type an append may write, corrections and retractions above all.
        for type in Catalog.types where !type.storeOnly {
            XCTAssertGreaterThanOrEqual(written[type.name, default: 0], 20, "\(type.name) was generated only \(written[type.name, default: 0]) times")
        }
        XCTAssertGreaterThanOrEqual(written["event.corrected", default: 0], 300)
        XCTAssertGreaterThanOrEqual(written["event.retracted", default: 0], 100)
    }

    private func checkOneLog(seed: UInt64, events total: Int, name: String, written counts: inout [String: Int]) throws {
        var rng = SplitMix64(seed: seed)
        let f = try LedgerFixture(self)
        var model = LogModel()
        var incremental = ValidationContext()
        var snapshots: [(recorded: String, state: ProjectState, kpis: [KPIRow])] = []
        var written = 0
        var hasCheckpoint = false

        while written < total {
            let size = min(total - written, Bool.random(using: &rng) ? Int.random(in: 1...4, using: &rng) : Int.random(in: 5...30, using: &rng))
            let batch = (0..<size).map { _ in model.nextEvent(using: &rng) }
            let report: Ledger.AppendReport
            do {
                report = try f.ledger.append(batch)
            } catch {
                let listing = batch.enumerated().map { "  \($0.offset): \($0.element.type) \(CanonicalJSON.string(.object($0.element.data)))" }
                return XCTFail("\(name): a valid batch was refused after \(written) events: \(error)\n" + listing.joined(separator: "\n"))
            }
            written += size
            for appended in report.events { counts[appended.event.type, default: 0] += 1 }
            model.learn(from: report)
            for reference in model.takeErasedTexts() { try f.log.deleteText(reference) }

            // The context caught up batch by batch equals one built from the start (a full
            // replay is the slow part, so it is compared after half the batches and the last).
            try incremental.catchUp(f.log, to: nil)
            if Bool.random(using: &rng) || written == total {
                let fresh = try ValidationContext.replaying(f.log)
                XCTAssertEqual(incremental.checkpoint, fresh.checkpoint, "\(name): incremental context after \(written) events")
                // What a writer resumes from: the checkpoint left earlier, caught up.
                if hasCheckpoint {
                    XCTAssertEqual(try ValidationContext.load(f.log).checkpoint, fresh.checkpoint, "\(name): resumed from a checkpoint after \(written) events")
                }
            }
            // Sometimes leave a checkpoint here; later appends resume from it while it grows stale.
            if Int.random(in: 0..<4, using: &rng) == 0 {
                incremental.checkpoint.save(f.log)
                hasCheckpoint = true
                XCTAssertEqual(try f.ledger.checkCheckpoint(), .matches, "\(name): checkpoint after \(written) events")
            }

            // Now and then, what a read says right after this batch, to be read again as of its time.
            if Int.random(in: 0..<4, using: &rng) == 0 {
                let view = try f.ledger.view(now: IncrementalReplayTests.now)
                snapshots.append((report.head.recorded ?? "", try view.state, try view.kpis))
            }
            // Later batches get a later recorded time, so each batch has its own asOf.
            usleep(2_000)
        }

        // A fresh ledger replaying from the start reads what the incremental state says.
        let final = try Ledger(log: EventLog(path: f.path)).view(now: IncrementalReplayTests.now)
        // What validation reads of the replayed state is what the incremental context holds.
        XCTAssertEqual(ValidationState(foldedOf: try final.state, closedCases: closedCases(try final.facts)).entries(.folded),
                       incremental.state.entries(.folded), "\(name): replayed state")
        XCTAssertEqual(final.head.seq, model.seq, "\(name): events in the log")

        // Reading as of each batch's time gives what was read right after that batch.
        for (index, snapshot) in snapshots.enumerated() {
            let past = try f.ledger.view(asOf: snapshot.recorded, now: IncrementalReplayTests.now)
            XCTAssertEqual(try past.state, snapshot.state, "\(name): state as of batch \(index + 1)")
            XCTAssertEqual(try past.kpis, snapshot.kpis, "\(name): KPIs as of batch \(index + 1)")
        }
    }

    func testAStaleCheckpointIsCaughtUpAndAForeignOneIsIgnored() throws {
        var rng = SplitMix64(seed: 7)
        let f = try LedgerFixture(self)
        var model = LogModel()
        _ = try f.ledger.append((0..<30).map { _ in model.nextEvent(using: &rng) }).events.count
        try ValidationContext.replaying(f.log).checkpoint.save(f.log)
        let report = try f.ledger.append((0..<30).map { _ in model.nextEvent(using: &rng) })
        model.learn(from: report)
        XCTAssertEqual(try ValidationContext.load(f.log).checkpoint, try ValidationContext.replaying(f.log).checkpoint)

        // A checkpoint of another log names a seq whose hash differs here: it is not used.
        let other = try LedgerFixture(self)
        var otherModel = LogModel()
        _ = try other.ledger.append((0..<40).map { _ in otherModel.nextEvent(using: &rng) })
        try ValidationContext.replaying(other.log).checkpoint.save(f.log)
        XCTAssertNil(Checkpoint.load(f.log))
        XCTAssertEqual(try ValidationContext.load(f.log).checkpoint, try ValidationContext.replaying(f.log).checkpoint)
        XCTAssertEqual(try f.ledger.checkCheckpoint(), .deleted)
        // Appends go on as before.
        _ = try f.ledger.append((0..<5).map { _ in model.nextEvent(using: &rng) })
    }
}

// MARK: a seeded generator


/// What the generated log holds so far, so that every generated event is valid: the
/// catalog's rules mirrored just far enough to choose names that exist (or do not).
struct LogModel {
    struct Fact {
        var id: String
        var type: String
        var data: JSONObject
        var retracted = false
    }

    private(set) var seq = 0
    private var counter = 0
    private var units: [String] = []
    private var openTeams: [String] = []
    private var employed: [String: String] = [:]  // person → team
    private var formerStaff: [String] = []
    private var people: [String] = []
    private var bodies: [String] = []
    private var meetings: [String] = []
    private var openCases: [String] = []
    private var streams: [String] = []
    private var facts: [Fact] = []
    private var texts: [String] = []
    private var erasable: [String] = []
    private var toErase: [String] = []
    private var head: LogHead?

    private static let words = ["recovery", "håb", "netværk", "ressourcer", "peer", "overgang", "møde", "borger", "plan", "evaluering", "skole", "fællesskab"]
    private static let offers = ["nada", "fitness", "kreativ", "ungestedet", "pilates"]

    /// Updates what only the store knows: text references and the head (for seals).
    mutating func learn(from report: Ledger.AppendReport) {
        head = report.head
        for appended in report.events {
            if let reference = appended.event.data["text"]?.stringValue { erasable.append(reference) }
        }
    }

    /// References erased by the last batch; their files are to be deleted after the append.
    mutating func takeErasedTexts() -> [String] {
        defer { toErase = [] }
        return toErase
    }

    mutating func nextEvent(using rng: inout SplitMix64) -> NewEvent {
        for _ in 0..<20 {
            if let event = attempt(using: &rng) { return event }
        }
        return registerUnit(using: &rng)
    }

    private mutating func fresh(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)-\(counter)"
    }

    private static func occurred(using rng: inout SplitMix64) -> String {
        let day = Timestamp.CalendarDate(year: 2020, month: 1, day: 1)!.daysSinceEpoch + Int.random(in: 0..<(3 * 365), using: &rng)
        let date = Timestamp.CalendarDate(daysSinceEpoch: day).description
        return Int.random(in: 0..<8, using: &rng) == 0 ? "\(date)T\(10 + Int.random(in: 0..<12, using: &rng)):30:00+02:00" : date
    }

    private static func text(using rng: inout SplitMix64) -> String {
        (0..<Int.random(in: 1...8, using: &rng)).map { _ in words.randomElement(using: &rng)! }.joined(separator: " ")
    }

    private static func uuid(using rng: inout SplitMix64) -> String {
        let hex = Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let h = Array(hex)
        return String(h[0..<8]) + "-" + String(h[8..<12]) + "-4" + String(h[13..<16]) + "-8" + String(h[17..<20]) + "-" + String(h[20..<32])
    }

    private mutating func make(_ type: String, _ data: JSONObject, stream: String?, using rng: inout SplitMix64) -> NewEvent {
        seq += 1
        let id = LogModel.uuid(using: &rng)
        if !History.isMetaType(type) { facts.append(Fact(id: id, type: type, data: data)) }
        if let stream, !streams.contains(stream) { streams.append(stream) }
        let source = Int.random(in: 0..<4, using: &rng) == 0 ? "dokument \(LogModel.words.randomElement(using: &rng)!), side \(Int.random(in: 1...40, using: &rng))" : nil
        return NewEvent(type: type, data: data, occurred: LogModel.occurred(using: &rng), source: source, actor: "generator", id: id)
    }

    private mutating func registerUnit(using rng: inout SplitMix64) -> NewEvent {
        let unit = fresh("u")
        var data = J(["unit": unit, "name": "Enhed \(unit)"])
        if Bool.random(using: &rng) { data["headcount"] = .integer(Int.random(in: 0...60, using: &rng)) }
        if !units.isEmpty, Int.random(in: 0..<3, using: &rng) == 0 { data["parent"] = .string(units.randomElement(using: &rng)!) }
        units.append(unit)
        return make("unit.registered", data, stream: "unit/\(unit)", using: &rng)
    }

    private mutating func attempt(using rng: inout SplitMix64) -> NewEvent? {
        switch Int.random(in: 0..<21, using: &rng) {
        case 0:
            return registerUnit(using: &rng)
        case 1:
            guard let unit = units.randomElement(using: &rng) else { return nil }
            return make("unit.updated", J(["unit": unit, "headcount": Int.random(in: 0...60, using: &rng)]), stream: nil, using: &rng)
        case 2:
            guard !units.isEmpty else { return nil }
            let team = fresh("t")
            var data = J(["team": team, "name": "Team \(team)", "kind": Catalog.teamKinds.randomElement(using: &rng)!,
                          "units": Array(Set((0..<Int.random(in: 1...3, using: &rng)).map { _ in units.randomElement(using: &rng)! })).sorted()])
            if Bool.random(using: &rng) { data["plan"] = .object(J(["peers": Int.random(in: 0...4, using: &rng), "professionals": Int.random(in: 0...2, using: &rng)])) }
            openTeams.append(team)
            return make("team.established", data, stream: "team/\(team)", using: &rng)
        case 3:
            guard openTeams.count > 2, Int.random(in: 0..<3, using: &rng) == 0 else { return nil }
            let team = openTeams.remove(at: Int.random(in: 0..<openTeams.count, using: &rng))
            return make("team.closed", J(["team": team, "reason": LogModel.text(using: &rng)]), stream: nil, using: &rng)
        case 4, 5:
            guard let team = openTeams.randomElement(using: &rng) else { return nil }
            let person: String
            if !formerStaff.isEmpty, Bool.random(using: &rng) {
                person = formerStaff.remove(at: Int.random(in: 0..<formerStaff.count, using: &rng))
            } else {
                person = fresh("p")
                people.append(person)
            }
            employed[person] = team
            var data = J(["person": person, "role": Catalog.roles.randomElement(using: &rng)!, "team": team])
            if Bool.random(using: &rng) { data["hoursPerWeek"] = .integer(Int.random(in: 10...37, using: &rng)) }
            return make("staff.hired", data, stream: "person/\(person)", using: &rng)
        case 6:
            guard let person = employed.keys.sorted().randomElement(using: &rng) else { return nil }
            employed[person] = nil
            formerStaff.append(person)
            return make("staff.left", J(["person": person]), stream: nil, using: &rng)
        case 7:
            guard !units.isEmpty else { return nil }
            let training = fresh("tr")
            var participants = JSONObject()
            for _ in 0..<Int.random(in: 1...3, using: &rng) { participants[units.randomElement(using: &rng)!] = .integer(Int.random(in: 0...40, using: &rng)) }
            var data = J(["training": training, "title": LogModel.text(using: &rng), "kind": Catalog.trainingKinds.randomElement(using: &rng)!,
                          "participants": participants])
            if Bool.random(using: &rng) { data["hours"] = .integer(Int.random(in: 1...20, using: &rng)) }
            return make("training.held", data, stream: "training/\(training)", using: &rng)
        case 8:
            guard units.count >= 2 else { return nil }
            let from = units.randomElement(using: &rng)!
            let to = units.filter { $0 != from }.randomElement(using: &rng)!
            let handover = fresh("case")
            var data = J(["case": handover, "from": from, "to": to])
            if let peer = people.randomElement(using: &rng), Bool.random(using: &rng) { data["peer"] = .string(peer) }
            if Bool.random(using: &rng) { data["ageBand"] = .string("18-23") }
            openCases.append(handover)
            return make("handover.started", data, stream: "handover/\(handover)", using: &rng)
        case 9:
            guard !openCases.isEmpty else { return nil }
            let handover = openCases.remove(at: Int.random(in: 0..<openCases.count, using: &rng))
            return Int.random(in: 0..<4, using: &rng) == 0
                ? make("handover.cancelled", J(["case": handover, "reason": LogModel.text(using: &rng)]), stream: nil, using: &rng)
                : make("handover.completed", J(["case": handover, "outcome": Catalog.outcomes.randomElement(using: &rng)!]), stream: nil, using: &rng)
        case 10:
            let body = fresh("b")
            var data = J(["body": body, "name": "Organ \(body)", "kind": Catalog.bodyKinds.randomElement(using: &rng)!])
            if let cadence = (Catalog.cadences + [""]).randomElement(using: &rng), !cadence.isEmpty { data["cadence"] = .string(cadence) }
            bodies.append(body)
            return make("body.established", data, stream: "body/\(body)", using: &rng)
        case 11, 12:
            guard let body = bodies.randomElement(using: &rng) else { return nil }
            let meeting = fresh("m")
            meetings.append(meeting)
            return make("meeting.held", J(["meeting": meeting, "body": body, "attendees": Int.random(in: 2...12, using: &rng)]),
                        stream: "meeting/\(meeting)", using: &rng)
        case 13:
            guard let meeting = meetings.randomElement(using: &rng) else { return nil }
            var data = J(["meeting": meeting, "text": LogModel.text(using: &rng), "decisions": [LogModel.text(using: &rng)]])
            if let head, head.seq > 0, Bool.random(using: &rng) { data["seal"] = .string(head.description) }
            return make("minutes.recorded", data, stream: nil, using: &rng)
        case 14:
            let milestone = fresh("ms")
            return make("evaluation.milestone", J(["milestone": milestone, "title": LogModel.text(using: &rng)]), stream: "evaluation/\(milestone)", using: &rng)
        case 15:
            let scope = (units + openTeams + bodies + ["project"]).randomElement(using: &rng)!
            var data = J(["kpi": Catalog.kpiNames.randomElement(using: &rng)!, "scope": scope, "value": Int.random(in: 0...10, using: &rng)])
            if Bool.random(using: &rng) { data["period"] = .string(["2021", "2021-H2", "2022-Q1", "2020-Q4"].randomElement(using: &rng)!) }
            return make("target.set", data, stream: nil, using: &rng)
        case 16:
            guard let venue = units.randomElement(using: &rng) else { return nil }
            return make("attendance.counted", J(["offer": LogModel.offers.randomElement(using: &rng)!, "venue": venue,
                                                 "period": ["2020-H2", "2021-H1", "2021-H2", "2022"].randomElement(using: &rng)!,
                                                 "contacts": Int.random(in: 0...200, using: &rng)]), stream: nil, using: &rng)
        case 17:
            guard let about = streams.randomElement(using: &rng) else { return nil }
            return make("note.recorded", J(["about": about, "text": LogModel.text(using: &rng)]), stream: nil, using: &rng)
        case 18, 19:
            return correction(using: &rng)
        default:
            if !erasable.isEmpty, Int.random(in: 0..<3, using: &rng) == 0 {
                let reference = erasable.remove(at: Int.random(in: 0..<erasable.count, using: &rng))
                toErase.append(reference)
                return make("text.erased", J(["ref": reference, "reason": "navn nævnt"]), stream: nil, using: &rng)
            }
            return retraction(using: &rng)
        }
    }

    /// A correction of a live fact, with changes that keep its data valid.
    private mutating func correction(using rng: inout SplitMix64) -> NewEvent? {
        guard let index = facts.indices.filter({ !facts[$0].retracted }).randomElement(using: &rng) else { return nil }
        let target = facts[index]
        var changes = JSONObject()
        switch target.type {
        case "unit.registered", "unit.updated": changes["headcount"] = .integer(Int.random(in: 0...60, using: &rng))
        case "team.established": changes["plan"] = .object(J(["peers": Int.random(in: 0...4, using: &rng)]))
        case "staff.hired": changes["hoursPerWeek"] = .integer(Int.random(in: 10...37, using: &rng))
        case "training.held": changes["hours"] = .integer(Int.random(in: 1...20, using: &rng))
        case "meeting.held": changes["attendees"] = .integer(Int.random(in: 2...12, using: &rng))
        case "minutes.recorded":
            // Its meeting may have been retracted since; then the minutes name nothing that exists.
            guard let meeting = target.data["meeting"]?.stringValue, meetings.contains(meeting) else { return nil }
            changes["decisions"] = .array([.string(LogModel.text(using: &rng))])
        case "evaluation.milestone": changes["title"] = .string(LogModel.text(using: &rng))
        case "target.set": changes["value"] = .integer(Int.random(in: 0...10, using: &rng))
        case "attendance.counted": changes["contacts"] = .integer(Int.random(in: 0...200, using: &rng))
        case "handover.started": changes["ageBand"] = .string("17-23")
        default: break
        }
        var data = J(["target": target.id, "reason": LogModel.text(using: &rng)])
        if !changes.isEmpty { data["changes"] = .object(changes) }
        if changes.isEmpty || Int.random(in: 0..<3, using: &rng) == 0 { data["occurred"] = .string(LogModel.occurred(using: &rng)) }
        return make("event.corrected", data, stream: nil, using: &rng)
    }

    /// A retraction of a fact that nothing else depends on.
    private mutating func retraction(using rng: inout SplitMix64) -> NewEvent? {
        let leaves: Set<String> = ["target.set", "attendance.counted", "evaluation.milestone", "training.held", "unit.updated", "note.recorded",
                                   "meeting.held", "minutes.recorded"]
        guard let index = facts.indices.filter({ !facts[$0].retracted && leaves.contains(facts[$0].type) }).randomElement(using: &rng) else { return nil }
        facts[index].retracted = true
        if facts[index].type == "meeting.held", let meeting = facts[index].data["meeting"]?.stringValue { meetings.removeAll { $0 == meeting } }
        return make("event.retracted", J(["target": facts[index].id, "reason": LogModel.text(using: &rng)]), stream: nil, using: &rng)
    }
}
