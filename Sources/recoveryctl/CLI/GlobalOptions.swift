/// The options every command accepts, before or after its name, and the options
/// shared by groups of commands.
extension OptionSpec {
    /// `--log <dir>`: the log directory.
    static let log = OptionSpec.value(
        "log", valueName: "dir",
        help: "The log directory. (default: $RECOVERY_LOG or ./log)")

    /// `--json`: machine output.
    static let json = OptionSpec.flag(
        "json", help: "Print machine-readable JSON instead of a table.")

    /// `--version`: print the version and exit.
    static let version = OptionSpec.flag("version", help: "Show the version.")

    /// `-h`, `--help`: print the command's help and exit.
    static let help = OptionSpec.flag("help", short: "h", help: "Show help information.")

    /// The options the dispatcher adds to every command, in help order.
    static let globals: [OptionSpec] = [.log, .json, .version, .help]

    /// `--as-of <time>`: read the log as it was recorded at a time (SPEC §4).
    static let asOf = OptionSpec.value(
        "as-of", valueName: "time",
        help: """
            Only events recorded by this time: what the record said then. A date \
            means the end of that day in the log's time zone.
            """)

    /// `--valid-at <date>`: facts as they stood in the world at a time (SPEC §4).
    static let validAt = OptionSpec.value(
        "valid-at", valueName: "date",
        help: """
            Only facts that had occurred by this date or time: what was true then. \
            (default: now)
            """)

    /// The time-travel options of every read command.
    static let timeTravel: [OptionSpec] = [.asOf, .validAt]
}
