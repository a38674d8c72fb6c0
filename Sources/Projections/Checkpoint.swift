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
