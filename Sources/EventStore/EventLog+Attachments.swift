import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Free text kept out of the lines (SPEC §3, texts): `attachments/REF`, where REF is
/// `sha256-` and the hex SHA-256 of the file's bytes, and the file starts with a random
/// salt line so that a short text cannot be guessed from its hash.
extension EventLog {
    public static let textErasedType = "text.erased"
    static let textReferencePrefix = "sha256-"

    public static func isTextReference(_ text: String) -> Bool {
        text.hasPrefix(textReferencePrefix) && Hex.isSHA256(String(text.dropFirst(textReferencePrefix.count)))
    }

    /// A text with its salt line, and the reference it will be stored under: what
    /// `storeTexts` writes. Making one touches no file.
    public struct PreparedText: Sendable, Equatable {
        public var reference: String
        public var bytes: [UInt8]
    }

    /// Salts a text and names it, without writing it (see `storeTexts`).
    public func prepareText(_ text: String) -> PreparedText {
        let salt = RandomBytes.make(16)
        var bytes = Array("salt \(Hex.encode(salt))\n".utf8)
        bytes.append(contentsOf: text.utf8)
        return PreparedText(reference: EventLog.textReferencePrefix + SHA256.hex(bytes), bytes: bytes)
    }

    /// Writes a text durably (temporary file, fsync, rename, fsync of the directory)
    /// and returns its reference. Store the text before appending the event that names it.
    public func storeText(_ text: String) throws(LogError) -> String {
        let directory = try attachmentsDirectory()
        let prepared = prepareText(text)
        try FileIO.writeFileAtomically(prepared.bytes, to: "\(directory)/\(prepared.reference)", directory: directory, using: fileOperations)
        return prepared.reference
    }

    /// Writes many texts and makes them durable together, before the lines that name
    /// them are written: each file is created under its reference (none may exist yet),
    /// written whole and closed; then one `syncfs` of the file system that holds
    /// `attachments/` writes back the files and the directory and flushes the device
    /// (one flush instead of two fsyncs per text). The directory is opened before the
    /// first file, so a writeback error of any of them is reported. Where `syncfs`
    /// does not exist, each file and then the directory is fsynced.
    ///
    /// Until the lines are written no event names these files, so a crash in between
    /// leaves at most files no line names. On failure the files this call created are
    /// removed again and nothing is acknowledged.
    public func storeTexts(_ texts: [PreparedText]) throws(LogError) {
        guard !texts.isEmpty else { return }
        let directory = try attachmentsDirectory()
        let directoryFD = try FileIO.open(directory, O_RDONLY | O_DIRECTORY)
        defer { close(directoryFD) }
        var written: [String] = []
        written.reserveCapacity(texts.count)
        do throws(LogError) {
            for text in texts {
                let file = "\(directory)/\(text.reference)"
                try FileIO.writeNewFile(text.bytes, to: file, using: fileOperations)
                written.append(file)
            }
            if fileOperations.syncfs(directoryFD) != 0 {
                let code = errno
                guard code == ENOSYS else { throw LogError.io(operation: "syncfs", path: directory, errno: code) }
                for file in written {
                    let fd = try FileIO.open(file, O_RDONLY)
                    defer { close(fd) }
                    try FileIO.fsync(fd, path: file, using: fileOperations)
                }
                try FileIO.fsync(directoryFD, path: directory, using: fileOperations)
            }
        } catch {
            for file in written { unlink(file) }
            throw error
        }
    }

    /// `attachments/`, created (and fsynced with the log's directory) on first use.
    private func attachmentsDirectory() throws(LogError) -> String {
        let directory = "\(path)/\(EventLog.attachmentsName)"
        if !FileIO.isDirectory(directory) {
            try FileIO.makeDirectory(directory)
            try FileIO.fsyncDirectory(path, using: fileOperations)
        }
        return directory
    }

    /// What reading a text reference finds.
    public enum TextContent: Sendable, Equatable {
        case text(String)
        /// No file (erased, or lost: `verify` tells which).
        case missing
        /// The file no longer hashes to its reference.
        case altered
    }

    /// The text behind a reference, without its salt line.
    public func readText(_ reference: String) -> TextContent {
        guard EventLog.isTextReference(reference),
              let bytes = try? FileIO.readFile("\(path)/\(EventLog.attachmentsName)/\(reference)") else { return .missing }
        guard EventLog.textReferencePrefix + SHA256.hex(bytes) == reference else { return .altered }
        let body = bytes.firstIndex(of: 0x0A).map { bytes[($0 + 1)...] } ?? []
        return .text(String(decoding: body, as: UTF8.self))
    }

    /// Deletes a text's file and fsyncs the directory. Append the `text.erased` event
    /// first: a file missing without one is an integrity failure.
    public func deleteText(_ reference: String) throws(LogError) {
        guard EventLog.isTextReference(reference) else { throw .invalidInput("\"\(reference)\" is not a text reference (sha256- and 64 hex digits)") }
        let directory = "\(path)/\(EventLog.attachmentsName)"
        let file = "\(directory)/\(reference)"
        if unlink(file) != 0 && errno != ENOENT { throw .io(operation: "delete", path: file, errno: errno) }
        try FileIO.fsyncDirectory(directory, using: fileOperations)
    }

    /// Deletes texts no event names (a batch whose lines were not written), then fsyncs
    /// the directory once. Best effort: what stays is a text no line names.
    public func deleteTexts(_ references: [String]) {
        guard !references.isEmpty else { return }
        let directory = "\(path)/\(EventLog.attachmentsName)"
        for reference in references where EventLog.isTextReference(reference) { unlink("\(directory)/\(reference)") }
        try? FileIO.fsyncDirectory(directory, using: fileOperations)
    }
}
