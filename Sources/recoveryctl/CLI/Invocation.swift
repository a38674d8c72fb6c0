/// One parsed command line: what a command's `run` receives.
///
/// Option accessors take the long name without dashes (`value("limit")`). Asking for
/// an option the command does not declare is a programming error and traps, so a typo
/// in a command implementation shows up in the first test that runs it.
struct Invocation: Sendable {
    /// The subcommand's name, e.g. `append`.
    var commandName: String
    /// The positional arguments, in order (everything after `--` included).
    var positionals: [String]
    /// The log directory: `--log`, else `$RECOVERY_LOG`, else `log`.
    var logPath: String
    /// `--json` was given.
    var json: Bool
    /// The process environment, for `RECOVERY_ACTOR` and the like.
    var environment: [String: String]

    /// The spec the line was parsed against (the command's and the global options).
    let spec: CommandSpec
    let optionValues: [String: [String]]
    let flags: Set<String>

    /// Every value given for a value option, in order; empty when absent.
    func values(_ long: String) -> [String] {
        _ = declaredOption(long, kind: .value)
        return optionValues[long] ?? []
    }

    /// The last value given for a value option, else its default, else `nil`.
    func value(_ long: String) -> String? {
        let option = declaredOption(long, kind: .value)
        return optionValues[long]?.last ?? option.defaultValue
    }

    /// Whether the option was given on the command line (a default does not count).
    func isGiven(_ long: String) -> Bool {
        optionValues[long] != nil || flags.contains(long)
    }

    /// Whether a flag was given.
    func flag(_ long: String) -> Bool {
        _ = declaredOption(long, kind: .flag)
        return flags.contains(long)
    }

    /// `--as-of`, on the read commands that declare it.
    var asOf: String? { optionValues["as-of"]?.last }

    /// `--valid-at`, on the read commands that declare it.
    var validAt: String? { optionValues["valid-at"]?.last }

    /// The positional(s) the spec's argument `name` received: one value, or all the
    /// remaining ones for a repeating argument. Empty when an optional one was left out.
    func arguments(_ name: String) -> [String] {
        var remaining = positionals[...]
        for argument in spec.arguments {
            if argument.name == name {
                return argument.isRepeating ? Array(remaining) : Array(remaining.prefix(1))
            }
            remaining = remaining.dropFirst(argument.isRepeating ? remaining.count : 1)
        }
        preconditionFailure("'\(commandName)' declares no argument '<\(name)>'")
    }

    /// The positional the spec's non-repeating argument `name` received.
    func argument(_ name: String) -> String? {
        arguments(name).first
    }

    /// The value of an option read as a whole number; throws a `UsageError` when it is
    /// not one or lies outside `range`. `nil` when absent and without a default.
    func integer(_ long: String, in range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let text = value(long) else { return nil }
        let option = declaredOption(long, kind: .value)
        guard let number = Int(text) else {
            throw invalidValue(text, for: long, reason: "not a whole number")
        }
        if let range, !range.contains(number) {
            let reason: String
            if range.upperBound == Int.max {
                reason = "must be at least \(range.lowerBound)"
            } else {
                reason = "must be from \(range.lowerBound) to \(range.upperBound)"
            }
            throw invalidValue(text, for: option.long, reason: reason)
        }
        return number
    }

    /// Throws a `UsageError` for this command: printed as `Error: <message>` with the
    /// command's usage line, exit 2.
    func usageError(_ message: String) throws -> Never {
        throw UsageError(message, commandName: commandName)
    }

    /// A `UsageError` saying `value` is not acceptable for an option or argument, in the
    /// parser's words: `The value 'abc' is invalid for '--limit <n>': not a whole number`.
    /// `name` is an option's long name or an argument's name.
    func invalidValue(_ value: String, for name: String, reason: String? = nil) -> UsageError {
        let all = spec.options + OptionSpec.globals
        let label: String
        let help: String
        if let option = all.first(where: { $0.long == name }) {
            label = option.synopsis
            help = "\(option.synopsis)  \(option.help)"
        } else if let argument = spec.arguments.first(where: { $0.name == name }) {
            label = argument.label
            help = "\(argument.label)  \(argument.help)"
        } else {
            preconditionFailure("'\(commandName)' declares no option or argument '\(name)'")
        }
        let suffix = reason.map { ": \($0)" } ?? ""
        return UsageError(
            "The value '\(value)' is invalid for '\(label)'\(suffix)",
            help: help, commandName: commandName)
    }

    private func declaredOption(_ long: String, kind: OptionSpec.Kind) -> OptionSpec {
        guard
            let option = (spec.options + OptionSpec.globals).first(where: { $0.long == long }),
            option.kind == kind
        else {
            preconditionFailure("'\(commandName)' declares no \(kind) option '--\(long)'")
        }
        return option
    }
}
