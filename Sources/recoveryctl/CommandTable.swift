/// The namespace of the command implementations: one `static func NAME(_:) throws ->
/// Int32` per command, each in its own file under `Commands/`.
enum Commands {}

/// Every subcommand of `recoveryctl` (SPEC §6), in the order the help lists them.
enum CommandTable {
    static let all: [CommandSpec] = [
        initCommand, append, importCommand, correct, retract,
        log, show, state, kpi, audit, verify, head, report, erase, types,
    ]

    // MARK: Options shared by the writing commands

    static let actor = OptionSpec.value(
        "actor", valueName: "actor",
        help: "Who records it. (default: $RECOVERY_ACTOR, else the login name)")

    static let source = OptionSpec.value(
        "source", valueName: "source",
        help: "Where the fact comes from: a document and section, a page, minutes.")

    static let expectSeq = OptionSpec.value(
        "expect-seq", valueName: "n",
        help: "Refuse (exit 3) unless the log's last event is seq N.")

    static let reason = OptionSpec.value(
        "reason", valueName: "reason", help: "Why; kept in the log.", required: true)

    // MARK: Writing

    static let initCommand = CommandSpec(
        name: "init",
        abstract: "Create an empty log.",
        discussion: """
            Creates the log directory (--log, else $RECOVERY_LOG, else ./log) with its \
            manifest.json. Refuses if a log already exists there.
            """,
        options: [
            .value(
                "time-zone", valueName: "tz",
                help: "The time zone of plain dates such as --occurred 2021-03-01, as an IANA name.",
                defaultValue: "Europe/Copenhagen"),
            .value(
                "segment-size", valueName: "bytes",
                help: "Start a new events file once the current one passes this size.",
                defaultValue: "67108864"),
        ],
        examples: [
            Example("Create a log in ./log:", "recoveryctl init"),
            Example("Create a log elsewhere:", "recoveryctl --log /srv/recovery/log init"),
        ],
        run: { try Commands.initLog($0) })

    static let append = CommandSpec(
        name: "append",
        abstract: "Validate one event and append it to the log.",
        discussion: """
            The data is given as key=value pairs, or as a JSON object with --data, or \
            both. Values are typed by the catalog: integer members as integers, lists \
            and objects as JSON, every other member as the text typed. A text \
            (text=…) is kept out of the log line, in attachments/; text=@FILE reads it \
            from FILE.

            The event is checked against the catalog and the log (see 'recoveryctl \
            types'); a refusal names the member and why, and nothing is written (exit \
            1). Prints the new event's seq and hash once it is on disk.
            """,
        arguments: [
            ArgumentSpec("type", help: "The event type (see 'recoveryctl types')."),
            ArgumentSpec(
                "key=value", help: "A data member and its value.", optional: true, repeating: true),
        ],
        options: [
            .value(
                "data", valueName: "json",
                help: "The data as a JSON object, or @FILE to read it from a file."),
            .value(
                "occurred", valueName: "date",
                help: """
                    When it happened: YYYY-MM-DD, or a date-time with Z or an offset. \
                    (default: today in the log's time zone)
                    """),
            source,
            .value(
                "id", valueName: "uuid",
                help: """
                    The event's id (lower case). Appending the same id with the same \
                    content again changes nothing and prints the existing seq.
                    """),
            expectSeq,
            actor,
        ],
        examples: [
            Example(
                "Hire a peer into a team from 1 March 2021:",
                "recoveryctl append staff.hired person=peer-04 role=peer team=bosteder-peers --occurred 2021-03-01"),
            Example(
                "Establish a team, with lists and objects as JSON:",
                """
                recoveryctl append team.established team=bosteder-peers name='Bosteder peers' \
                kind=peer-team units='["bosteder"]' plan='{"peers":4,"professionals":1}' \
                --source 'Projektbeskrivelse 2020, section 3'
                """),
            Example(
                "Record minutes from a file, sealed with the head read out at the meeting:",
                """
                recoveryctl append minutes.recorded meeting=steering-2021-06 text=@minutes.txt \
                seal="$(recoveryctl head)"
                """),
        ],
        run: { try Commands.append($0) })

    static let importCommand = CommandSpec(
        name: "import",
        abstract: "Append many events from a file, all or nothing.",
        discussion: """
            The file holds JSON lines, one object per event: {"type", "data", and \
            optionally "occurred", "id", "source"}; or CSV with a header row, one column \
            per data member plus optional occurred and source columns, with --type \
            naming the type of every row.

            Every event is checked against the log and the events before it in the \
            file. If any is refused, nothing is written (exit 1) and every refusal is \
            listed with its line. Otherwise all are appended with one fsync. A progress \
            bar shows on a terminal.
            """,
        arguments: [
            ArgumentSpec("file", help: "The file to import; '-' reads standard input.")
        ],
        options: [
            .value("type", valueName: "type", help: "The event type of every row of a CSV file."),
            .flag("dry-run", help: "Check every event and write nothing."),
            actor,
        ],
        examples: [
            Example("Import a history kept as JSON lines:", "recoveryctl import history.jsonl"),
            Example(
                "Check a CSV of attendance counts without writing:",
                "recoveryctl import attendance.csv --type attendance.counted --dry-run"),
        ],
        run: { try Commands.importEvents($0) })

    static let correct = CommandSpec(
        name: "correct",
        abstract: "Append a correction of an earlier event.",
        discussion: """
            The original stays in the log. From the correction's recorded time on, reads \
            see the given data members (and --occurred) in place of the original's; \
            several corrections apply in order. The corrected data must still be valid \
            for the event's type. Give at least one key=value or --occurred.
            """,
        arguments: [
            ArgumentSpec("id", help: "The id of the event to correct."),
            ArgumentSpec(
                "key=value", help: "A data member and its corrected value.",
                optional: true, repeating: true),
        ],
        options: [
            .value("occurred", valueName: "date", help: "The corrected date or date-time it happened."),
            reason,
            source,
            expectSeq,
            actor,
        ],
        examples: [
            Example(
                "Correct a headcount that was typed wrong:",
                """
                recoveryctl correct 1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b headcount=42 \
                --reason 'Typo; the 2021 annual report says 42'
                """),
            Example(
                "Move a hiring to the right date:",
                """
                recoveryctl correct 1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b --occurred 2021-04-01 \
                --reason 'Contract start was 1 April'
                """),
        ],
        run: { try Commands.correct($0) })

    static let retract = CommandSpec(
        name: "retract",
        abstract: "Append a retraction: the event counts for nothing from then on.",
        discussion: """
            The original stays in the log and reads --as-of a time before the \
            retraction still see it. A retracted event cannot be corrected or retracted \
            again.
            """,
        arguments: [ArgumentSpec("id", help: "The id of the event to retract.")],
        options: [reason, source, expectSeq, actor],
        examples: [
            Example(
                "Retract an event recorded twice:",
                "recoveryctl retract 1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b --reason 'Duplicate of seq 41'"),
        ],
        run: { try Commands.retract($0) })

    static let erase = CommandSpec(
        name: "erase",
        abstract: "Erase one text from the attachments.",
        discussion: """
            Deletes the attachment file and appends a text.erased event. The log \
            still verifies; reads show the text as erased. Use it when a text holds \
            something that must not be kept, such as a name.
            """,
        arguments: [ArgumentSpec("ref", help: "The text's reference: sha256- and 64 hex digits.")],
        options: [reason, source, actor],
        examples: [
            Example(
                "Erase minutes that named a citizen:",
                "recoveryctl erase sha256-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 --reason 'Names a citizen'"),
        ],
        run: { try Commands.erase($0) })

    // MARK: Reading

    static let log = CommandSpec(
        name: "log",
        abstract: "List events.",
        discussion: """
            With --json, prints one JSON line per event, exactly as stored.
            """,
        options: [
            .value("type", valueName: "type", help: "Only events of this type."),
            .value("stream", valueName: "stream", help: "Only events of this stream, e.g. team/bosteder-peers."),
            .value("from", valueName: "seq", help: "Start at this seq."),
            .value("limit", short: "n", valueName: "n", help: "Show at most N events."),
        ] + OptionSpec.timeTravel,
        examples: [
            Example("The last hirings recorded:", "recoveryctl log --type staff.hired"),
            Example("Everything about one team:", "recoveryctl log --stream team/bosteder-peers"),
        ],
        run: { try Commands.log($0) })

    static let show = CommandSpec(
        name: "show",
        abstract: "Show one event, with what corrects or retracts it.",
        arguments: [ArgumentSpec("id-or-seq", help: "An event id, or a seq.")],
        options: OptionSpec.timeTravel,
        examples: [Example("Show the first event:", "recoveryctl show 1")],
        run: { try Commands.show($0) })

    static let state = CommandSpec(
        name: "state",
        abstract: "Show the project's state: units, teams, bodies, handovers, trainings, milestones, targets.",
        options: OptionSpec.timeTravel,
        examples: [
            Example("The state today:", "recoveryctl state"),
            Example(
                "What the record said on 30 June 2021 about 31 March 2021:",
                "recoveryctl state --as-of 2021-06-30 --valid-at 2021-03-31"),
        ],
        run: { try Commands.state($0) })

    static let kpi = CommandSpec(
        name: "kpi",
        abstract: "Compute the key figures against their targets.",
        discussion: """
            One row per KPI, scope and period, with the actual value, the target and \
            whether it is met (empty while the period is still running).
            """,
        options: OptionSpec.timeTravel,
        examples: [
            Example("The figures today:", "recoveryctl kpi"),
            Example("The figures at the end of 2021, as JSON:", "recoveryctl kpi --valid-at 2021-12-31 --json"),
        ],
        run: { try Commands.kpi($0) })

    static let audit = CommandSpec(
        name: "audit",
        abstract: "Show the full history of a stream or an event.",
        discussion: """
            Every event in seq order with its recorded and occurred times, actor, type, \
            id, source and a summary, and which events correct or retract it.
            """,
        arguments: [
            ArgumentSpec(
                "stream-or-id", help: "A stream such as person/peer-04, or an event id. (default: the whole log)",
                optional: true)
        ],
        options: OptionSpec.timeTravel,
        examples: [Example("Everything recorded about one person:", "recoveryctl audit person/peer-04")],
        run: { try Commands.audit($0) })

    static let verify = CommandSpec(
        name: "verify",
        abstract: "Check every line, hash and attachment of the log.",
        discussion: """
            Names the first bad seq, file and line, and exits 4 on any failure. A torn \
            tail (an unfinished last write) is reported but is not a failure.
            """,
        options: [
            .value(
                "expect-head", valueName: "seq:hash",
                help: "Also prove that this head, read out earlier, is still in the log."),
        ],
        examples: [
            Example("Check the log:", "recoveryctl verify"),
            Example(
                "Check that the seal read into the minutes is still in the log:",
                "recoveryctl verify --expect-head 1042:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        ],
        run: { try Commands.verify($0) })

    static let head = CommandSpec(
        name: "head",
        abstract: "Print SEQ:HASH of the last event: the seal to read into minutes.",
        options: OptionSpec.timeTravel,
        run: { try Commands.head($0) })

    static let report = CommandSpec(
        name: "report",
        abstract: "Write the evaluation report.",
        discussion: """
            One self-contained file: HTML with inline charts, Markdown, or CSV of the \
            KPI rows. The footer states the log head, --as-of, --valid-at and the \
            version of recoveryctl.
            """,
        options: [
            .value(
                "format", valueName: "format", help: "The file format.",
                allowedValues: ["html", "md", "csv"], defaultValue: "html"),
            .value(
                "lang", valueName: "lang", help: "The language.",
                allowedValues: ["da", "en"], defaultValue: "da"),
            .value("out", short: "o", valueName: "file", help: "Write to FILE instead of standard output."),
        ] + OptionSpec.timeTravel,
        examples: [
            Example("The report in English as of the end of 2021:", "recoveryctl report --lang en --valid-at 2021-12-31 -o report-2021.html"),
        ],
        run: { try Commands.report($0) })

    static let types = CommandSpec(
        name: "types",
        abstract: "List the event types and their data members.",
        run: { try Commands.types($0) })
}
