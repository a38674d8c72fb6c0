/// A mistake in how the command was called; reported with the usage line, exit 2.
///
/// The parser throws these; command implementations throw them too (through
/// `Invocation.usageError(_:)` or `Invocation.invalidValue(_:for:)`) for values the
/// parser cannot judge, e.g. `--limit abc`.
struct UsageError: Error, Sendable, CustomStringConvertible {
    /// The message after `Error: `.
    var message: String
    /// An optional `Help:` line naming the argument and its help text.
    var help: String?
    /// The command whose usage line is printed; `nil` for the top level.
    var commandName: String?

    init(_ message: String, help: String? = nil, commandName: String? = nil) {
        self.message = message
        self.help = help
        self.commandName = commandName
    }

    var description: String { message }
}
