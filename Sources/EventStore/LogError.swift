/// Where in the log something was found: the place every integrity report names.
public struct LogPlace: Sendable, Equatable, CustomStringConvertible {
    /// The seq the line holds or should hold.
    public var seq: Int
    public var file: String
    /// 1-based line number inside `file`.
    public var line: Int

    public init(seq: Int, file: String, line: Int) {
        self.seq = seq
        self.file = file
        self.line = line
    }

    public var description: String { "seq \(seq) in \(file):\(line)" }
}

/// The first thing found wrong with the log's bytes (SPEC §2): never skipped, never
/// repaired automatically.
public struct IntegrityFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var place: LogPlace
    public var reason: String

    public init(place: LogPlace, reason: String) {
        self.place = place
        self.reason = reason
    }

    public var description: String { "\(place): \(reason)" }
}

/// Everything the store can refuse or fail with. Each case maps to one exit code of
/// SPEC §6 through `exitCode`.
public enum LogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The directory holds no log (exit 5).
    case notALog(path: String, reason: String)
    /// `init` on a directory that already holds one (exit 5).
    case alreadyExists(path: String)
    /// The manifest names a format this build cannot read (exit 5).
    case unsupportedFormat(path: String, format: String)
    /// The bytes of the log are damaged (exit 4).
    case integrity(IntegrityFailure)
    /// A system call failed (exit 5).
    case io(operation: String, path: String, errno: Int32)
    /// Another writer held the lock longer than the wait allows (exit 5).
    case lockTimeout(path: String, seconds: Double)
    /// This machine has no rules for the zone the log reads plain dates in (exit 5).
    case unknownTimeZone(path: String, zone: String, database: String)
    /// `expectSeq` or an id reused with other content (exit 3).
    case conflict(String)
    /// Input the store itself refuses, such as an over-long line (exit 1).
    case invalidInput(String)

    public var exitCode: Int32 {
        switch self {
        case .invalidInput: 1
        case .conflict: 3
        case .integrity: 4
        case .notALog, .alreadyExists, .unsupportedFormat, .io, .lockTimeout, .unknownTimeZone: 5
        }
    }

    public var description: String {
        switch self {
        case .notALog(let path, let reason):
            "no log at \(path): \(reason)"
        case .alreadyExists(let path):
            "a log already exists at \(path)"
        case .unsupportedFormat(let path, let format):
            "the log at \(path) has format \"\(format)\"; this recoveryctl reads \"\(Manifest.formatName)\" only (a newer format needs a newer recoveryctl)"
        case .integrity(let failure):
            "integrity failure: \(failure)"
        case .io(let operation, let path, let code):
            "\(operation) \(path): \(SystemError.message(code))"
        case .unknownTimeZone(let path, let zone, let database):
            "the log at \(path) reads plain dates in the time zone \"\(zone)\", which the tz database in \(database) does not have"
        case .lockTimeout(let path, let seconds):
            "another writer held \(path) for more than \(SystemError.formatSeconds(seconds)); nothing was written"
        case .conflict(let message):
            message
        case .invalidInput(let message):
            message
        }
    }

    /// What the person at the terminal can do about it, where there is something.
    public var hint: String? {
        switch self {
        case .notALog:
            "Create one with 'recoveryctl init', or point to an existing one with '--log DIR' or RECOVERY_LOG."
        case .alreadyExists:
            "Choose another directory with '--log DIR'."
        case .integrity:
            "Nothing was written. Run 'recoveryctl verify' for the full report."
        case .io(_, _, let code) where code == ENOSPC:
            "The disk is full; the log still ends at its last whole line. Free space and try again."
        case .io(_, _, let code) where code == EACCES || code == EPERM || code == EROFS:
            "Check the permissions of the log directory (files 0640, directories 0750) and who you are running as."
        case .unknownTimeZone:
            "Install the tzdata package, or set TZDIR to a directory holding the tz database; nothing was read or written."
        case .lockTimeout:
            "Try again when the other writer is done; RECOVERY_LOCK_TIMEOUT sets the wait in seconds."
        default:
            nil
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum SystemError {
    /// The system's text for an errno value (`strerror`).
    public static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    static func formatSeconds(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }
}
