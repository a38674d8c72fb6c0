import EventStore

/// Routes a command line to a command: handles the global options, `help`, `--help`
/// and `--version`, parses the command's arguments, runs it, and reports errors.
struct Dispatcher: Sendable {
    /// What a command line asks for.
    enum Outcome {
        /// Print this text to stdout and exit 0.
        case help(String)
        case version
        case run(CommandSpec, Invocation)
    }

    static let abstract = "Keep the recovery project's history in an append-only, hash-chained event log."

    static let discussion = """
        Every fact (a unit registered, a peer hired, a meeting held) is one event, one \
        line in the log, chained to the line before by its SHA-256 hash. Nothing is \
        ever changed in place: mistakes are corrected or retracted by later events, and \
        every read can look back with --as-of (what the record said then) and \
        --valid-at (what was true then).

        The log is the directory given by --log, else $RECOVERY_LOG, else ./log. \
        Events are recorded as $RECOVERY_ACTOR, else the login name, unless --actor says \
        otherwise.

        Exit codes:
          0  done
          1  invalid input; nothing was written
          2  usage
          3  conflict: --expect-seq did not match, or an --id was reused
          4  integrity failure
          5  I/O or environment: no log, permission, disk full, lock timeout
        """

    var commands: [CommandSpec]
    var environment: [String: String]

    var formatter: HelpFormatter { HelpFormatter(commands: commands) }

    /// Parses `arguments` (without the program name), runs what they ask for and returns
    /// the exit code. Throws what the command throws, and `UsageError`s, with the
    /// command's name filled in; `report(_:)` prints them.
    func run(_ arguments: [String]) throws -> Int32 {
        switch try resolve(arguments) {
        case .help(let text):
            Output.write(text)
            return ExitStatus.success
        case .version:
            Output.writeLine("\(HelpFormatter.toolName) \(RecoveryCtlVersion.string)")
            Output.writeLine("SHA-256: \(SHA256.implementation)")
            return ExitStatus.success
        case .run(let command, let invocation):
            do {
                return try command.run(invocation)
            } catch var error as UsageError {
                if error.commandName == nil { error.commandName = command.name }
                throw error
            }
        }
    }

    /// What `arguments` ask for; throws the first `UsageError` found, unless help or
    /// the version was asked for anywhere on the line.
    func resolve(_ arguments: [String]) throws -> Outcome {
        let globalParser = CommandLineParser(options: OptionSpec.globals, commandName: nil)
        var parsed = CommandLineParser.Result()
        globalParser.parse(arguments[...], stopAtFirstPositional: true, into: &parsed)
        var rest = arguments[parsed.stopIndex...]

        if parsed.flags.contains("version") { return .version }
        if rest.first == "--" { rest = rest.dropFirst() }
        guard let name = rest.first else {
            if let error = parsed.firstError, !parsed.flags.contains("help") { throw error }
            return .help(topLevelHelp)
        }
        if name == "help" {
            return try helpCommand(Array(rest.dropFirst()))
        }
        guard let command = command(named: name) else {
            // After a bad option, the next word may be its value rather than a command.
            throw parsed.firstError ?? unknownCommand(name)
        }
        // After `recoveryctl -- NAME`, everything is positional.
        var commandTokens = Array(rest.dropFirst())
        if arguments[parsed.stopIndex...].first == "--" { commandTokens.insert("--", at: 0) }

        let parser = CommandLineParser(
            options: command.options + OptionSpec.globals, commandName: command.name)
        parser.parse(commandTokens[...], into: &parsed)
        if parsed.flags.contains("help") { return .help(formatter.help(for: command)) }
        if parsed.flags.contains("version") { return .version }
        if let error = parsed.firstError { throw error }
        try validate(parsed, for: command)

        let logPath =
            parsed.optionValues["log"]?.last
            ?? environment["RECOVERY_LOG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "log"
        let invocation = Invocation(
            commandName: command.name,
            positionals: parsed.positionals,
            logPath: logPath,
            json: parsed.flags.contains("json"),
            environment: environment,
            spec: command,
            optionValues: parsed.optionValues,
            flags: parsed.flags)
        return .run(command, invocation)
    }

    var topLevelHelp: String {
        formatter.topLevelHelp(abstract: Self.abstract, discussion: Self.discussion)
    }

    func command(named name: String) -> CommandSpec? {
        commands.first { $0.name == name }
    }

    /// `recoveryctl help [COMMAND]`; options after `help` are ignored.
    private func helpCommand(_ tokens: [String]) throws -> Outcome {
        let names = tokens.filter { !$0.hasPrefix("-") }
        guard let name = names.first, name != "help" else { return .help(topLevelHelp) }
        guard let command = command(named: name) else { throw unknownCommand(name) }
        if names.count > 1 { throw unexpected(Array(names.dropFirst()), commandName: nil) }
        return .help(formatter.help(for: command))
    }

    /// Checks what the parser cannot: the number of positionals, required options and
    /// allowed values.
    private func validate(_ parsed: CommandLineParser.Result, for command: CommandSpec) throws {
        let required = command.arguments.filter { !$0.isOptional }
        if parsed.positionals.count < required.count {
            let missing = required[parsed.positionals.count]
            throw UsageError(
                "Missing expected argument '\(missing.label)'",
                help: "\(missing.label)  \(missing.help)",
                commandName: command.name)
        }
        if !command.arguments.contains(where: \.isRepeating),
            parsed.positionals.count > command.arguments.count
        {
            throw unexpected(
                Array(parsed.positionals.dropFirst(command.arguments.count)),
                commandName: command.name)
        }
        for option in command.options {
            let values = parsed.optionValues[option.long] ?? []
            if option.isRequired, values.isEmpty {
                throw UsageError(
                    "Missing expected argument '\(option.synopsis)'",
                    help: "\(option.synopsis)  \(option.help)",
                    commandName: command.name)
            }
            if let allowed = option.allowedValues,
                let value = values.first(where: { !allowed.contains($0) })
            {
                throw UsageError(
                    "The value '\(value)' is invalid for '\(option.synopsis)'. "
                        + "Please provide one of \(Self.quotedList(allowed)).",
                    help: "\(option.synopsis)  \(option.help)",
                    commandName: command.name)
            }
        }
    }

    private func unknownCommand(_ name: String) -> UsageError {
        var message = "Unknown command '\(name)'"
        if let suggestion = Suggestions.closest(
            to: name, among: commands.filter { !$0.isHidden }.map(\.name)) {
            message += ". Did you mean '\(suggestion)'?"
        }
        return UsageError(message)
    }

    private func unexpected(_ values: [String], commandName: String?) -> UsageError {
        if values.count == 1 {
            return UsageError("Unexpected argument '\(values[0])'", commandName: commandName)
        }
        let list = values.joined(separator: "', '")
        return UsageError("\(values.count) unexpected arguments: '\(list)'", commandName: commandName)
    }

    /// `'a'`, `'a' and 'b'`, `'a', 'b' or 'c'`.
    private static func quotedList(_ values: [String]) -> String {
        let quoted = values.map { "'\($0)'" }
        guard quoted.count > 2, let last = quoted.last else {
            return quoted.joined(separator: " and ")
        }
        return quoted.dropLast().joined(separator: ", ") + " or " + last
    }

    // MARK: Reporting

    /// Prints `error` to stderr the way its kind asks for and returns the exit code:
    /// `UsageError` with the usage line (2), `CLIFailure` with its hint (its code),
    /// anything else as `Error: <description>` (5).
    func report(_ error: any Error) -> Int32 {
        switch error {
        case let error as UsageError:
            var text = "Error: \(error.message)\n"
            if let help = error.help, !help.isEmpty {
                text += "Help:  \(help)\n"
            }
            let spec = error.commandName.flatMap { self.command(named: $0) }
            text += formatter.usage(for: spec, prefix: "Usage:") + "\n"
            let helpTarget = [HelpFormatter.toolName, spec?.name].compactMap { $0 }
                .joined(separator: " ")
            text += "  See '\(helpTarget) --help' for more information.\n"
            Output.write(text, to: .stderr)
            return ExitStatus.usage
        case let error as CLIFailure:
            var text = "Error: \(error.message)\n"
            if let hint = error.hint, !hint.isEmpty {
                text += hint + "\n"
            }
            Output.write(text, to: .stderr)
            return error.exitCode
        case let error as any CLIFailureConvertible:
            return report(error.cliFailure)
        default:
            Output.write("Error: \(String(describing: error))\n", to: .stderr)
            return ExitStatus.environment
        }
    }
}
