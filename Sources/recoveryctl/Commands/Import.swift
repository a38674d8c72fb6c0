import EventStore
import Foundation
import Projections

extension Commands {
    /// `import FILE`: JSON lines of `{type, data, occurred?, id?, source?}`, or CSV with a
    /// header row and `--type`. Everything is checked first and every bad row reported
    /// by line number; then all rows are appended as one batch with one fsync.
    static func importEvents(_ invocation: Invocation) throws -> Int32 {
        let session = Session(invocation)
        guard let path = invocation.argument("file") else { try invocation.usageError("Missing expected argument '<file>'") }
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let read = FileManager.default.contents(atPath: path) else {
                throw CLIFailure.environment("cannot read \(path)", hint: "Check the path and its permissions.")
            }
            data = read
        }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            let line = ImportRows.lineOfFirstInvalidUTF8(bytes)
            throw CLIFailure.invalidInput("\(path):\(line): not valid UTF-8; nothing was written")
        }
        let progress = Progress(enabled: isTerminal(.stderr) && !invocation.json)
        let actor = try session.actor
        let rows: ImportRows
        if let type = invocation.value("type") {
            rows = ImportRows.csv(bytes, type: type, actor: actor, progress: progress)
        } else if path.lowercased().hasSuffix(".csv") {
            try invocation.usageError("A CSV file needs --type: the event type of every row")
        } else {
            rows = ImportRows.jsonLines(bytes, actor: actor, progress: progress)
        }
        var problems = rows.problems
        var report: Ledger.AppendReport?
        // The rows that were read are checked against the log even when others could not be
        // read (then without writing), so that one run lists every bad row.
        let badLines = Set(problems.map(\.0))
        let checkable = rows.events.indices.filter { !badLines.contains(rows.lines[$0]) }
        if !checkable.isEmpty || problems.isEmpty {
            let dryRun = invocation.flag("dry-run") || !problems.isEmpty
            progress.say("checking \(checkable.count) events against the log\(dryRun ? "" : " and writing them")…")
            do {
                let checked = try session.ledger().append(checkable.map { rows.events[$0] }, dryRun: dryRun)
                if problems.isEmpty { report = checked }
            } catch let refused as Ledger.BatchRefused {
                problems += refused.refusals.map { (rows.lines[checkable[$0.index]], $0.error.description) }
            }
        }
        progress.finish()
        if !problems.isEmpty {
            let listed = problems.sorted { $0.0 < $1.0 }.map { "  \(path):\($0.0): \($0.1)" }.joined(separator: "\n")
            let refusedRows = Set(problems.map(\.0)).count
            throw CLIFailure.invalidInput("\(refusedRows) of \(rows.total) rows refused; nothing was written:\n\(listed)")
        }
        guard let report else { return ExitStatus.success }
        Session.noteQuarantine(report.quarantined)
        let written = report.events.filter { !$0.existing }
        let first = written.first?.event.seq, last = written.last?.event.seq
        if invocation.json {
            session.printJSON(.object(JSONObject([
                "dryRun": .bool(invocation.flag("dry-run")), "events": .integer(report.events.count), "written": .integer(invocation.flag("dry-run") ? 0 : written.count),
                "existing": .integer(report.events.count - written.count),
                "first": first.map(JSONValue.integer) ?? .null, "last": last.map(JSONValue.integer) ?? .null, "head": .string(report.head.description),
            ])))
        } else if invocation.flag("dry-run") {
            Output.writeLine("\(report.events.count) events are valid; nothing was written (--dry-run). They would be seq \(first ?? 0)–\(last ?? 0).")
        } else {
            let existing = report.events.count - written.count
            let range = first.map { "seq \($0)–\(last!)" } ?? "nothing new"
            Output.writeLine("Imported \(written.count) events (\(range))\(existing > 0 ? "; \(existing) already in the log" : ""). Head \(report.head).")
        }
        return ExitStatus.success
    }
}

/// The rows of an import file, or what is wrong with each bad one.
struct ImportRows {
    var events: [NewEvent] = []
    /// The line number each event starts on.
    var lines: [Int] = []
    var problems: [(Int, String)] = []
    var total = 0

    static func jsonLines(_ bytes: [UInt8], actor: String, progress: Progress) -> ImportRows {
        var rows = ImportRows()
        let allowed: Set<String> = ["type", "data", "occurred", "id", "source"]
        var lineNumber = 0
        let split = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        for var line in split {
            lineNumber += 1
            progress.update(lineNumber, of: split.count)
            if line.last == 0x0D { line = line.dropLast() }
            if line.isEmpty {
                if lineNumber == split.count { break }
                rows.problems.append((lineNumber, "an empty line; every line must hold one event"))
                rows.total += 1
                continue
            }
            rows.total += 1
            do {
                guard case .object(let object) = try JSONParser.parse(Array(line), integersOnly: true) else {
                    rows.problems.append((lineNumber, "not a JSON object"))
                    continue
                }
                if let unknown = object.keys.first(where: { !allowed.contains($0) }) {
                    rows.problems.append((lineNumber, "\(unknown): unknown member (a line holds type, data, occurred, id, source)"))
                    continue
                }
                guard case .string(let type)? = object["type"] else { rows.problems.append((lineNumber, "type: missing, or not a string")); continue }
                guard case .object(let data)? = object["data"] else { rows.problems.append((lineNumber, "data: missing, or not an object")); continue }
                var strings: [String: String] = [:]
                var bad = false
                for key in ["occurred", "id", "source"] {
                    switch object[key] {
                    case nil: continue
                    case .string(let s)?: strings[key] = s
                    default: rows.problems.append((lineNumber, "\(key): must be a string")); bad = true
                    }
                }
                if bad { continue }
                rows.events.append(NewEvent(type: type, data: data, occurred: strings["occurred"], source: strings["source"], actor: actor, id: strings["id"]))
                rows.lines.append(lineNumber)
            } catch {
                rows.problems.append((lineNumber, "not valid JSON: \(error)"))
            }
        }
        rows.checkDuplicateIDs()
        return rows
    }

    static func csv(_ bytes: [UInt8], type: String, actor: String, progress: Progress) -> ImportRows {
        var rows = ImportRows()
        let records: [(line: Int, fields: [String])]
        do { records = try CSV.records(bytes) } catch {
            rows.problems.append((error.line, error.reason))
            return rows
        }
        guard let header = records.first else {
            rows.problems.append((1, "the file is empty; a CSV import needs a header row"))
            return rows
        }
        let envelope: Set<String> = ["occurred", "source", "id"]
        let known = Set(Catalog.type(named: type)?.members.map(\.name) ?? [])
        for (column, name) in header.fields.enumerated() where !envelope.contains(name) && !known.contains(name) {
            rows.problems.append((header.line, "column \(column + 1) \"\(name)\": \(type) has no member \(name)" + (known.isEmpty ? " (unknown type)" : " (it takes: \(known.sorted().joined(separator: ", ")))")))
        }
        if Set(header.fields).count != header.fields.count { rows.problems.append((header.line, "the header names a column twice")) }
        if !rows.problems.isEmpty { return rows }
        for (index, record) in records.dropFirst().enumerated() {
            progress.update(index + 1, of: records.count - 1)
            rows.total += 1
            guard record.fields.count == header.fields.count else {
                rows.problems.append((record.line, "\(record.fields.count) fields where the header has \(header.fields.count)"))
                continue
            }
            var data = JSONObject()
            var envelopeValues: [String: String] = [:]
            var bad = false
            for (name, field) in zip(header.fields, record.fields) where !field.isEmpty {
                if envelope.contains(name) { envelopeValues[name] = field; continue }
                do { data[name] = try Catalog.value(ofArgument: field, member: name, of: type) } catch {
                    rows.problems.append((record.line, error.description))
                    bad = true
                }
            }
            if bad { continue }
            rows.events.append(NewEvent(type: type, data: data, occurred: envelopeValues["occurred"], source: envelopeValues["source"],
                                        actor: actor, id: envelopeValues["id"]))
            rows.lines.append(record.line)
        }
        rows.checkDuplicateIDs()
        return rows
    }

    /// Two rows with one id are refused outright: an id names one fact.
    private mutating func checkDuplicateIDs() {
        var firstLine: [String: Int] = [:]
        for (event, line) in zip(events, lines) {
            guard let id = event.id else { continue }
            if let earlier = firstLine[id] {
                problems.append((line, "id: \(id) is also the id of line \(earlier); an id names one fact"))
            } else {
                firstLine[id] = line
            }
        }
    }

    static func lineOfFirstInvalidUTF8(_ bytes: [UInt8]) -> Int {
        var line = 1
        var start = 0
        for (i, b) in bytes.enumerated() where b == 0x0A {
            if String(validating: bytes[start..<i], as: UTF8.self) == nil { return line }
            line += 1
            start = i + 1
        }
        return line
    }
}

/// RFC 4180 CSV: quoted fields with `""` for a quote, newlines inside quotes, CRLF or LF.
enum CSV {
    struct Failure: Error {
        var line: Int
        var reason: String
    }

    static func records(_ bytes: [UInt8]) throws(Failure) -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1, recordLine = 1
        var i = 0
        var quoted = false, wasQuoted = false
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field = []
            wasQuoted = false
        }
        while i < bytes.count {
            let b = bytes[i]
            if quoted {
                if b == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") { field.append(b); i += 2; continue }
                    quoted = false
                    i += 1
                    guard i >= bytes.count || [UInt8(ascii: ","), 0x0A, 0x0D].contains(bytes[i]) else {
                        throw Failure(line: line, reason: "a quoted field must end at a comma or the end of the line")
                    }
                    continue
                }
                if b == 0x0A { line += 1 }
                field.append(b)
                i += 1
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                guard field.isEmpty && !wasQuoted else { throw Failure(line: line, reason: "a quote inside an unquoted field; quote the whole field and double the quote") }
                quoted = true
                wasQuoted = true
            case UInt8(ascii: ","):
                endField()
            case 0x0D where i + 1 < bytes.count && bytes[i + 1] == 0x0A:
                break
            case 0x0A:
                endField()
                if !(fields.count == 1 && fields[0].isEmpty) { records.append((recordLine, fields)) }
                fields = []
                line += 1
                recordLine = line
            default:
                field.append(b)
            }
            i += 1
        }
        if quoted { throw Failure(line: recordLine, reason: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty {
            endField()
            records.append((recordLine, fields))
        }
        return records
    }
}

/// A progress bar on stderr, only when stderr is a terminal and there is much to do.
final class Progress {
    private let enabled: Bool
    private var shown = -1

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ done: Int, of total: Int) {
        guard enabled, total >= 2000 else { return }
        let percent = done * 100 / max(total, 1)
        guard percent != shown else { return }
        shown = percent
        let width = 30
        let filled = percent * width / 100
        Output.write("\r\u{1B}[Kreading [\(String(repeating: "#", count: filled))\(String(repeating: " ", count: width - filled))] \(percent)%", to: .stderr)
    }

    func say(_ text: String) {
        guard enabled, shown >= 0 else { return }
        Output.write("\r\u{1B}[K\(text)", to: .stderr)
    }

    func finish() {
        guard enabled, shown >= 0 else { return }
        Output.write("\r\u{1B}[K", to: .stderr)
    }
}
