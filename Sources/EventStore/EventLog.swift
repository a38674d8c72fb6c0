#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A log directory (SPEC §1): the manifest, the segments `events-NNNNNN.jsonl`,
/// `quarantine/`, `attachments/` and `LOCK`.
///
/// A value: it holds the path and the manifest, and opens files only for the length of
/// one call. Appends take the exclusive lock; reads take none, because a writer only
/// ever adds whole fsynced lines after the last one, and a reader stops at the last
/// newline it sees.
public struct EventLog: Sendable {
    public let path: String
    public let manifest: Manifest
    /// The zone plain dates are read in: the manifest's.
    public let timeZone: ZoneRules
    let fileOperations: any FileOperations

    public static let manifestName = "manifest.json"
    public static let lockName = "LOCK"
    public static let quarantineName = "quarantine"
    public static let attachmentsName = "attachments"
    /// The longest line, newline included (SPEC §2).
    public static let maxLineBytes = 1 << 20

    /// Opens an existing log. Throws `.notALog` when `path` holds none,
    /// `.unsupportedFormat` for a manifest of another format, and `.unknownTimeZone`
    /// when this machine has no rules for the manifest's time zone.
    public init(path: String, fileOperations: any FileOperations = SystemFileOperations()) throws(LogError) {
        self.path = path
        self.fileOperations = fileOperations
        guard FileIO.isDirectory(path) else {
            throw .notALog(path: path, reason: FileIO.exists(path) ? "it is not a directory" : "the directory does not exist")
        }
        let manifestPath = "\(path)/\(EventLog.manifestName)"
        guard FileIO.exists(manifestPath) else { throw .notALog(path: path, reason: "it has no manifest.json") }
        manifest = try Manifest(bytes: FileIO.readFile(manifestPath), path: path)
        // Plain dates are read in the manifest's zone; without its rules every answer
        // bounded by a date would shift without a word, so the log is not opened.
        guard let zone = ZoneRules(identifier: manifest.timeZone) else {
            throw .unknownTimeZone(path: path, zone: manifest.timeZone, database: ZoneRules.databaseDirectory)
        }
        timeZone = zone
    }

    /// Creates an empty log: the directory (0750), `manifest.json`, the first segment
    /// and `LOCK` (0640), each fsynced together with its parent directory.
    @discardableResult
    public static func create(
        at path: String, timeZone: String = Manifest.defaultTimeZone, segmentSize: Int = Manifest.defaultSegmentSize,
        fileOperations: any FileOperations = SystemFileOperations()
    ) throws(LogError) -> EventLog {
        if FileIO.exists("\(path)/\(manifestName)") { throw .alreadyExists(path: path) }
        if FileIO.exists(path) && !FileIO.isDirectory(path) {
            throw .notALog(path: path, reason: "it exists and is not a directory")
        }
        if FileIO.isDirectory(path), let entries = try? FileIO.directoryEntries(path), !entries.isEmpty {
            throw .notALog(path: path, reason: "the directory is not empty; init wants a new or empty directory")
        }
        guard ZoneRules(identifier: timeZone) != nil else { throw .invalidInput("unknown time zone \"\(timeZone)\"") }
        guard segmentSize >= 4096 else { throw .invalidInput("segment size must be at least 4096 bytes") }

        let existed = FileIO.isDirectory(path)
        try FileIO.makeDirectory(path)
        do throws(LogError) {
            if !existed { try FileIO.fsyncDirectory(parentDirectory(of: path), using: fileOperations) }
            for name in [lockName, segmentName(1)] {
                let fd = try FileIO.open("\(path)/\(name)", O_WRONLY | O_CREAT | O_EXCL, operation: "create")
                _ = fchmod(fd, FileIO.fileMode)
                defer { close(fd) }
                try FileIO.fsync(fd, path: "\(path)/\(name)", using: fileOperations)
            }
            let manifest = Manifest(created: Timestamp.recordedString(millis: Timestamp.nowMillis()), timeZone: timeZone, segmentSize: segmentSize)
            // The manifest comes last: a directory without one is not yet a log.
            try FileIO.writeFileAtomically(CanonicalJSON.encode(manifest.json) + [UInt8(ascii: "\n")],
                                           to: "\(path)/\(manifestName)", directory: path, using: fileOperations)
        } catch {
            // Leave the directory as it was found, so init can be run again.
            for name in [lockName, segmentName(1)] { unlink("\(path)/\(name)") }
            if !existed { rmdir(path) }
            throw error
        }
        return try EventLog(path: path, fileOperations: fileOperations)
    }

    // MARK: segments

    public static func segmentName(_ number: Int) -> String {
        let digits = String(number)
        return "events-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".jsonl"
    }

    static func segmentNumber(_ name: String) -> Int? {
        guard name.hasPrefix("events-"), name.hasSuffix(".jsonl") else { return nil }
        let middle = name.dropFirst(7).dropLast(6)
        guard middle.count >= 6, middle.allSatisfy(\.isASCII), let number = Int(middle), number >= 1,
              segmentName(number) == name else { return nil }
        return number
    }

    /// The segment numbers on disk, in order. Throws when none exists or when the
    /// numbering has a gap (a whole file missing from the middle of the log).
    func segmentNumbers() throws(LogError) -> [Int] {
        let names = try FileIO.directoryEntries(path)
        let numbers = names.compactMap(EventLog.segmentNumber).sorted()
        guard !numbers.isEmpty else { throw .notALog(path: path, reason: "it has no events-000001.jsonl") }
        for (index, number) in numbers.enumerated() where number != index + 1 {
            throw .integrity(IntegrityFailure(
                place: LogPlace(seq: 0, file: EventLog.segmentName(index + 1), line: 1),
                reason: "segment \(EventLog.segmentName(index + 1)) is missing (found \(EventLog.segmentName(number)) after it); segments must be numbered 1, 2, 3 … without a gap"))
        }
        return numbers
    }

    func segmentPath(_ number: Int) -> String { "\(path)/\(EventLog.segmentName(number))" }

    static func parentDirectory(of path: String) -> String {
        let trimmed = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }
}
