import EventStore
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Projections

extension Commands {
    /// `import FILE`: JSON lines of `{type, data, occurred?, id?, source?}`, or CSV with a
    /// header row and `--type`. Everything is checked first and every bad row reported
    /// by line number; then all rows are appended as one batch with one fsync.
    static func importEvents(_ invocation: Invocation) throws -> Int32 {
        let session = Session(invocation)
        guard let path = invocation.argument("file") else { try invocation.usageError("Missing expected argument '<file>'") }
        let progress = Progress(enabled: isTerminal(.stderr) && !invocation.json)
        let actor = try session.actor
        // The file's bytes live only while the rows are read from them.
        var rows: ImportRows = try {
            guard let file = ImportFile.read(path) else {
                throw CLIFailure.environment("cannot read \(path)", hint: "Check the path and its permissions.")
            }
            var bytes = file[...]
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
            if let line = ImportFile.lineOfFirstInvalidUTF8(bytes) {
                throw CLIFailure.invalidInput("\(path):\(line): not valid UTF-8; nothing was written")
            }
            if let type = invocation.value("type") {
                return ImportRows.csv(Array(bytes), type: type, actor: actor, progress: progress)
            } else if path.lowercased().hasSuffix(".csv") {
                try invocation.usageError("A CSV file needs --type: the event type of every row")
            }
            return ImportRows.jsonLines(bytes, actor: actor, progress: progress)
        }()
        var problems = rows.problems
        var report: Ledger.BatchSummary?
        // The rows that were read are checked against the log even when others could not be
        // read (then without writing), so that one run lists every bad row.
        let badLines = Set(problems.map(\.0))
        // Without bad rows every event is checked: hand the rows over without a copy.
        let checkable = problems.isEmpty ? Array(rows.events.indices) : rows.events.indices.filter { !badLines.contains(rows.lines[$0]) }
        let events = problems.isEmpty ? rows.takeEvents() : checkable.map { rows.events[$0] }
        if !checkable.isEmpty || problems.isEmpty {
            let dryRun = invocation.flag("dry-run") || !problems.isEmpty
            progress.say("checking \(Output.counted(checkable.count, "event")) against the log\(dryRun ? "" : " and writing them")…")
            do {
                let checked = try session.ledger().appendBatch(consume events, dryRun: dryRun)
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
        let dryRun = invocation.flag("dry-run")
        let writtenCount = report.events - report.existing
        if invocation.json {
            session.printJSON(.object(JSONObject([
                "dryRun": .bool(dryRun), "events": .integer(report.events), "written": .integer(dryRun ? 0 : writtenCount),
                "existing": .integer(report.existing),
                "first": report.first.map(JSONValue.integer) ?? .null, "last": report.last.map(JSONValue.integer) ?? .null, "head": .string(report.head.description),
                "tornTail": report.tornTailAhead.map { .object(JSONObject(["file": .string($0.file), "offset": .integer($0.offset), "bytes": .integer($0.length)])) } ?? .null,
            ])))
        } else if dryRun {
            var line = "\(Output.counted(report.events, "event")) \(report.events == 1 ? "is" : "are") valid; nothing was written (--dry-run)."
            if let first = report.first, let last = report.last {
                line += " \(Output.counted(last - first + 1, "new event")) would be \(seqs(first, last))"
                line += report.existing > 0 ? "; \(report.existing) already in the log." : "."
            } else {
                line += report.events == 1 ? " It is already in the log; it would not be written again." : " All are already in the log; none would be written."
            }
            Output.writeLine(line)
            if let torn = report.tornTailAhead {
                Output.writeLine("The log ends in a torn tail (\(torn.length) bytes at offset \(torn.offset) of \(torn.file)): the import would first move it to quarantine/ and record that as seq \(report.head.seq + 1).")
            }
        } else {
            let range = report.first.map { seqs($0, report.last!) } ?? "nothing new"
            Output.writeLine("Imported \(Output.counted(writtenCount, "event")) (\(range))\(report.existing > 0 ? "; \(report.existing) already in the log" : ""). Head \(report.head).")
        }
        return ExitStatus.success
    }

    /// "seq 4", "seq 4–6".
    private static func seqs(_ first: Int, _ last: Int) -> String {
        first == last ? "seq \(first)" : "seq \(first)–\(last)"
    }
}

/// The rows of an import file, or what is wrong with each bad one.
struct ImportRows {
    var events: [NewEvent] = []
    /// The line number each event starts on.
    var lines: [Int] = []
    var problems: [(Int, String)] = []
    var total = 0

    /// Reads JSON lines, on every core: the file is cut at line ends into a few parts
    /// read at once, and their rows joined in order.
    static func jsonLines(_ bytes: ArraySlice<UInt8>, actor: String, progress: Progress) -> ImportRows {
        bytes.withUnsafeBytes { raw in
            // Parts of at least 1 MiB, cut after a newline.
            let cores = Parallel.cores
            let parts = raw.count < 1 << 20 ? 1 : min(4 * cores, max(1, raw.count >> 20))
            var cuts = [0]
            for part in 1..<max(parts, 1) {
                var cut = max(cuts.last!, raw.count * part / parts)
                while cut < raw.count && raw[cut] != 0x0A { cut += 1 }
                if cut < raw.count { cuts.append(cut + 1) }
            }
            cuts.append(raw.count)
            cuts = cuts.reduce(into: []) { if $0.last != $1 { $0.append($1) } }
            if cuts.count == 1 { cuts.append(raw.count) }
            let ranges = (0..<(cuts.count - 1)).map { cuts[$0]..<cuts[$0 + 1] }
            // Lines before each part, and in the whole file, as `split` counts them.
            var firstLines = [Int](), lines = 0
            for range in ranges {
                firstLines.append(lines + 1)
                lines += ImportFile.newlines(in: UnsafeRawBufferPointer(rebasing: raw[range]))
            }
            let results = Parts(count: ranges.count)
            let input = Parts.Input(raw: raw, ranges: ranges, firstLines: firstLines, totalPieces: lines + 1, progress: progress)
            // The bar is drawn by the thread that called, which takes parts too.
            let caller = Caller()
            DispatchQueue.concurrentPerform(iterations: ranges.count) { index in
                let part = jsonLines(UnsafeRawBufferPointer(rebasing: input.raw[input.ranges[index]]), firstLine: input.firstLines[index],
                                     totalPieces: input.totalPieces, actor: actor)
                let finished = results.set(index, part, bytes: input.ranges[index].count)
                if caller.isCurrent { input.progress.update(finished, of: input.raw.count) }
            }
            var rows = ImportRows()
            rows.events.reserveCapacity(results.parts.reduce(0) { $0 + ($1?.events.count ?? 0) })
            rows.lines.reserveCapacity(rows.events.capacity)
            for index in results.parts.indices {
                var part = results.take(index)
                rows.events.append(contentsOf: part.events)
                part.events = []
                rows.lines.append(contentsOf: part.lines)
                rows.problems.append(contentsOf: part.problems)
                rows.total += part.total
            }
            rows.checkDuplicateIDs()
            return rows
        }
    }

    /// The rows of one part of a JSON lines file, whose first line is `firstLine`.
    private static func jsonLines(_ bytes: UnsafeRawBufferPointer, firstLine: Int, totalPieces: Int, actor: String) -> ImportRows {
        var rows = ImportRows()
        var lineNumber = firstLine - 1
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            // Past the last newline of a part that is not the file's end, nothing is left.
            if end == bytes.count && start == end && lineNumber + 1 != totalPieces { break }
            lineNumber += 1
            var line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            start = end + 1
            if line.last == 0x0D { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
            if line.isEmpty {
                if lineNumber == totalPieces { break }
                rows.problems.append((lineNumber, "an empty line; every line must hold one event"))
                rows.total += 1
                continue
            }
            rows.total += 1
            if let problem = rows.read(line, actor: actor, lineNumber: lineNumber) { rows.problems.append((lineNumber, problem)) }
        }
        return rows
    }

    private static let allowed: Set<String> = ["type", "data", "occurred", "id", "source"]

    /// Reads one line into an event; what is wrong with it, if anything.
    private mutating func read(_ line: UnsafeRawBufferPointer, actor: String, lineNumber: Int) -> String? {
        let object: JSONObject
        do {
            guard case .object(let parsed) = try JSONParser.parse(line, integersOnly: true) else { return "not a JSON object" }
            object = parsed
        } catch {
            return "not valid JSON: \(error)"
        }
        if let unknown = object.keys.first(where: { !ImportRows.allowed.contains($0) }) {
            return "\(unknown): unknown member (a line holds type, data, occurred, id, source)"
        }
        guard case .string(let type)? = object["type"] else { return "type: missing, or not a string" }
        guard case .object(let data)? = object["data"] else { return "data: missing, or not an object" }
        var strings: [String?] = [nil, nil, nil]
        for (index, key) in ["occurred", "id", "source"].enumerated() {
            switch object[key] {
            case nil: continue
            case .string(let s)?: strings[index] = s
            default: return "\(key): must be a string"
            }
        }
        events.append(NewEvent(type: type, data: data, occurred: strings[0], source: strings[2], actor: actor, id: strings[1]))
        lines.append(lineNumber)
        return nil
    }

    /// The events, leaving none behind (so the caller holds the only copy).
    mutating func takeEvents() -> [NewEvent] {
        var taken: [NewEvent] = []
        swap(&taken, &events)
        return taken
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
        var firstLine = IDIndex()
        firstLine.reserveCapacity(events.count)
        for index in events.indices {
            guard let id = events[index].id else { continue }
            if let earlier = firstLine[id] {
                problems.append((lines[index], "id: \(id) is also the id of line \(earlier); an id names one fact"))
            } else {
                firstLine[id] = lines[index]
            }
        }
    }

}

/// The results of the parts of a file read at once, each set by one thread.
private final class Parts: @unchecked Sendable {
    private let lock = Lock()
    private(set) var parts: [ImportRows?]

    init(count: Int) { parts = Array(repeating: nil, count: count) }

    private var bytesRead = 0

    /// Keeps a part's rows; returns the bytes read so far, for the progress bar.
    func set(_ index: Int, _ rows: ImportRows, bytes: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        parts[index] = rows
        bytesRead += bytes
        return bytesRead
    }

    func take(_ index: Int) -> ImportRows {
        lock.lock()
        defer { lock.unlock() }
        let rows = parts[index]!
        parts[index] = nil
        return rows
    }

    /// What every thread reads: the file's bytes (alive for the whole read), the parts,
    /// and the progress bar (updated from the main thread only).
    struct Input: @unchecked Sendable {
        let raw: UnsafeRawBufferPointer
        let ranges: [Range<Int>]
        let firstLines: [Int]
        let totalPieces: Int
        let progress: Progress
    }
}

/// The thread that made it, to tell it from the others of a `concurrentPerform`.
private struct Caller: @unchecked Sendable {
    private let thread = pthread_self()
    var isCurrent: Bool { pthread_equal(thread, pthread_self()) != 0 }
}

/// Reading an import file.
enum ImportFile {
    /// The whole file (`-`: standard input) in one buffer; nil when it cannot be read.
    static func read(_ path: String) -> [UInt8]? {
        let fd = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { if fd != STDIN_FILENO { close(fd) } }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR else { return nil }
        return try? WholeFile.read(fd, path: path)
    }

    /// Newlines in `bytes`.
    static func newlines(in bytes: UnsafeRawBufferPointer) -> Int {
        var count = 0
        for byte in bytes where byte == 0x0A { count += 1 }
        return count
    }

    /// The line holding the first byte that is not well-formed UTF-8 (RFC 3629); nil
    /// when all of it is.
    static func lineOfFirstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int? {
        bytes.withUnsafeBytes { raw in
            UTF8Sequence.offsetOfFirstInvalid(raw).map { 1 + newlines(in: UnsafeRawBufferPointer(rebasing: raw[0..<$0])) }
        }
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
