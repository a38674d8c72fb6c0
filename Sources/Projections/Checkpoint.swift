import EventStore

/// The validation state at a position of the log, kept in `checkpoint.bin` beside it so
/// an append reads only what was appended since, not the whole log (README,
/// "Checkpoints").
///
/// Derived data: deleting it loses nothing. It is used only to validate appends, never
/// to answer a read. It is sealed with a MAC under the user's `CheckpointKey` (kept
/// outside the log), and trusted only while the MAC holds and the line just before its
/// position still carries the seq and hash it names; otherwise it is ignored and
/// rebuilt. `verify` compares it with a full replay and deletes it when it differs.
///
/// The form on disk: a `PageSealedFile` (sealed page by page) holding the format line
/// `recovery-checkpoint/4\n`; the position's segment, offset, lines before, seq (each
/// 8 bytes, little-endian) and hash (its length in 8 bytes, then its bytes); then the
/// `ValidationState` with its index, as it is kept in memory (`ValidationState.encode`).
/// Loading reads the header only: a lookup reads the slots and entries it probes,
/// checking each page's MAC once. No decoder, no object per entry, and an append's
/// cost does not grow with the checkpoint.
public struct Checkpoint: Sendable, Equatable {
    public static let fileName = "checkpoint.bin"
    static let magic = Array("recovery-checkpoint/4\n".utf8)
    /// Rewrite the checkpoint once an append had to read this many events past it.
    static let rewriteDistance = 256

    public var position: LogPosition
    var state: ValidationState

    init(position: LogPosition, state: ValidationState) {
        self.position = position
        self.state = state
    }

    /// The same position, and the same streams, texts and facts folded.
    public static func == (lhs: Checkpoint, rhs: Checkpoint) -> Bool {
        lhs.position == rhs.position && lhs.state.same(as: rhs.state, in: ValidationState.everything)
    }

    static func path(in log: EventLog) -> String { "\(log.path)/\(fileName)" }

    /// The checkpoint beside `log`, if there is one that still matches the chain.
    /// Its state is read in place, each page checked as a lookup reaches it
    /// (`PageSealedFile`): a page failing its MAC shows in `state.readDamagedCheckpoint`.
    static func load(_ log: EventLog) -> Checkpoint? {
        guard let file = log.openPageSealedDerivedFile(fileName),
              let head = file.bytes(0..<min(file.count, Header.maximumLength)), let header = Header(head),
              (try? log.lineMatches(before: header.position)) == true,
              let state = ValidationState(sealedIn: file, at: header.end) else { return nil }
        return Checkpoint(position: header.position, state: state)
    }

    /// The checkpoint in `bytes` (the contents inside the page seals), or nil.
    static func decode(_ bytes: [UInt8]) -> Checkpoint? {
        guard let header = Header(bytes), let state = ValidationState(decoding: bytes, at: header.end) else { return nil }
        return Checkpoint(position: header.position, state: state)
    }

    /// Writes it atomically (temporary file, fsync, rename). A failure to write is not
    /// an error of the append that triggered it: the next one rebuilds.
    /// A state over a checkpoint that fails its MAC is not saved, and that checkpoint is
    /// deleted.
    func save(_ log: EventLog) {
        guard let bytes = encoded() else { try? log.removeDerivedFile(Checkpoint.fileName); return }
        try? log.writePageSealedDerivedFile(Checkpoint.fileName, bytes: bytes)
    }

    /// The contents on disk, inside the page seals; nil when the state is over a
    /// checkpoint that fails its MAC.
    func encoded() -> [UInt8]? {
        guard let state = state.merged() else { return nil }
        var bytes = Checkpoint.magic
        func int(_ value: Int) { withUnsafeBytes(of: Int64(value).littleEndian) { bytes.append(contentsOf: $0) } }
        int(position.segment)
        int(position.offset)
        int(position.linesBefore)
        int(position.seq)
        int(position.hash.utf8.count)
        bytes.append(contentsOf: position.hash.utf8)
        state.encode(into: &bytes)
        return bytes
    }

    /// What precedes the state.
    struct Header {
        /// More than the header takes: the format line, five numbers and a hash.
        static let maximumLength = 1024

        var position: LogPosition
        /// Where the state starts.
        var end: Int

        init?(_ bytes: [UInt8]) {
            guard bytes.starts(with: Checkpoint.magic) else { return nil }
            var at = Checkpoint.magic.count
            func int() -> Int? {
                guard at + 8 <= bytes.count else { return nil }
                defer { at += 8 }
                return bytes.withUnsafeBytes { Int(Int64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: Int64.self))) }
            }
            guard let segment = int(), let offset = int(), let linesBefore = int(), let seq = int(),
                  let hashLength = int(), hashLength >= 0, hashLength <= bytes.count - at else { return nil }
            let hash = String(decoding: bytes[at..<(at + hashLength)], as: UTF8.self)
            at += hashLength
            position = LogPosition(segment: segment, offset: offset, linesBefore: linesBefore, seq: seq, hash: hash)
            end = at
        }
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

    /// `EventLog.verify`, and, when the log passes, the checkpoint compared with the
    /// state a replay of the log gives at its position: deleted when it differs, so no
    /// append validates against it. The replay folds the lines as the one checked pass
    /// reads them (after a first pass for the retractions), not in a second pass.
    public func verify(expectHead: LogHead? = nil) throws -> (report: VerifyReport, checkpoint: CheckpointStatus?) {
        let stored = log.hasDerivedFile(Checkpoint.fileName) ? Checkpoint.load(log) : nil
        var replayed = ValidationContext()
        var pass = try stored.map { try ValidationContext.ReplayPass(replayed, log, upTo: $0.position.seq) }
        var end: LogPosition?
        var replayFailed = false
        let report = try log.verify(expectHead: expectHead, alsoEach: stored.map { stored in { line in
            guard !replayFailed, line.seq <= stored.position.seq else { return }
            do {
                try replayed.absorb(line, in: &pass!)
                if line.seq == stored.position.seq { end = line.positionAfter }
            } catch {
                replayFailed = true
            }
        } })
        guard report.ok else { return (report, nil) }
        // Rows kept for `kpi` are not checked here (that is a whole KPI computation):
        // after a verify, the next `kpi` computes them again from the verified log.
        try? log.removeDerivedFile(KPICheckpoint.fileName)
        guard log.hasDerivedFile(Checkpoint.fileName) else { return (report, .absent) }
        if let stored, let pass, let end, !replayFailed {
            try replayed.finish(pass, at: end, log)
            if replayed.checkpoint == stored { return (report, .matches) }
        }
        try log.removeDerivedFile(Checkpoint.fileName)
        return (report, .deleted)
    }

    /// What `verify` makes of the checkpoint; nil when the log fails `verify`.
    public func checkCheckpoint() throws -> CheckpointStatus? { try verify().checkpoint }
}

/// The KPI rows of the whole log at its head, kept in `kpi-checkpoint.json` beside it
/// so that `kpi` asked again at the head answers without reading the log (README,
/// "Checkpoints").
///
/// Derived data, like `checkpoint.bin`: deleting it loses nothing. A read writes it
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
    /// A line of the position and valid time, then a line of the rows' canonical array.
    static let formatName = "recovery-kpi-checkpoint/2"

    var position: LogPosition
    var recorded: String?
    /// The valid time the rows were computed at (milliseconds), and its date in the log's zone.
    var validAt: Int64
    var day: String
    /// The rows as `kpi --json` prints them (`KPIRow.encodedArray`): a warm `kpi --json`
    /// prints these bytes, and only other answers decode them.
    var encodedRows: [UInt8]

    /// Writes it atomically; a failure (a read-only log, a full disk) is not an error of the read.
    func save(_ log: EventLog) {
        var bytes = CanonicalJSON.encode(.object(JSONObject([
            "format": .string(KPICheckpoint.formatName),
            "segment": .integer(position.segment), "offset": .integer(position.offset), "linesBefore": .integer(position.linesBefore),
            "seq": .integer(position.seq), "hash": .string(position.hash), "recorded": recorded.map(JSONValue.string) ?? .null,
            "validAt": .integer(Int(validAt)), "day": .string(day),
        ])))
        bytes.reserveCapacity(bytes.count + encodedRows.count + 2)
        bytes.append(0x0A)
        bytes.append(contentsOf: encodedRows)
        bytes.append(0x0A)
        try? log.writeSealedDerivedFile(KPICheckpoint.fileName, bytes: bytes)
    }

    /// The checkpoint beside `log`, if it answers a read at the head at `validAt`. The
    /// file's MAC (`readSealedDerivedFile`) vouches for the rows; they are parsed only
    /// when an answer needs them as rows.
    static func load(_ log: EventLog, validAt: Int64) -> KPICheckpoint? {
        guard let data = log.readSealedDerivedFile(fileName), data.last == 0x0A,
              let newline = data.firstIndex(of: 0x0A), newline < data.count - 1,
              case .object(let o)? = try? JSONParser.parse(Array(data[..<newline]), integersOnly: true),
              o["format"]?.stringValue == formatName,
              let segment = o["segment"]?.integerValue, let offset = o["offset"]?.integerValue,
              let linesBefore = o["linesBefore"]?.integerValue, let seq = o["seq"]?.integerValue,
              let hash = o["hash"]?.stringValue, let at = o["validAt"]?.integerValue, let day = o["day"]?.stringValue else { return nil }
        let rows = Array(data[(newline + 1)..<(data.count - 1)])
        guard rows.first == UInt8(ascii: "["), rows.last == UInt8(ascii: "]") else { return nil }
        let zone = log.timeZone
        guard validAt >= Int64(at), Timestamp.calendarDate(ofMillis: validAt, in: zone).description == day else { return nil }
        let position = LogPosition(segment: segment, offset: offset, linesBefore: linesBefore, seq: seq, hash: hash)
        guard (try? log.endsAt(position)) == true else { return nil }
        return KPICheckpoint(position: position, recorded: o["recorded"]?.stringValue, validAt: Int64(at), day: day, encodedRows: rows)
    }
}

extension KPICheckpoint {
    /// The checkpoint of rows read at `validAt`, with `day` its date in `zone`.
    init(position: LogPosition, recorded: String?, validAt: Int64, zone: ZoneRules, encodedRows: [UInt8]) {
        self.init(position: position, recorded: recorded, validAt: validAt, day: Timestamp.calendarDate(ofMillis: validAt, in: zone).description,
                  encodedRows: encodedRows)
    }
}
