import Foundation

/// Free text kept out of the lines (SPEC §3, texts): `attachments/REF`, where REF is
/// `sha256-` and the hex SHA-256 of the file's bytes, and the file starts with a random
/// salt line so that a short text cannot be guessed from its hash.
extension EventLog {
    public static let textErasedType = "text.erased"
    static let textReferencePrefix = "sha256-"

    public static func isTextReference(_ text: String) -> Bool {
        text.hasPrefix(textReferencePrefix) && Hex.isSHA256(String(text.dropFirst(textReferencePrefix.count)))
    }

    /// Writes a text durably (temporary file, fsync, rename, fsync of the directory)
    /// and returns its reference. Store the text before appending the event that names it.
    public func storeText(_ text: String) throws(LogError) -> String {
        let directory = "\(path)/\(EventLog.attachmentsName)"
        if !FileIO.isDirectory(directory) {
            try FileIO.makeDirectory(directory)
            try FileIO.fsyncDirectory(path, using: fileOperations)
        }
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255, using: &generator) }
        let bytes = Array("salt \(Hex.encode(salt))\n".utf8) + Array(text.utf8)
        let reference = EventLog.textReferencePrefix + SHA256.hex(bytes)
        try FileIO.writeFileAtomically(bytes, to: "\(directory)/\(reference)", directory: directory, using: fileOperations)
        return reference
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
}
