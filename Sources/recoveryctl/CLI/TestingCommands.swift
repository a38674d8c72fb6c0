import EventStore

/// Hidden commands that let the end-to-end tests reach the parser, the error
/// reporting and `Table` without depending on any real command.
extension CommandSpec {
    /// The hidden commands, for the dispatcher's table.
    static let testingCommands: [CommandSpec] = [.parseCheck, .tableCheck]

    /// `recoveryctl _parse`: a hidden command that prints how its arguments parsed, as
    /// JSON, and can fail on request. It lets the end-to-end tests check the parser and
    /// the error reporting without depending on any real command.
    static let parseCheck = CommandSpec(
        name: "_parse",
        abstract: "Print how the arguments parse (for tests).",
        arguments: [
            ArgumentSpec("first", help: "A positional.", optional: true),
            ArgumentSpec("rest", help: "More positionals.", optional: true, repeating: true),
        ],
        options: [
            .value("value", short: "v", valueName: "value", help: "A value option.", repeating: true),
            .value("number", valueName: "n", help: "A whole number."),
            .value("choice", valueName: "choice", help: "One of a, b.", allowedValues: ["a", "b"], defaultValue: "a"),
            .flag("flag", short: "f", help: "A flag."),
            .flag("other", short: "o", help: "Another flag."),
            .value(
                "fail", valueName: "kind",
                help: "Throw instead: usage, invalid-value, failure, convertible or other.",
                allowedValues: ["usage", "invalid-value", "failure", "convertible", "other"]),
        ] + OptionSpec.timeTravel,
        isHidden: true,
        run: ParseCheck.run)
}

extension CommandSpec {
    /// `recoveryctl _table HEADER ROW…`: renders a `Table` whose cells are separated
    /// by `|`; `--align` gives one `l` or `r` per column.
    static let tableCheck = CommandSpec(
        name: "_table",
        abstract: "Render a table (for tests).",
        arguments: [
            ArgumentSpec("header", help: "The header cells, separated by '|'."),
            ArgumentSpec("row", help: "A row's cells, separated by '|'.", optional: true, repeating: true),
        ],
        options: [
            .value("width", valueName: "n", help: "The width to fit; 0 for no limit.", defaultValue: "80"),
            .value("align", valueName: "lr…", help: "One l or r per column."),
        ],
        isHidden: true,
        run: { invocation in
            func cells(_ text: String) -> [String] {
                text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            }
            let header = cells(invocation.argument("header") ?? "")
            let alignments = invocation.value("align").map { letters in
                letters.map { $0 == "r" ? Table.Alignment.right : .left }
            }
            guard alignments == nil || alignments?.count == header.count else {
                try invocation.usageError("--align needs one letter per column")
            }
            var table = Table(header, alignments: alignments)
            for row in invocation.arguments("row") {
                let rowCells = cells(row)
                guard rowCells.count == header.count else {
                    try invocation.usageError("row '\(row)' has \(rowCells.count) cells, not \(header.count)")
                }
                table.append(rowCells)
            }
            let width = try invocation.integer("width", in: 0...Int.max) ?? 80
            Output.write(table.rendered(width: width == 0 ? nil : width))
            return ExitStatus.success
        })
}

private enum ParseCheck {
    struct Parsed {
        var command: String
        var positionals: [String]
        var first: String?
        var rest: [String]
        var logPath: String
        var json: Bool
        var values: [String]
        var number: Int?
        var choice: String?
        var choiceGiven: Bool
        var flag: Bool
        var other: Bool
        var asOf: String?
        var validAt: String?

        /// As JSON, keys sorted, members that are nil left out.
        var document: JSONValue {
            func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }
            var object = JSONObject([
                "command": .string(command), "positionals": strings(positionals), "rest": strings(rest),
                "logPath": .string(logPath), "json": .bool(json), "values": strings(values),
                "choiceGiven": .bool(choiceGiven), "flag": .bool(flag), "other": .bool(other),
            ])
            object["first"] = first.map(JSONValue.string)
            object["number"] = number.map(JSONValue.integer)
            object["choice"] = choice.map(JSONValue.string)
            object["asOf"] = asOf.map(JSONValue.string)
            object["validAt"] = validAt.map(JSONValue.string)
            return .object(object)
        }
    }

    struct Convertible: CLIFailureConvertible {
        var cliFailure: CLIFailure { .conflict("converted failure", hint: nil) }
    }

    struct Other: Error, CustomStringConvertible {
        var description: String { "some other error" }
    }

    static func run(_ invocation: Invocation) throws -> Int32 {
        switch invocation.value("fail") {
        case "usage":
            try invocation.usageError("requested usage error")
        case "invalid-value":
            throw invocation.invalidValue("x", for: "number", reason: "requested")
        case "failure":
            throw CLIFailure.integrity("requested failure", hint: "Run 'recoveryctl verify'.")
        case "convertible":
            throw Convertible()
        case "other":
            throw Other()
        default:
            break
        }
        let parsed = Parsed(
            command: invocation.commandName,
            positionals: invocation.positionals,
            first: invocation.argument("first"),
            rest: invocation.arguments("rest"),
            logPath: invocation.logPath,
            json: invocation.json,
            values: invocation.values("value"),
            number: try invocation.integer("number", in: 1...Int.max),
            choice: invocation.value("choice"),
            choiceGiven: invocation.isGiven("choice"),
            flag: invocation.flag("flag"),
            other: invocation.flag("other"),
            asOf: invocation.asOf,
            validAt: invocation.validAt)
        Output.writeLine(CanonicalJSON.string(parsed.document))
        return ExitStatus.success
    }
}
