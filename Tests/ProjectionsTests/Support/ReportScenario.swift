import EventStore
import Foundation
@testable import Projections
import XCTest

/// A small project written with fixed ids and `recorded` times, so its reports are the
/// same bytes every run: every section of the report has something to show, names
/// hold characters HTML and Markdown must escape, one count is corrected and one
/// meeting retracted.
///
/// Read at `validAt` (2022-12-31): 2022 is the running year, 2022-Q4 and 2022-H2 the
/// running quarter and half.
enum ReportScenario {
    static let validAt = "2022-12-31"
    /// Recorded before the correction of fitness 2021-H2 (50 → 55) and the retraction.
    static let beforeCorrection = "2022-03-01"
    /// 2022-12-31T12:00:00Z, the generation time of every golden report.
    static let generated: Int64 = 1_672_488_000_000
    static let tool = "recoveryctl 0.1.0"

    /// Writes the scenario into a new log at `path`.
    static func write(at path: String) throws {
        var log = try Writer(at: path)

        // Units, one with a headcount changed later.
        try log.add("unit.registered", #"{"unit":"cpi","name":"Center for Psykiatri","headcount":40}"#, on: "2020-01-01")
        try log.add("unit.registered", #"{"unit":"psykiatriens-hus","name":"Psykiatriens Hus","parent":"cpi"}"#, on: "2020-01-01")
        try log.add("unit.registered", #"{"unit":"recoveryskolen","name":"Recoveryskolen","parent":"psykiatriens-hus"}"#, on: "2020-01-01")
        try log.add("unit.registered", #"{"unit":"ungecenteret","name":"UngeCenteret <unge> & familier","headcount":8}"#, on: "2020-01-01")
        try log.add("unit.registered", #"{"unit":"jobcenter-uur","name":"Jobcenter | UUR","headcount":32}"#, on: "2020-01-01")
        try log.add("unit.registered", #"{"unit":"sundhedscenteret","name":"Randers Sundhedscenter","headcount":45}"#, on: "2020-01-01")

        // Teams, staff and bodies of every cadence.
        try log.add("body.established", #"{"body":"styregruppe","name":"Styregruppe","kind":"steering-group","cadence":"4-per-year"}"#, on: "2020-01-01")
        try log.add("team.established", #"""
            {"team":"peer-team-bosteder","name":"Peer-team \"bosteder\"","kind":"peer-team","units":["cpi"],"plan":{"peers":3,"professionals":0}}
            """#, on: "2020-01-15")
        try log.add("team.established", #"""
            {"team":"peer-team-unge","name":"Peer-team på tværs af Center for Psykiatri og UngeCenteret","kind":"peer-team",
             "units":["cpi","ungecenteret"],"plan":{"peers":2,"professionals":0}}
            """#, on: "2020-01-15")
        try log.add("team.established", #"""
            {"team":"delestilling","name":"Delestilling på sundhedsområdet","kind":"shared-post","units":["cpi","sundhedscenteret"],
             "plan":{"peers":1,"professionals":1}}
            """#, on: "2020-01-15")
        try log.add("team.established", #"{"team":"projektledelse","name":"Projektledelse","kind":"project-management","units":["cpi"]}"#, on: "2020-01-15")
        try log.add("team.established", #"{"team":"gammel-gruppe","name":"Arbejdsgruppe, lukket","kind":"working-group","units":["cpi"]}"#, on: "2020-01-15")
        try log.add("staff.hired", #"{"person":"project-leader-1","role":"project-leader","team":"projektledelse","hoursPerWeek":37}"#, on: "2020-02-01")
        try log.add("staff.hired", #"{"person":"peer-01","role":"peer","team":"peer-team-bosteder"}"#, on: "2020-03-01")
        try log.add("staff.hired", #"{"person":"peer-02","role":"peer","team":"peer-team-bosteder"}"#, on: "2020-04-01")
        try log.add("staff.hired", #"{"person":"peer-03","role":"peer","team":"peer-team-unge"}"#, on: "2020-05-01")
        try log.add("staff.hired", #"{"person":"prof-01","role":"professional","team":"delestilling"}"#, on: "2020-05-01")
        try log.add("unit.updated", #"{"unit":"cpi","headcount":42}"#, on: "2020-06-01")
        try log.add("evaluation.milestone", #"{"milestone":"baseline","title":"Baseline (nulpunktsmåling)","by":"PwC"}"#, on: "2020-09-15")
        try log.add("body.established", #"{"body":"implementeringsteam","name":"Implementeringsteam","kind":"implementation-team","cadence":"quarterly"}"#,
                    on: "2021-01-01")
        try log.add("body.established", #"{"body":"ledermoede","name":"Tværgående ledermøde","kind":"leaders-meeting","cadence":"half-yearly"}"#,
                    on: "2021-01-01")
        try log.add("body.established", #"{"body":"socialudvalget","name":"Socialudvalget","kind":"political-committee","cadence":"yearly"}"#,
                    on: "2021-01-01")
        try log.add("body.established", #"""
            {"body":"lokale-teams","name":"Lokale implementeringsteams","kind":"local-implementation-team","cadence":"as-needed"}
            """#, on: "2021-01-01")
        try log.add("staff.hired", #"{"person":"peer-04","role":"peer","team":"delestilling"}"#, on: "2021-02-01")
        try log.add("handover.started", #"{"case":"case-2021-001","from":"ungecenteret","to":"cpi","peer":"peer-03","ageBand":"18-23"}"#, on: "2021-02-10")
        try log.add("evaluation.milestone", #"""
            {"milestone":"interim-1","title":"Midtvejs \"1\" <foreløbig>","by":"PwC",
             "findings":["Fokus på borgernes ressourcer","Inddrag netværk & lokalsamfund"]}
            """#, on: "2021-03-01")
        try log.add("training.held", #"""
            {"training":"temadag-sundhed","title":"Temadag om recovery","kind":"theme-day","participants":{"sundhedscenteret":30},"hours":6}
            """#, on: "2021-03-10")
        try log.add("handover.completed", #"{"case":"case-2021-001","outcome":"accepted"}"#, on: "2021-03-20")

        // Meetings, with what happened between them: kept, missed, running and counted only.
        let meetings: [(String, String, String)] = [
            ("sg-2021-1", "styregruppe", "2021-02-01"), ("it-2021-1", "implementeringsteam", "2021-02-15"),
            ("lm-2021-1", "ledermoede", "2021-03-01"), ("sg-2021-2", "styregruppe", "2021-05-01"),
            ("it-2021-2", "implementeringsteam", "2021-05-15"), ("lt-2021-1", "lokale-teams", "2021-06-01"),
            ("su-2021-1", "socialudvalget", "2021-06-10"), ("sg-2021-3", "styregruppe", "2021-08-01"),
            ("lt-2021-2", "lokale-teams", "2021-09-01"), ("sg-2021-4", "styregruppe", "2021-11-01"),
            ("it-2021-4", "implementeringsteam", "2021-11-15"), ("sg-2022-1", "styregruppe", "2022-02-01"),
            ("it-2022-1", "implementeringsteam", "2022-02-15"), ("lm-2022-1", "ledermoede", "2022-03-01"),
            ("sg-2022-2", "styregruppe", "2022-05-01"), ("it-2022-2", "implementeringsteam", "2022-05-15"),
            ("su-2022-1", "socialudvalget", "2022-06-10"), ("sg-2022-3", "styregruppe", "2022-08-01"),
            ("it-2022-3", "implementeringsteam", "2022-08-15"),
        ]
        var fitness2021H2 = ""
        for (meeting, body, date) in meetings {
            switch date {
            case "2021-05-01":
                try log.add("handover.started", #"{"case":"case-2021-002","from":"ungecenteret","to":"cpi"}"#, on: "2021-04-05")
                try log.add("handover.started", #"{"case":"case-2021-003","from":"ungecenteret","to":"cpi"}"#, on: "2021-05-01")
            case "2021-06-10":
                try log.add("handover.cancelled", #"{"case":"case-2021-003","reason":"Flyttet"}"#, on: "2021-06-01")
                try log.add("team.closed", #"{"team":"gammel-gruppe","reason":"Opgaven er løst"}"#, on: "2021-06-05")
            case "2021-08-01":
                try log.add("handover.completed", #"{"case":"case-2021-002","outcome":"accepted"}"#, on: "2021-07-01")
                try log.add("attendance.counted", #"{"offer":"nada","venue":"psykiatriens-hus","period":"2021-H1","contacts":300}"#, on: "2021-07-01")
                try log.add("attendance.counted", #"{"offer":"fitness","venue":"psykiatriens-hus","period":"2021-H1","contacts":45}"#, on: "2021-07-01")
            case "2021-11-01":
                try log.add("training.held", #"""
                    {"training":"faelles-forloeb","title":"Fælles kompetenceudvikling, CPI og UngeCenteret",
                     "kind":"joint-competence-development","participants":{"cpi":20,"ungecenteret":8}}
                    """#, on: "2021-09-15")
            case "2022-02-01":
                try log.add("attendance.counted", #"{"offer":"nada","venue":"psykiatriens-hus","period":"2021-H2","contacts":1234}"#, on: "2022-01-01")
                fitness2021H2 = try log.add(
                    "attendance.counted", #"{"offer":"fitness","venue":"psykiatriens-hus","period":"2021-H2","contacts":50}"#, on: "2022-01-01").id
                try log.add("handover.started", #"{"case":"case-2022-001","from":"ungecenteret","to":"cpi","peer":"peer-03"}"#, on: "2022-01-10")
            case "2022-03-01":
                try log.add("training.held", #"""
                    {"training":"kursus-cpi","title":"Kursus i recovery-orienteret praksis","kind":"course","participants":{"cpi":22}}
                    """#, on: "2022-02-01")
                try log.add("handover.started", #"{"case":"case-2022-002","from":"jobcenter-uur","to":"cpi"}"#, on: "2022-03-01")
                try log.add("handover.completed", #"{"case":"case-2022-002","outcome":"redirected"}"#, on: "2022-03-31")
            default:
                break
            }
            try log.add("meeting.held", #"{"meeting":"\#(meeting)","body":"\#(body)","attendees":8}"#, on: date)
        }
        try log.add("target.set", #"{"kpi":"training.participants","scope":"sundhedscenteret","value":40}"#, on: "2022-06-01")
        try log.add("staff.left", #"{"person":"peer-04","reason":"Ny stilling"}"#, on: "2022-06-30")
        try log.add("attendance.counted", #"{"offer":"recoveryskolen-kursister","venue":"recoveryskolen","period":"2022","contacts":80}"#, on: "2022-07-01")

        // A meeting recorded twice and retracted; a count corrected.
        let duplicate = try log.add("meeting.held", #"{"meeting":"sg-2022-3-dublet","body":"styregruppe"}"#, on: "2022-08-01")
        try log.add("event.retracted", #"{"target":"\#(duplicate.id)","reason":"Samme møde som sg-2022-3"}"#, on: "2022-08-02")
        try log.add("event.corrected", #"{"target":"\#(fitness2021H2)","reason":"Tastefejl; kvartalsrapporten siger 55","changes":{"contacts":55}}"#,
                    on: "2022-09-01")
        try log.add("evaluation.milestone", #"""
            {"milestone":"final","title":"Slutevaluering","by":"PwC",
             "findings":["Peers | fagprofessionelle arbejder sammen","*Alle* enheder har haft kompetenceudvikling"]}
            """#, on: "2022-09-30")
    }

    /// Writes a log line by line as the store would, with ids `00000000-0000-4000-8000-…N`
    /// and `recorded` at 10:00 UTC on the day after `occurred` (a minute after the event
    /// before, when that is later). Each event is first checked by a dry-run append
    /// against the log so far, which also derives its stream.
    struct Writer {
        let log: EventLog
        private var head = LogHead.empty
        private var lastRecorded: Int64 = 0

        init(at path: String) throws {
            log = try EventLog.create(at: path)
        }

        @discardableResult
        mutating func add(_ type: String, _ data: String, on occurred: String) throws -> Event {
            guard case .object(let object) = try JSONParser.parse(data, integersOnly: true) else {
                throw Failure(description: "the data of \(type) is not an object: \(data)")
            }
            let seq = head.seq + 1
            let hex = String(seq, radix: 16)
            let id = "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - hex.count) + hex
            let new = NewEvent(type: type, data: object, occurred: occurred, source: "scenario", actor: "projektleder", id: id)
            guard let checked = try Ledger(log: log).append([new], dryRun: true).events.first?.event else {
                throw Failure(description: "the dry run of seq \(seq) returned no event")
            }
            let day = Int64(Timestamp.calendarDate(ofOccurred: occurred)!.daysSinceEpoch + 1)
            lastRecorded = max(day * 86_400_000 + 10 * 3_600_000, lastRecorded + 60_000)
            var event = Event(seq: seq, id: id, type: type, v: 1, stream: checked.stream, occurred: occurred,
                              recorded: Timestamp.recordedString(millis: lastRecorded), actor: new.actor, source: new.source,
                              data: object, prev: head.hash, hash: "")
            event.hash = event.computedHash()
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(log.path)/\(EventLog.segmentName(1))"))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(event.lineBytes()))
            head = LogHead(seq: seq, hash: event.hash, recorded: event.recorded)
            return event
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    // MARK: golden files

    /// Compares `actual` with the golden file `name` in `directory`, or writes it when
    /// `RECORD_GOLDEN=1` (then review the diff). A difference fails with the first
    /// differing line.
    static func checkGolden(_ actual: String, name: String, in directory: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["RECORD_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: url)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            XCTFail("golden file \(url.path) is missing; RECORD_GOLDEN=1 writes it", file: file, line: line)
            return
        }
        guard expected != actual else { return }
        let a = expected.components(separatedBy: "\n"), b = actual.components(separatedBy: "\n")
        let first = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        XCTFail("""
            \(name) differs from the golden file at line \(first + 1) (RECORD_GOLDEN=1 rewrites it; review the diff):
            - \(first < a.count ? a[first] : "(end of file)")
            + \(first < b.count ? b[first] : "(end of file)")
            """, file: file, line: line)
    }
}
