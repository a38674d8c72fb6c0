/// One subcommand of `recoveryctl`: what it is called, what it accepts, how its help
/// reads, and the function that runs it.
///
/// The global options (`--log`, `--json`, `--help`, `--version`) are added by the
/// dispatcher; `options` holds only the command's own.
struct CommandSpec: Sendable {
    /// The word after `recoveryctl`.
    var name: String
    /// One line, shown after `OVERVIEW:` and in the top-level `SUBCOMMANDS` list.
    var abstract: String
    /// Paragraphs shown under the abstract; `\n` breaks lines, `\n\n` paragraphs.
    var discussion: String?
    /// Replaces the generated synopsis after `USAGE:`, without the tool name.
    var usage: String?
    /// Positional arguments, in order: required ones first, at most one repeating, last.
    var arguments: [ArgumentSpec]
    /// The command's own options, in the order the help lists them.
    var options: [OptionSpec]
    /// Worked examples, shown in an `EXAMPLES` section of the help.
    var examples: [Example]
    /// Runs when named, but is left out of the top-level help and of suggestions.
    var isHidden: Bool
    /// Runs the command; returns its exit code. Throw `UsageError` or `CLIFailure`.
    var run: @Sendable (Invocation) throws -> Int32

    init(
        name: String,
        abstract: String,
        discussion: String? = nil,
        usage: String? = nil,
        arguments: [ArgumentSpec] = [],
        options: [OptionSpec] = [],
        examples: [Example] = [],
        isHidden: Bool = false,
        run: @escaping @Sendable (Invocation) throws -> Int32
    ) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.usage = usage
        self.arguments = arguments
        self.options = options
        self.examples = examples
        self.isHidden = isHidden
        self.run = run
    }
}

/// A positional argument, shown as `<name>`.
struct ArgumentSpec: Sendable, Equatable {
    var name: String
    var help: String
    var isOptional: Bool
    /// Takes all the remaining positionals; only the last argument may repeat.
    var isRepeating: Bool

    init(_ name: String, help: String, optional: Bool = false, repeating: Bool = false) {
        self.name = name
        self.help = help
        self.isOptional = optional
        self.isRepeating = repeating
    }

    /// `<name>` as in help and error messages.
    var label: String { "<\(name)>" }
}

/// A named option: a flag (`--json`) or one that takes a value (`--limit <n>`).
struct OptionSpec: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case flag
        case value
    }

    /// The long name without dashes: `limit` for `--limit`.
    var long: String
    /// The short name without the dash: `n` for `-n`.
    var short: Character?
    var kind: Kind
    /// Shown as `<valueName>`; unused for flags.
    var valueName: String
    var help: String
    /// May be given more than once; every value is kept (`Invocation.values`).
    var isRepeating: Bool
    /// Must be given; the parser reports `Missing expected argument` otherwise.
    var isRequired: Bool
    /// The only values accepted, shown in the help as `(values: …)`.
    var allowedValues: [String]?
    /// Returned by `Invocation.value` when the option is absent; shown as `(default: …)`.
    var defaultValue: String?

    /// An option that takes a value.
    static func value(
        _ long: String,
        short: Character? = nil,
        valueName: String,
        help: String,
        repeating: Bool = false,
        required: Bool = false,
        allowedValues: [String]? = nil,
        defaultValue: String? = nil
    ) -> OptionSpec {
        OptionSpec(
            long: long, short: short, kind: .value, valueName: valueName, help: help,
            isRepeating: repeating, isRequired: required, allowedValues: allowedValues,
            defaultValue: defaultValue)
    }

    /// An option that takes no value.
    static func flag(_ long: String, short: Character? = nil, help: String) -> OptionSpec {
        OptionSpec(
            long: long, short: short, kind: .flag, valueName: "", help: help,
            isRepeating: false, isRequired: false, allowedValues: nil, defaultValue: nil)
    }

    /// `--long <value>` (or `--long` for a flag), as in usage lines and error messages.
    var synopsis: String {
        kind == .flag ? "--\(long)" : "--\(long) <\(valueName)>"
    }

    /// `-s, --long <value>`, as in the help's option list.
    var helpLabel: String {
        let names = short.map { "-\($0), --\(long)" } ?? "--\(long)"
        return kind == .flag ? names : "\(names) <\(valueName)>"
    }
}

/// A worked example in a command's help: what it does, then the command line.
struct Example: Sendable, Equatable {
    var summary: String
    var command: String

    init(_ summary: String, _ command: String) {
        self.summary = summary
        self.command = command
    }
}
