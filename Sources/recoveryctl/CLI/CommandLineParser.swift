/// Splits command-line tokens into options, flags and positionals against a list of
/// option specs.
///
/// Syntax: `--name value`, `--name=value`, `-x value`, `-xvalue`, clustered short flags
/// (`-ab`), and `--` after which everything is positional. The token after a value
/// option is its value even when it starts with `-`, unless it is `--` or one of the
/// options' own names (then the value is missing). A lone `-` and tokens such as `-5`
/// (no option has the short name `5`) are positionals.
///
/// Parsing does not stop at the first mistake: the first one is kept in `firstError`,
/// so that `--help` anywhere on the line still wins.
struct CommandLineParser {
    struct Result {
        var positionals: [String] = []
        var optionValues: [String: [String]] = [:]
        var flags: Set<String> = []
        var firstError: UsageError?
        /// Where parsing stopped (only before `endIndex` with `stopAtFirstPositional`).
        var stopIndex: Int = 0

        mutating func record(_ error: UsageError) {
            if firstError == nil { firstError = error }
        }
    }

    /// Every option accepted here, global ones included.
    var options: [OptionSpec]
    /// For error messages; `nil` at the top level.
    var commandName: String?

    /// Parses `tokens`, merging into `result`. With `stopAtFirstPositional`, stops at
    /// the first positional (the subcommand's name) or `--`, and leaves it unconsumed.
    func parse(
        _ tokens: ArraySlice<String>,
        stopAtFirstPositional: Bool = false,
        into result: inout Result
    ) {
        var index = tokens.startIndex
        var afterTerminator = false
        defer { result.stopIndex = index }

        func takeValue(for option: OptionSpec, name: String) {
            if index < tokens.endIndex, !isOptionName(tokens[index]) {
                result.optionValues[option.long, default: []].append(tokens[index])
                index += 1
            } else {
                result.record(missingValue(option, as: name))
            }
        }

        while index < tokens.endIndex {
            let token = tokens[index]
            if token == "--", stopAtFirstPositional, !afterTerminator { return }
            if afterTerminator || !looksLikeOption(token) {
                if stopAtFirstPositional { return }
                result.positionals.append(token)
                index += 1
                continue
            }
            index += 1
            if token == "--" {
                afterTerminator = true
                continue
            }
            if token.hasPrefix("--") {
                let body = token.dropFirst(2)
                let name: Substring
                let inlineValue: Substring?
                if let equals = body.firstIndex(of: "=") {
                    name = body[..<equals]
                    inlineValue = body[body.index(after: equals)...]
                } else {
                    name = body
                    inlineValue = nil
                }
                guard let option = options.first(where: { $0.long == name }) else {
                    result.record(unknownOption("--\(name)"))
                    continue
                }
                switch (option.kind, inlineValue) {
                case (.flag, nil):
                    result.flags.insert(option.long)
                case (.flag, let value?):
                    result.record(
                        UsageError(
                            "The option '--\(option.long)' does not take any value, but '\(value)' was specified.",
                            commandName: commandName))
                case (.value, let value?):
                    result.optionValues[option.long, default: []].append(String(value))
                case (.value, nil):
                    takeValue(for: option, name: "--\(option.long)")
                }
                continue
            }
            // One or more short options: -x, -xVALUE, -x=VALUE, -abc.
            var rest = token.dropFirst()
            while let letter = rest.first {
                rest = rest.dropFirst()
                guard let option = options.first(where: { $0.short == letter }) else {
                    result.record(unknownOption("-\(letter)"))
                    break
                }
                if option.kind == .flag {
                    result.flags.insert(option.long)
                    continue
                }
                if rest.isEmpty {
                    takeValue(for: option, name: "-\(letter)")
                } else {
                    let value = rest.hasPrefix("=") ? rest.dropFirst() : rest
                    result.optionValues[option.long, default: []].append(String(value))
                }
                break
            }
        }
    }

    /// Whether `token` is parsed as an option (or `--`) rather than as a positional.
    func looksLikeOption(_ token: String) -> Bool {
        guard token.hasPrefix("-"), token.count > 1 else { return false }
        if token.hasPrefix("--") { return true }
        // `-5` is a positional unless some option is called `-5`.
        let letter = token[token.index(after: token.startIndex)]
        if letter.isNumber { return options.contains { $0.short == letter } }
        return true
    }

    /// Whether `token` names one of the options (so it cannot be the value before it).
    private func isOptionName(_ token: String) -> Bool {
        if token == "--" { return true }
        if token.hasPrefix("--") {
            let name = token.dropFirst(2).prefix { $0 != "=" }
            return options.contains { $0.long == name }
        }
        if token.hasPrefix("-"), token.count == 2, let letter = token.last {
            return options.contains { $0.short == letter }
        }
        return false
    }

    private func unknownOption(_ name: String) -> UsageError {
        var message = "Unknown option '\(name)'"
        if name.hasPrefix("--") {
            let longNames = options.map(\.long)
            if let suggestion = Suggestions.closest(to: String(name.dropFirst(2)), among: longNames) {
                message += ". Did you mean '--\(suggestion)'?"
            }
        }
        return UsageError(message, commandName: commandName)
    }

    private func missingValue(_ option: OptionSpec, as name: String) -> UsageError {
        UsageError(
            "Missing value for '\(name) <\(option.valueName)>'",
            help: "\(name) <\(option.valueName)>  \(option.help)",
            commandName: commandName)
    }
}
