import EventStore
import Foundation

/// The validation state at a position of the log, kept in `checkpoint.json` beside it so
/// an append reads only what was appended since, not the whole log (README,
/// "Checkpoints").
///
/// Derived data: deleting it loses nothing. It is used only to validate appends, never
/// to answer a read. It is trusted only while the line just before its position still
/// carries the seq and hash it names; otherwise it is ignored and rebuilt. `verify`
/// compares it with a full replay and deletes it when it differs.
public struct Checkpoint: Codable, Sendable, Equatable {
    public static let fileName = "checkpoint.json"
    static let formatName = "recovery-checkpoint/1"
    /// Rewrite the checkpoint once an append had to read this many events past it.
    static let rewriteDistance = 256

    var format = Checkpoint.formatName
    public var position: LogPosition
    var state: ProjectState
    var streams: [String]
    var texts: [String]
    var erasedTexts: [String]

    init(position: LogPosition, state: ProjectState, streams: [String], texts: [String], erasedTexts: [String]) {
        self.position = position
        self.state = state
        self.streams = streams
        self.texts = texts
        self.erasedTexts = erasedTexts
    }

    static func path(in log: EventLog) -> String { "\(log.path)/\(fileName)" }

    /// The checkpoint beside `log`, if there is one that still matches the chain.
    static func load(_ log: EventLog) -> Checkpoint? {
        guard let data = FileManager.default.contents(atPath: path(in: log)),
              let checkpoint = try? JSONDecoder().decode(Checkpoint.self, from: data),
              checkpoint.format == formatName,
              (try? log.lineMatches(before: checkpoint.position)) == true else { return nil }
        return checkpoint
    }

    /// Writes it atomically (temporary file, fsync, rename). A failure to write is not
    /// an error of the append that triggered it: the next one rebuilds.
    func save(_ log: EventLog) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return }
        try? log.writeDerivedFile(Checkpoint.fileName, bytes: [UInt8](data))
    }
}

extension Ledger {
    /// What `verify` found of the checkpoint.
    public enum CheckpointStatus: Sendable, Equatable {
        case absent
        /// It equals the state a full replay gives at its position.
        case matches
        /// It differed from a full replay (stale or edited) and was deleted.
        case deleted
    }

    /// Compares the checkpoint with a full replay at its position; deletes it when it
    /// differs, so no append validates against it.
    public func checkCheckpoint() throws -> CheckpointStatus {
        let path = Checkpoint.path(in: log)
        guard FileManager.default.fileExists(atPath: path) else { return .absent }
        if let stored = Checkpoint.load(log) {
            var replayed = ValidationContext()
            try replayed.catchUp(log, upTo: stored.position.seq)
            if replayed.checkpoint == stored { return .matches }
        }
        try log.removeDerivedFile(Checkpoint.fileName)
        return .deleted
    }
}

/// The KPI rows of the whole log at its head, kept in `kpi-checkpoint.json` beside it
/// so that `kpi` asked again at the head answers without reading the log (README,
/// "Checkpoints").
///
/// Derived data, like `checkpoint.json`: deleting it loses nothing. A read writes it
/// after folding the whole log when every fact counted (none occurred after the valid
/// time) and nothing was torn. It answers a later read only when
/// - that read is at the head (no `--as-of`) and the log still ends exactly where the
///   checkpoint was taken, with the line before carrying the seq and hash it names
///   (the hash recomputed): so no event was added, changed or removed at the end;
/// - the valid time is not earlier than the checkpoint's and falls on the same day in
///   the log's time zone: the same facts count, and the KPI rows depend on the valid
///   time only through its date (the periods still running).
struct KPICheckpoint {
    static let fileName = "kpi-checkpoint.json"
    static let formatName = "recovery-kpi-checkpoint/1"

    var position: LogPosition
    var recorded: String?
    /// The valid time the rows were computed at (milliseconds), and its date in the log's zone.
    var validAt: Int64
    var day: String
    var rows: [KPIRow]

    init(position: LogPosition, recorded: String?, validAt: Int64, zone: TimeZone, rows: [KPIRow]) {
        self.position = position
        self.recorded = recorded
        self.validAt = validAt
        day = Timestamp.calendarDate(ofMillis: validAt, in: zone).description
        self.rows = rows
    }

    /// Writes it atomically; a failure (a read-only log, a full disk) is not an error of the read.
    func save(_ log: EventLog) {
        let json = JSONValue.object(JSONObject([
            "format": .string(KPICheckpoint.formatName),
            "segment": .integer(position.segment), "offset": .integer(position.offset), "linesBefore": .integer(position.linesBefore),
            "seq": .integer(position.seq), "hash": .string(position.hash), "recorded": recorded.map(JSONValue.string) ?? .null,
            "validAt": .integer(Int(validAt)), "day": .string(day), "rows": .array(rows.map(\.json)),
        ]))
        try? log.writeDerivedFile(KPICheckpoint.fileName, bytes: CanonicalJSON.encode(json) + [0x0A])
    }

    /// The checkpoint beside `log`, if it answers a read at the head at `validAt`.
    static func load(_ log: EventLog, validAt: Int64) -> KPICheckpoint? {
        guard let data = FileManager.default.contents(atPath: "\(log.path)/\(fileName)"),
              case .object(let o)? = try? JSONParser.parse([UInt8](data.dropLast()), integersOnly: true),
              o["format"]?.stringValue == formatName,
              let segment = o["segment"]?.integerValue, let offset = o["offset"]?.integerValue,
              let linesBefore = o["linesBefore"]?.integerValue, let seq = o["seq"]?.integerValue,
              let hash = o["hash"]?.stringValue, let at = o["validAt"]?.integerValue, let day = o["day"]?.stringValue,
              let rowValues = o["rows"]?.arrayValue else { return nil }
        let zone = log.timeZone
        guard validAt >= Int64(at), Timestamp.calendarDate(ofMillis: validAt, in: zone).description == day else { return nil }
        let position = LogPosition(segment: segment, offset: offset, linesBefore: linesBefore, seq: seq, hash: hash)
        guard (try? log.endsAt(position)) == true else { return nil }
        var rows: [KPIRow] = []
        rows.reserveCapacity(rowValues.count)
        for value in rowValues {
            guard let row = value.objectValue, let kpi = row["kpi"]?.stringValue, let scope = row["scope"]?.stringValue else { return nil }
            rows.append(KPIRow(kpi: kpi, scope: scope, period: row["period"]?.stringValue, actual: row["actual"]?.integerValue,
                               target: row["target"]?.integerValue, met: row["met"]?.boolValue))
        }
        var checkpoint = KPICheckpoint(position: position, recorded: o["recorded"]?.stringValue, validAt: Int64(at), zone: zone, rows: rows)
        checkpoint.day = day
        return checkpoint
    }
}
