import Glibc

/// Files beside the log that are derived from it (SPEC §1: "deleting it loses nothing"),
/// such as checkpoints.
extension EventLog {
    private static func checkDerivedName(_ name: String) {
        precondition(!name.contains("/") && !name.hasPrefix("events-") && name != manifestName && name != lockName,
                     "derived files never replace the log's own files")
    }

    /// Writes a derived file atomically; its name must not be one the log itself uses.
    public func writeDerivedFile(_ name: String, bytes: [UInt8]) throws(LogError) {
        try writeDerivedFile(name, parts: [bytes])
    }

    /// `writeDerivedFile` of `parts` one after another, without joining them first.
    func writeDerivedFile(_ name: String, parts: [[UInt8]]) throws(LogError) {
        EventLog.checkDerivedName(name)
        try FileIO.writeFileAtomically(parts: parts, to: "\(path)/\(name)", directory: path, using: fileOperations)
    }

    public func hasDerivedFile(_ name: String) -> Bool {
        EventLog.checkDerivedName(name)
        return FileIO.exists("\(path)/\(name)")
    }

    public func removeDerivedFile(_ name: String) throws(LogError) {
        EventLog.checkDerivedName(name)
        if unlink("\(path)/\(name)") != 0 && errno != ENOENT { throw .io(operation: "delete", path: "\(path)/\(name)", errno: errno) }
    }

    /// Writes a derived file behind a MAC under the user's checkpoint key (see
    /// `CheckpointKey`), so an edited copy is never taken for one this tool wrote.
    /// Writes nothing when there is no key.
    public func writeSealedDerivedFile(_ name: String, bytes: [UInt8]) throws(LogError) {
        guard let key = CheckpointKey.load() else { return }
        let mac = Array("hmac-sha256 \(Hex.encode(EventLog.seal(bytes[...], named: name, key: key)))\n".utf8)
        try writeDerivedFile(name, parts: [mac, bytes])
    }

    /// The contents of a derived file written by `writeSealedDerivedFile`, or nil when it
    /// is missing, there is no key, or its MAC does not match (edited, or another user's).
    public func readSealedDerivedFile(_ name: String) -> [UInt8]? {
        guard let key = CheckpointKey.load(), let bytes = try? FileIO.readFile("\(path)/\(name)"),
              let newline = bytes.firstIndex(of: 0x0A) else { return nil }
        let header = String(decoding: bytes[..<newline], as: UTF8.self)
        let body = bytes[(newline + 1)...]
        let expected = "hmac-sha256 " + Hex.encode(EventLog.seal(body, named: name, key: key))
        return header == expected ? Array(body) : nil
    }

    /// The MAC of a derived file: its name, a zero byte, its contents.
    private static func seal(_ body: ArraySlice<UInt8>, named name: String, key: [UInt8]) -> [UInt8] {
        HMACKey(key).mac(ofFileNamed: name) { hasher in body.withUnsafeBytes { hasher.update($0) } }
    }

    /// Whether the line just before `position` is the event `position` names (its seq
    /// and hash, the hash recomputed), so reading may resume there.
    public func lineMatches(before position: LogPosition) throws -> Bool {
        if position.seq == 0 { return position.segment == 1 && position.offset == 0 }
        guard position.offset > 0, let line = try readLine(endingAt: position.offset, segment: position.segment) else { return false }
        // Canonical, well formed and hashing to its `hash`, or the log is read again from the start.
        return line.withUnsafeBytes { line in
            guard let checked = ChainCursor.precheck(line) else { return false }
            return checked.seq == position.seq && ChainCursor.equal(line, checked.hash, position.hash)
        }
    }

    /// Whether the log ends exactly at `position`: it is in the last segment, nothing
    /// follows it (no line, no torn tail), and the line before is the event it names.
    public func endsAt(_ position: LogPosition) throws -> Bool {
        guard try segmentNumbers().last == position.segment,
              FileIO.size(ofPath: segmentPath(position.segment)) == position.offset else { return false }
        return try lineMatches(before: position)
    }
}

/// The secret that seals derived files (checkpoints), kept outside the log so that
/// someone who can edit the log's directory cannot forge a checkpoint that changes an
/// answer: `RECOVERY_CHECKPOINT_KEY` names the file, else
/// `$XDG_STATE_HOME/recoveryctl/checkpoint.key`, else `~/.local/state/recoveryctl/checkpoint.key`.
/// Made on first use: 32 random bytes, mode 0600, in a directory of mode 0700. A key
/// that is not the user's own or is readable by others is not used; without a key no
/// checkpoint is written or read, and every answer comes from replaying the log.
public enum CheckpointKey {
    static var path: String? {
        if let given = getenv("RECOVERY_CHECKPOINT_KEY"), let path = String(validatingCString: given), !path.isEmpty { return path }
        if let state = getenv("XDG_STATE_HOME"), let base = String(validatingCString: state), base.hasPrefix("/") {
            return "\(base)/recoveryctl/checkpoint.key"
        }
        if let home = getenv("HOME"), let base = String(validatingCString: home), base.hasPrefix("/") {
            return "\(base)/.local/state/recoveryctl/checkpoint.key"
        }
        return nil
    }

    /// The key, made if missing; nil when it cannot be had safely.
    public static func load() -> [UInt8]? {
        guard let path else { return nil }
        if let key = readOwnKey(path) { return key }
        guard !FileIO.exists(path) else { return nil }
        // Make the directories (0700 for the last), then the key with O_EXCL.
        var directory = ""
        let parts = EventLog.parentDirectory(of: path).split(separator: "/")
        for (index, part) in parts.enumerated() {
            directory += "/\(part)"
            if !FileIO.isDirectory(directory) && mkdir(directory, index == parts.count - 1 ? 0o700 : 0o755) != 0 && errno != EEXIST { return nil }
        }
        let key = RandomBytes.make(32)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return readOwnKey(path) }  // another process made it first
        defer { close(fd) }
        guard (try? FileIO.writeAll(fd, key, path: path, originalLength: 0, using: SystemFileOperations())) != nil,
              fsync(fd) == 0 else { unlink(path); return nil }
        return key
    }

    private static func readOwnKey(_ path: String) -> [UInt8]? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_uid == geteuid(), info.st_mode & 0o077 == 0,
              let key = try? FileIO.readFile(path), key.count == 32 else { return nil }
        return key
    }
}
