import Glibc

/// Files beside the log that are derived from it (SPEC §1: "deleting it loses nothing"),
/// such as checkpoints.
extension EventLog {
    /// Writes a derived file atomically; its name must not be one the log itself uses.
    public func writeDerivedFile(_ name: String, bytes: [UInt8]) throws(LogError) {
        precondition(!name.contains("/") && !name.hasPrefix("events-") && name != EventLog.manifestName && name != EventLog.lockName,
                     "derived files never replace the log's own files")
        try FileIO.writeFileAtomically(bytes, to: "\(path)/\(name)", directory: path, using: fileOperations)
    }

    public func removeDerivedFile(_ name: String) throws(LogError) {
        precondition(!name.contains("/") && !name.hasPrefix("events-") && name != EventLog.manifestName && name != EventLog.lockName,
                     "derived files never replace the log's own files")
        if unlink("\(path)/\(name)") != 0 && errno != ENOENT { throw .io(operation: "delete", path: "\(path)/\(name)", errno: errno) }
    }

    /// Whether the line just before `position` is the event `position` names (its seq
    /// and hash, the hash recomputed), so reading may resume there.
    public func lineMatches(before position: LogPosition) throws -> Bool {
        if position.seq == 0 { return position.segment == 1 && position.offset == 0 }
        guard position.offset > 0, let line = try readLine(endingAt: position.offset, segment: position.segment) else { return false }
        guard case .object(let object) = try? JSONParser.parse(line, integersOnly: true),
              let event = try? Event(json: object) else { return false }
        return event.seq == position.seq && event.hash == position.hash && event.computedHash() == event.hash
    }

    /// Whether the log ends exactly at `position`: it is in the last segment, nothing
    /// follows it (no line, no torn tail), and the line before is the event it names.
    public func endsAt(_ position: LogPosition) throws -> Bool {
        guard try segmentNumbers().last == position.segment,
              FileIO.size(ofPath: segmentPath(position.segment)) == position.offset else { return false }
        return try lineMatches(before: position)
    }
}
