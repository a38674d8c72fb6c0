/// A runtime failure of a command: what went wrong, the exit code, and what to do.
///
/// Command implementations throw this; `main` prints `Error: <message>` and, when
/// there is one, the hint on the next line, both to stderr, and exits with `exitCode`.
/// Usage mistakes (a malformed option value) are `UsageError`s instead, so that the
/// usage line is printed with them.
struct CLIFailure: Error, Sendable, CustomStringConvertible {
    /// What went wrong, where: one line, no `Error:` prefix.
    var message: String
    /// One of `ExitStatus`.
    var exitCode: Int32
    /// What the user can do about it, printed on its own line.
    var hint: String?

    init(_ message: String, exitCode: Int32, hint: String? = nil) {
        self.message = message
        self.exitCode = exitCode
        self.hint = hint
    }

    var description: String { message }

    /// Invalid input, nothing written (exit 1).
    static func invalidInput(_ message: String, hint: String? = nil) -> CLIFailure {
        CLIFailure(message, exitCode: ExitStatus.invalidInput, hint: hint)
    }

    /// A conflict with the log's current state (exit 3).
    static func conflict(_ message: String, hint: String? = nil) -> CLIFailure {
        CLIFailure(message, exitCode: ExitStatus.conflict, hint: hint)
    }

    /// An integrity failure of the log (exit 4).
    static func integrity(_ message: String, hint: String? = nil) -> CLIFailure {
        CLIFailure(message, exitCode: ExitStatus.integrity, hint: hint)
    }

    /// I/O or environment (exit 5).
    static func environment(_ message: String, hint: String? = nil) -> CLIFailure {
        CLIFailure(message, exitCode: ExitStatus.environment, hint: hint)
    }
}

/// An error from another module that knows how it should be reported on the command line.
///
/// Conform a library error to this in the `recoveryctl` target (the libraries know
/// nothing of exit codes); `main` then reports it like the `CLIFailure` it returns.
protocol CLIFailureConvertible: Error {
    var cliFailure: CLIFailure { get }
}
