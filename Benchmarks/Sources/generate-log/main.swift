// generate-log: a deterministic synthetic log for the benchmarks (issue 6).
//
//     generate-log OUTDIR COUNT SEED [--jsonl FILE] [--no-log] [--batch N]
//
// Simulates a national roll-out: municipalities with their units, teams, bodies and
// staff, then years of handovers, attendance counts, meetings and minutes, trainings,
// notes, targets, milestones, corrections and retractions, in a realistic mix of every
// type of the catalog. The same seed gives the same events (ids, data, occurred);
// `recorded` and the attachments' salts are the store's, so the bytes differ per run.
//
// The events are written through the store (`EventLog.append`, in batches), so the
// chain is real. The generator keeps its own model of the state to draw only valid
// events; `run.sh` checks that claim by importing the `--jsonl` file of the same events
// into a fresh log through `recoveryctl import`, which validates every event by the
// catalog, and comparing the KPIs of both logs.
//
// With `--jsonl FILE` it also writes the events as import lines
// `{"data","id","occurred","type"}` (texts inline; `text.erased` left out, since the
// import gives texts new references); with `--no-log` it writes only that file.

import EventStore
import Foundation
import Projections

// MARK: arguments

var arguments = Array(CommandLine.arguments.dropFirst())
@MainActor func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    let value = arguments[i + 1]
    arguments.removeSubrange(i...(i + 1))
    return value
}
@MainActor func flag(_ name: String) -> Bool {
    guard let i = arguments.firstIndex(of: name) else { return false }
    arguments.remove(at: i)
    return true
}
let jsonlPath = option("--jsonl")
let batchSize = option("--batch").flatMap(Int.init) ?? 10_000
let writeLog = !flag("--no-log")
guard arguments.count == 3, let count = Int(arguments[1]), count > 0, let seed = UInt64(arguments[2]) else {
    FileHandle.standardError.write("usage: generate-log OUTDIR COUNT SEED [--jsonl FILE] [--no-log] [--batch N]\n".data(using: .utf8)!)
    exit(2)
}
let outputDirectory = arguments[0]

// MARK: a seeded PRNG

/// xoshiro256** seeded through SplitMix64: fast, and the same on every platform.
struct Xoshiro: RandomNumberGenerator {
    var s: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }
}

struct Generator {
    let count: Int
    let seed: UInt64
    let batchSize: Int
    let log: EventLog?
    let jsonl: FileHandle?

    init(count: Int, seed: UInt64, batchSize: Int, log: EventLog?, jsonl: FileHandle?) {
        self.count = count
        self.seed = seed
        self.batchSize = batchSize
        self.log = log
        self.jsonl = jsonl
        rng = Xoshiro(seed: seed)
        municipalityCount = max(1, min(98, count / 400))
        municipalities = (1...municipalityCount).map { Municipality(prefix: "k\($0 < 10 ? "0" : "")\($0)") }
    }

    var rng: Xoshiro
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    mutating func uuid() -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = Array(Hex.encode(bytes))
        return String(hex[0..<8]) + "-" + String(hex[8..<12]) + "-" + String(hex[12..<16]) + "-" + String(hex[16..<20]) + "-" + String(hex[20..<32])
    }

    // MARK: the simulated world

    /// Valid time runs from 2019-01-01 over about seven years, whatever the count.
    let firstDay = Timestamp.CalendarDate(year: 2019, month: 1, day: 1)!.daysSinceEpoch
    let dayCount = 7 * 365 - 30
    var eventIndex = 0
    var today: Timestamp.CalendarDate { Timestamp.CalendarDate(daysSinceEpoch: firstDay + eventIndex * dayCount / count) }
    mutating func quarter(of date: Timestamp.CalendarDate) -> String { "\(date.year)-Q\((date.month - 1) / 3 + 1)" }

    let unitNames = [
        ("psykiatri", "Psykiatrisk Center"), ("ungecenter", "Ungecenteret"), ("jobcenter", "Jobcenter"),
        ("bosted-nord", "Bosted Nord"), ("bosted-syd", "Bosted Syd"), ("misbrug", "Misbrugscenter"),
        ("socialpsyk", "Socialpsykiatrien"), ("recoveryskole", "Recoveryskolen"), ("sundhed", "Sundhedshuset"),
        ("familie", "Familieafdelingen"),
    ]
    let offers = ["cafe", "gaatur", "samtale", "netvaerk", "kursus", "aabent-hus"]
    let words = ["recovery", "peer", "samarbejde", "overgang", "netvaerk", "trivsel", "mestring", "haab", "faellesskab", "uddannelse",
                 "beskaeftigelse", "bolig", "paaroerende", "dialog", "opfoelgning", "evaluering", "kompetencer", "erfaring"]
    mutating func sentence(_ n: Int) -> String {
        var parts: [String] = []
        for _ in 0..<n { parts.append(pick(words)) }
        let text = parts.joined(separator: " ")
        return text.prefix(1).uppercased() + text.dropFirst() + "."
    }

    /// One municipality's things, by slug.
    struct Municipality {
        var prefix: String
        var units: [String] = []
        var openTeams: [String] = []
        var bodies: [String] = []
        var employed: [(person: String, role: String)] = []
        var openCases: [String] = []
        var meetings: [String] = []
        var streams: [String] = []
        var counter = 0

        mutating func next(_ kind: String) -> String {
            counter += 1
            return "\(prefix)-\(kind)\(counter)"
        }
    }

    /// A fact that a later event may correct or retract.
    struct Correctable {
        var id: String
        var type: String
        var stream: String
        var municipality: Int
        /// The team a `staff.hired` names: a correction must not name a closed team.
        var team: String?
    }

    let municipalityCount: Int
    var municipalities: [Municipality]
    var correctable: [Correctable] = []
    var closedTeams: Set<String> = []
    var textReferences: [String] = []
    var lastHead = LogHead.empty

    // MARK: output

    var jsonlBuffer: [UInt8] = []
    var batch: [EventDraft] = []
    var erasures: [String] = []
    let actor = "generate-log"

    mutating func emit(_ type: String, stream: String, data: JSONObject, occurred: String? = nil, text: String? = nil, municipality: Int,
              correctableAs: Bool = false) {
        guard eventIndex < count else { return }
        let id = uuid()
        let occurred = occurred ?? today.description
        var lineData = data
        var logData = data
        if let text {
            lineData["text"] = .string(text)
            // Without a log, a stand-in reference keeps the draws the same as with one.
            let reference = try! log?.storeText(text) ?? "sha256-" + Hex.encode(SHA256.hash(Array(id.utf8)))
            logData["text"] = .string(reference)
            textReferences.append(reference)
        }
        if jsonl != nil && type != EventLog.textErasedType {
            let line = JSONObject(["type": .string(type), "id": .string(id), "occurred": .string(occurred), "data": .object(lineData)])
            CanonicalJSON.encode(.object(line), into: &jsonlBuffer)
            jsonlBuffer.append(0x0A)
            if jsonlBuffer.count > 1 << 20 { jsonl!.write(Data(jsonlBuffer)); jsonlBuffer.removeAll(keepingCapacity: true) }
        }
        if log != nil {
            batch.append(EventDraft(id: id, type: type, stream: stream, occurred: occurred, actor: actor,
                                    source: eventIndex % 50 == 0 ? "synthetic log, seed \(seed)" : nil, data: logData))
        }
        if correctableAs {
            correctable.append(Correctable(id: id, type: type, stream: stream, municipality: municipality, team: data["team"]?.stringValue))
            if correctable.count > 4000 { correctable.removeFirst(2000) }
        }
        // Notes are about these; a text's stream is left out, as the import gives texts other references.
        if type != EventLog.textErasedType {
            municipalities[municipality].streams.append(stream)
            if municipalities[municipality].streams.count > 400 { municipalities[municipality].streams.removeFirst(200) }
        }
        eventIndex += 1
        if batch.count >= batchSize { flush() }
    }

    mutating func flush() {
        if let log, !batch.isEmpty {
            let drafts = batch
            lastHead = try! log.append { _ in drafts }.head
            for reference in erasures { try! log.deleteText(reference) }
        }
        batch.removeAll(keepingCapacity: true)
        erasures.removeAll()
    }

    // MARK: events, one kind at a time

    mutating func registerUnit(_ m: Int, key: String, name: String) {
        let id = "\(municipalities[m].prefix)-\(key)"
        var data = JSONObject(["unit": .string(id), "name": .string(name), "headcount": .integer(int(15...400))])
        if let parent = municipalities[m].units.first, chance(0.6) { data["parent"] = .string(parent) }
        municipalities[m].units.append(id)
        emit("unit.registered", stream: "unit/\(id)", data: data, municipality: m)
    }

    mutating func establishTeam(_ m: Int) {
        let id = municipalities[m].next("team")
        let units = Array(Set((0..<int(1...3)).map { _ in pick(municipalities[m].units) })).sorted()
        var data = JSONObject(["team": .string(id), "name": .string("Team \(pick(words))"), "kind": .string(pick(Catalog.teamKinds)),
                               "units": .array(units.map(JSONValue.string))])
        if chance(0.8) { data["plan"] = .object(JSONObject(["peers": .integer(int(1...8)), "professionals": .integer(int(0...5))])) }
        municipalities[m].openTeams.append(id)
        emit("team.established", stream: "team/\(id)", data: data, municipality: m)
    }

    mutating func establishBody(_ m: Int) {
        let id = municipalities[m].next("body")
        var data = JSONObject(["body": .string(id), "name": .string("Gruppe for \(pick(words))"), "kind": .string(pick(Catalog.bodyKinds))])
        if chance(0.85) { data["cadence"] = .string(pick(Catalog.cadences)) }
        municipalities[m].bodies.append(id)
        emit("body.established", stream: "body/\(id)", data: data, municipality: m)
    }

    mutating func hire(_ m: Int) {
        guard !municipalities[m].openTeams.isEmpty else { return establishTeam(m) }
        let id = municipalities[m].next("p")
        let role = pick(["peer", "peer", "peer", "professional", "professional", "project-leader"])
        var data = JSONObject(["person": .string(id), "role": .string(role), "team": .string(pick(municipalities[m].openTeams))])
        if chance(0.7) { data["hoursPerWeek"] = .integer(int(8...37)) }
        municipalities[m].employed.append((id, role))
        emit("staff.hired", stream: "person/\(id)", data: data, municipality: m, correctableAs: true)
    }

    mutating func leave(_ m: Int) {
        guard municipalities[m].employed.count > 3 else { return hire(m) }
        let (person, _) = municipalities[m].employed.remove(at: int(0...(municipalities[m].employed.count - 1)))
        var data = JSONObject(["person": .string(person)])
        if chance(0.4) { data["reason"] = .string(pick(["nyt job", "uddannelse", "orlov", "flytning"])) }
        emit("staff.left", stream: "person/\(person)", data: data, municipality: m)
    }

    mutating func startHandover(_ m: Int) {
        let units = municipalities[m].units
        let from = pick(units)
        var to = pick(units)
        if to == from { to = units[(units.firstIndex(of: from)! + 1) % units.count] }
        let id = municipalities[m].next("case")
        var data = JSONObject(["case": .string(id), "from": .string(from), "to": .string(to)])
        let peers = municipalities[m].employed.filter { $0.role == "peer" }
        if !peers.isEmpty, chance(0.45) { data["peer"] = .string(pick(peers).person) }
        if chance(0.8) { data["ageBand"] = .string(pick(["15-17", "18-23", "18-25", "24-30"])) }
        municipalities[m].openCases.append(id)
        emit("handover.started", stream: "handover/\(id)", data: data, municipality: m, correctableAs: true)
    }

    mutating func closeHandover(_ m: Int) {
        guard municipalities[m].openCases.count > 2 else { return startHandover(m) }
        // Older cases close first, mostly.
        let index = chance(0.7) ? 0 : int(0...(municipalities[m].openCases.count - 1))
        let id = municipalities[m].openCases.remove(at: index)
        if chance(0.85) {
            var data = JSONObject(["case": .string(id)])
            if chance(0.9) { data["outcome"] = .string(pick(Catalog.outcomes)) }
            emit("handover.completed", stream: "handover/\(id)", data: data, municipality: m)
        } else {
            emit("handover.cancelled", stream: "handover/\(id)", data: JSONObject(["case": .string(id), "reason": .string("borger flyttet")]), municipality: m)
        }
    }

    mutating func holdTraining(_ m: Int) {
        let id = municipalities[m].next("training")
        var participants = JSONObject()
        for _ in 0..<int(1...3) { participants[pick(municipalities[m].units)] = .integer(int(0...40)) }
        var data = JSONObject(["training": .string(id), "title": .string("Temadag om \(pick(words))"), "kind": .string(pick(Catalog.trainingKinds)),
                               "participants": .object(participants)])
        if chance(0.5) { data["provider"] = .string(pick(municipalities[m].units)) }
        if chance(0.5) { data["teachers"] = .object(JSONObject(["professionals": .integer(int(0...3)), "peers": .integer(int(0...3))])) }
        if chance(0.6) { data["hours"] = .integer(int(2...30)) }
        emit("training.held", stream: "training/\(id)", data: data, municipality: m, correctableAs: true)
    }

    mutating func holdMeeting(_ m: Int) {
        let id = municipalities[m].next("meeting")
        var data = JSONObject(["meeting": .string(id), "body": .string(pick(municipalities[m].bodies))])
        if chance(0.7) { data["attendees"] = .integer(int(3...25)) }
        if chance(0.5) { data["agenda"] = .array((0..<int(1...4)).map { _ in .string(sentence(3)) }) }
        municipalities[m].meetings.append(id)
        if municipalities[m].meetings.count > 50 { municipalities[m].meetings.removeFirst() }
        emit("meeting.held", stream: "meeting/\(id)", data: data, municipality: m, correctableAs: true)
    }

    mutating func recordMinutes(_ m: Int) {
        guard let meeting = municipalities[m].meetings.last else { return holdMeeting(m) }
        var data = JSONObject(["meeting": .string(meeting)])
        if chance(0.6) { data["decisions"] = .array((0..<int(1...3)).map { _ in .string(sentence(4)) }) }
        emit("minutes.recorded", stream: "meeting/\(meeting)", data: data, text: (0..<int(2...8)).map { _ in sentence(8) }.joined(separator: " "), municipality: m)
    }

    mutating func countAttendance(_ m: Int) {
        let offer = "\(municipalities[m].prefix)-\(pick(offers))"
        let venue = pick(municipalities[m].units)
        let contacts = int(0...300)
        var data = JSONObject(["offer": .string(offer), "venue": .string(venue), "period": .string(quarter(of: today)), "contacts": .integer(contacts)])
        if chance(0.6) { data["citizens"] = .integer(contacts / 3) }
        emit("attendance.counted", stream: "attendance/\(venue)/\(offer)", data: data, municipality: m, correctableAs: true)
    }

    mutating func recordNote(_ m: Int) {
        let about = pick(municipalities[m].streams.suffix(200))
        emit("note.recorded", stream: about, data: JSONObject(["about": .string(about)]), text: sentence(12), municipality: m, correctableAs: true)
    }

    mutating func setTarget(_ m: Int) {
        let kpi: String, scope: String
        var period: String?
        switch int(0...4) {
        case 0: kpi = "peers.employed"; scope = municipalities[m].openTeams.first ?? "project"
        case 1: kpi = "training.participants"; scope = pick(municipalities[m].units)
        case 2: kpi = "meetings.held"; scope = pick(municipalities[m].bodies); period = "\(today.year)"
        case 3: kpi = "units.with-peer"; scope = "project"
        default: kpi = "professionals.employed"; scope = municipalities[m].openTeams.last ?? "project"
        }
        var data = JSONObject(["kpi": .string(kpi), "scope": .string(scope), "value": .integer(int(1...60))])
        if let period { data["period"] = .string(period) }
        emit("target.set", stream: "target/\(kpi)/\(scope)", data: data, municipality: m, correctableAs: true)
    }

    mutating func reachMilestone(_ m: Int) {
        let id = municipalities[m].next("milestone")
        var data = JSONObject(["milestone": .string(id), "title": .string("Evaluering af \(pick(words))")])
        if chance(0.5) { data["by"] = .string("Evalueringsenheden") }
        if chance(0.5) { data["findings"] = .array((0..<int(1...3)).map { _ in .string(sentence(5)) }) }
        emit("evaluation.milestone", stream: "evaluation/\(id)", data: data, municipality: m)
    }

    mutating func updateUnit(_ m: Int) {
        let unit = pick(municipalities[m].units)
        var data = JSONObject(["unit": .string(unit), "headcount": .integer(int(15...400))])
        if chance(0.2) { data["name"] = .string("\(pick(unitNames).1) \(pick(["Nord", "Syd", "Vest", "Øst"]))") }
        emit("unit.updated", stream: "unit/\(unit)", data: data, municipality: m)
    }

    mutating func closeTeam(_ m: Int) {
        guard municipalities[m].openTeams.count > 2 else { return establishTeam(m) }
        let team = municipalities[m].openTeams.removeFirst()
        closedTeams.insert(team)
        emit("team.closed", stream: "team/\(team)", data: JSONObject(["team": .string(team), "reason": .string("projektet afsluttet")]), municipality: m)
    }

    mutating func correct() {
        guard !correctable.isEmpty else { return }
        let index = correctable.count - 1 - min(correctable.count - 1, int(0...500))
        let target = correctable[index]
        if let team = target.team, closedTeams.contains(team) { return }
        var data = JSONObject(["target": .string(target.id), "reason": .string(pick(["tastefejl", "forkert dato", "opdateret optælling"]))])
        var changes = JSONObject()
        switch target.type {
        case "attendance.counted": changes["contacts"] = .integer(int(0...300))
        case "training.held": changes["hours"] = .integer(int(2...30))
        case "meeting.held": changes["attendees"] = .integer(int(3...25))
        case "handover.started": changes["ageBand"] = .string("18-23")
        case "staff.hired": changes["hoursPerWeek"] = .integer(int(8...37))
        case "target.set": changes["value"] = .integer(int(1...60))
        default: break
        }
        if !changes.isEmpty { data["changes"] = .object(changes) }
        if changes.isEmpty || chance(0.2), ["attendance.counted", "training.held", "note.recorded", "target.set"].contains(target.type) {
            data["occurred"] = .string(today.description)
        }
        guard data["changes"] != nil || data["occurred"] != nil else { return }
        emit("event.corrected", stream: target.stream, data: data, municipality: target.municipality)
    }

    mutating func retract() {
        // Only facts nothing else builds on, so the model stays simple.
        let retractable: Set<String> = ["attendance.counted", "target.set", "note.recorded", "training.held"]
        guard let index = correctable.indices.reversed().prefix(300).first(where: { retractable.contains(correctable[$0].type) && chance(0.3) }) else { return }
        let target = correctable.remove(at: index)
        emit("event.retracted", stream: target.stream, data: JSONObject(["target": .string(target.id), "reason": .string("registreret ved en fejl")]),
             municipality: target.municipality)
    }

    mutating func eraseText(_ m: Int) {
        guard textReferences.count > 10 else { return }
        let reference = textReferences.remove(at: int(0...(textReferences.count - 1)))
        erasures.append(reference)
        emit("text.erased", stream: "text/\(reference)", data: JSONObject(["ref": .string(reference), "reason": .string("personoplysninger")]), municipality: m)
    }

    // MARK: the run

    // Each municipality starts with its units, bodies, teams, staff and targets.
    mutating func setUp(_ m: Int) {
        let keys = unitNames.shuffled(using: &rng).prefix(int(5...8))
        for (key, name) in keys { registerUnit(m, key: key, name: name) }
        for _ in 0..<int(2...4) { establishBody(m) }
        for _ in 0..<int(2...3) { establishTeam(m) }
        for _ in 0..<int(4...8) { hire(m) }
        setTarget(m)
    }

    /// Weights per mille of the ongoing events.
    static let mix: [(weight: Int, make: @Sendable (inout Generator, Int) -> Void)] = [
        (220, { $0.startHandover($1) }), (190, { $0.closeHandover($1) }), (170, { $0.countAttendance($1) }),
        (90, { $0.holdMeeting($1) }), (15, { $0.recordMinutes($1) }), (60, { $0.hire($1) }), (50, { $0.leave($1) }),
        (45, { $0.holdTraining($1) }), (10, { $0.recordNote($1) }), (20, { $0.setTarget($1) }), (15, { $0.updateUnit($1) }),
        (6, { $0.establishTeam($1) }), (3, { $0.closeTeam($1) }), (3, { $0.establishBody($1) }), (4, { $0.reachMilestone($1) }),
        (1, { $0.eraseText($1) }), (10, { g, _ in g.correct() }), (5, { g, _ in g.retract() }),
    ]
    static let totalWeight = mix.reduce(0) { $0 + $1.weight }


    mutating func run(jsonlPath: String?) {
        var started = 0
        while eventIndex < count {
            // Municipalities join one after another during the first fifth of the log.
            if started < municipalityCount, eventIndex >= started * count / (5 * municipalityCount) {
                setUp(started)
                started += 1
                continue
            }
            let m = int(0...(started - 1))
            var roll = int(0...(Generator.totalWeight - 1))
            for (weight, make) in Generator.mix {
                if roll < weight { make(&self, m); break }
                roll -= weight
            }
        }
        flush()
        if let jsonl {
            jsonl.write(Data(jsonlBuffer))
            try? jsonl.close()
        }
        if let log {
            print("\(log.path): \(eventIndex) events, head \(lastHead)")
        } else {
            print("\(jsonlPath ?? ""): \(eventIndex) events")
        }
    }
}

// MARK: main

let log: EventLog?
if writeLog {
    if FileManager.default.fileExists(atPath: "\(outputDirectory)/\(EventLog.manifestName)") {
        FileHandle.standardError.write("generate-log: \(outputDirectory) already holds a log; give a new directory\n".data(using: .utf8)!)
        exit(1)
    }
    log = try EventLog.create(at: outputDirectory)
} else {
    log = nil
}
let jsonl: FileHandle? = jsonlPath.map { path in
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    return FileHandle(forWritingAtPath: path)!
}
var generator = Generator(count: count, seed: seed, batchSize: batchSize, log: log, jsonl: jsonl)
generator.run(jsonlPath: jsonlPath)
