/// The exit codes of `recoveryctl` (SPEC §6).
enum ExitStatus {
    /// Done.
    static let success: Int32 = 0
    /// Invalid input; nothing was written.
    static let invalidInput: Int32 = 1
    /// The command line could not be parsed.
    static let usage: Int32 = 2
    /// A conflict: `--expect-seq` did not match, or an `--id` was reused with other content.
    static let conflict: Int32 = 3
    /// The log failed an integrity check.
    static let integrity: Int32 = 4
    /// I/O or environment: no log, permission, disk full, lock wait timed out.
    static let environment: Int32 = 5
}
