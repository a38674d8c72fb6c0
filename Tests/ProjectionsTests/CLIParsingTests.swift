import Foundation
import XCTest

/// The command line as a user meets it: help, version, parsing and errors, checked by
/// running the built `recoveryctl` and comparing its output and exit code.
///
/// The hidden commands `_parse` and `_table` echo what the parser and `Table` produced,
/// so these tests do not depend on any real command's behaviour.
final class CLIParsingTests: XCTestCase {
    static let commands = [
        "init", "append", "import", "correct", "retract", "log", "show", "state", "kpi",
        "audit", "verify", "head", "report", "erase", "types",
    ]

    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(prefix: "cli-parsing")
    }

    private func run(_ args: [String], env: [String: String] = [:]) -> (status: Int32, stdout: String, stderr: String) {
        runCLI(args, env: env, cwd: directory.url)
    }

    /// What `_parse` reports.
    private struct Parsed: Decodable, Equatable {
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
    }

    private func parse(
        _ args: [String], env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line
    ) throws -> Parsed {
        let result = run(["_parse"] + args, env: env)
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        XCTAssertEqual(result.stderr, "", file: file, line: line)
        return try JSONDecoder().decode(Parsed.self, from: Data(result.stdout.utf8))
    }

    // MARK: Help

    func testTheBinaryIsBuiltForTheTests() {
        XCTAssertNotNil(CLIExecutable.url, CLIExecutable.notFoundMessage)
    }

    func testNoArgumentsPrintsTheTopLevelHelpLikeHelpAndExitsZero() {
        let bare = run([])
        XCTAssertEqual(bare.status, 0)
        XCTAssertEqual(bare.stderr, "")
        XCTAssertTrue(bare.stdout.hasPrefix("OVERVIEW: "), bare.stdout)
        XCTAssertTrue(bare.stdout.contains("\nUSAGE: recoveryctl [--log <dir>] [--json] <subcommand>\n"))
        XCTAssertTrue(bare.stdout.contains("\nOPTIONS:\n  --log <dir>  "))
        XCTAssertTrue(bare.stdout.contains("\n  -h, --help              Show help information.\n"))
        XCTAssertTrue(bare.stdout.hasSuffix("\n\n  See 'recoveryctl help <subcommand>' for detailed help.\n"))
        let subcommands = bare.stdout.components(separatedBy: "\nSUBCOMMANDS:\n").last ?? ""
        for command in Self.commands {
            XCTAssertTrue(subcommands.contains("\n  \(command) ") || subcommands.hasPrefix("  \(command) "), command)
        }
        XCTAssertFalse(bare.stdout.contains("_parse"), "hidden commands stay hidden")

        for args in [["--help"], ["-h"], ["help"], ["--json", "--help"], ["help", "-h"]] {
            let result = run(args)
            XCTAssertEqual(result.status, 0, "\(args)")
            XCTAssertEqual(result.stdout, bare.stdout, "\(args)")
            XCTAssertEqual(result.stderr, "", "\(args)")
        }
    }

    func testEveryCommandPrintsTheSameHelpHoweverItIsAsked() {
        for command in Self.commands {
            let reference = run(["help", command])
            XCTAssertEqual(reference.status, 0, command)
            XCTAssertEqual(reference.stderr, "", command)
            XCTAssertTrue(reference.stdout.hasPrefix("OVERVIEW: "), command)
            XCTAssertTrue(reference.stdout.contains("\n\nUSAGE: recoveryctl \(command)"), command)
            XCTAssertTrue(reference.stdout.contains("\n  -h, --help              Show help information.\n"), command)
            XCTAssertTrue(reference.stdout.contains("\n  --json                  "), command)
            XCTAssertTrue(reference.stdout.hasSuffix("\n\n"), "ends with a blank line, as swift-argument-parser's")
            let variants = [
                [command, "--help"], [command, "-h"], ["--help", command], ["--log", "elsewhere", command, "-h"],
                [command, "--no-such-option", "--help"], ["help", command, "--help"],
            ]
            for args in variants {
                let result = run(args)
                XCTAssertEqual(result.status, 0, "\(args)")
                XCTAssertEqual(result.stdout, reference.stdout, "\(args)")
                XCTAssertEqual(result.stderr, "", "\(args)")
            }
        }
    }

    func testHelpFitsIn80Columns() {
        for args in [["help"]] + Self.commands.map({ ["help", $0] }) {
            for line in run(args).stdout.split(separator: "\n") {
                XCTAssertLessThanOrEqual(line.count, 80, "\(args): \(line)")
            }
        }
    }

    func testHelpLayoutMatchesSwiftArgumentParser() {
        let result = run(["_table", "--help"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(
            result.stdout,
            """
            OVERVIEW: Render a table (for tests).

            USAGE: recoveryctl _table <header> [<row> ...] [--width <n>] [--align <lr…>]
                   [--log <dir>] [--json]

            ARGUMENTS:
              <header>                The header cells, separated by '|'.
              <row>                   A row's cells, separated by '|'.

            OPTIONS:
              --width <n>             The width to fit; 0 for no limit. (default: 80)
              --align <lr…>           One l or r per column.
              --log <dir>             The log directory. (default: $RECOVERY_LOG or ./log)
              --json                  Print machine-readable JSON instead of a table.
              --version               Show the version.
              -h, --help              Show help information.


            """)
    }

    func testAppendHelpShowsArgumentsOptionsAndExamples() {
        let help = run(["append", "--help"]).stdout
        XCTAssertTrue(help.contains("\nUSAGE: recoveryctl append <type> [<key=value> ...] [--data <json>]"), help)
        XCTAssertTrue(help.contains("\nARGUMENTS:\n  <type>                  "), help)
        XCTAssertTrue(help.contains("\n  --expect-seq <n>        "), help)
        XCTAssertTrue(help.contains("\nEXAMPLES:\n"), help)
        XCTAssertTrue(help.contains("recoveryctl append staff.hired person=peer-04 role=peer"), help)
    }

    func testReadCommandsTakeTheTimeTravelOptions() {
        for command in ["log", "show", "state", "kpi", "audit", "head", "report"] {
            let help = run([command, "--help"]).stdout
            XCTAssertTrue(help.contains("\n  --as-of <time>  "), command)
            XCTAssertTrue(help.contains("\n  --valid-at <date>  "), command)
        }
        for command in ["init", "append", "verify", "types"] {
            XCTAssertFalse(run([command, "--help"]).stdout.contains("--as-of"), command)
        }
    }

    // MARK: Version

    func testVersionIsPrintedAnywhereOnTheLine() {
        for args in [["--version"], ["log", "--version"], ["--log", "x", "--version"], ["--version", "append"]] {
            let result = run(args)
            XCTAssertEqual(result.status, 0, "\(args)")
            XCTAssertTrue(result.stdout.hasPrefix("recoveryctl 0.1.0\nSHA-256: "), "\(args): \(result.stdout)")
            XCTAssertEqual(result.stderr, "", "\(args)")
        }
    }

    // MARK: Usage errors

    func testUnknownCommandSuggestsTheClosestAndExitsTwo() {
        let result = run(["apend", "staff.hired"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(
            result.stderr,
            """
            Error: Unknown command 'apend'. Did you mean 'append'?
            Usage: recoveryctl [--log <dir>] [--json] <subcommand>
              See 'recoveryctl --help' for more information.

            """)
        XCTAssertEqual(run(["lgo"]).stderr.split(separator: "\n").first, "Error: Unknown command 'lgo'. Did you mean 'log'?")
        XCTAssertEqual(run(["veri"]).stderr.split(separator: "\n").first, "Error: Unknown command 'veri'. Did you mean 'verify'?")
        XCTAssertEqual(run(["help", "stat"]).stderr.split(separator: "\n").first, "Error: Unknown command 'stat'. Did you mean 'state'?")
        let far = run(["frobnicate"])
        XCTAssertEqual(far.status, 2)
        XCTAssertEqual(far.stderr.split(separator: "\n").first, "Error: Unknown command 'frobnicate'")
    }

    func testUnknownOptionSuggestsTheClosestAndExitsTwo() {
        let result = run(["log", "--lmit", "3"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stdout, "")
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.first, "Error: Unknown option '--lmit'. Did you mean '--limit'?")
        XCTAssertEqual(lines.dropFirst().first?.hasPrefix("Usage: recoveryctl log "), true, result.stderr)
        XCTAssertEqual(lines.suffix(2), ["  See 'recoveryctl log --help' for more information.", ""])

        XCTAssertEqual(
            run(["_parse", "--flg"]).stderr,
            """
            Error: Unknown option '--flg'. Did you mean '--flag'?
            Usage: recoveryctl _parse [<first>] [<rest> ...] [--value <value> ...]
                   [--number <n>] [--choice <choice>] [--flag] [--other] [--fail <kind>]
                   [--as-of <time>] [--valid-at <date>] [--log <dir>] [--json]
              See 'recoveryctl _parse --help' for more information.

            """)
        XCTAssertEqual(run(["_parse", "--val", "x"]).stderr.split(separator: "\n").first, "Error: Unknown option '--val'. Did you mean '--value'?")
        XCTAssertEqual(run(["_parse", "-z"]).stderr.split(separator: "\n").first, "Error: Unknown option '-z'")
        XCTAssertEqual(run(["--lgo", "x", "types"]).stderr.split(separator: "\n").first, "Error: Unknown option '--lgo'. Did you mean '--log'?")
        XCTAssertEqual(run(["_parse", "--zzzzzz"]).stderr.split(separator: "\n").first, "Error: Unknown option '--zzzzzz'")
    }

    func testMissingArgumentExitsTwoWithItsHelp() {
        let result = run(["append"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stdout, "")
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.first, "Error: Missing expected argument '<type>'")
        XCTAssertEqual(lines.dropFirst().first, "Help:  <type>  The event type (see 'recoveryctl types').")
        XCTAssertEqual(lines.last, "  See 'recoveryctl append --help' for more information.")

        let reason = run(["retract", "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b"])
        XCTAssertEqual(reason.status, 2)
        XCTAssertEqual(reason.stderr.split(separator: "\n").first, "Error: Missing expected argument '--reason <reason>'")
    }

    func testMissingValueExitsTwo() {
        for (args, message) in [
            (["log", "--limit"], "Error: Missing value for '--limit <n>'"),
            (["log", "-n"], "Error: Missing value for '-n <n>'"),
            (["--log"], "Error: Missing value for '--log <dir>'"),
            (["_parse", "--value", "--flag"], "Error: Missing value for '--value <value>'"),
            (["_parse", "--value", "--"], "Error: Missing value for '--value <value>'"),
        ] {
            let result = run(args)
            XCTAssertEqual(result.status, 2, "\(args)")
            XCTAssertEqual(result.stderr.split(separator: "\n").first.map(String.init), message, "\(args)")
        }
    }

    func testTooManyArgumentsExitTwo() {
        let one = run(["show", "1", "2"])
        XCTAssertEqual(one.status, 2)
        XCTAssertEqual(one.stderr.split(separator: "\n").first, "Error: Unexpected argument '2'")
        let two = run(["show", "1", "2", "3"])
        XCTAssertEqual(two.stderr.split(separator: "\n").first, "Error: 2 unexpected arguments: '2', '3'")
    }

    func testValuesOutsideTheAllowedOnesExitTwo() {
        let result = run(["report", "--format", "pdf"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(
            result.stderr.split(separator: "\n").first,
            "Error: The value 'pdf' is invalid for '--format <format>'. Please provide one of 'html', 'md' or 'csv'.")
        XCTAssertEqual(
            run(["_parse", "--choice", "c"]).stderr.split(separator: "\n").first,
            "Error: The value 'c' is invalid for '--choice <choice>'. Please provide one of 'a' and 'b'.")
    }

    func testAFlagGivenAValueExitsTwo() {
        let result = run(["_parse", "--json=yes"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(
            result.stderr.split(separator: "\n").first,
            "Error: The option '--json' does not take any value, but 'yes' was specified.")
    }

    // MARK: Option syntax

    func testOptionSyntax() throws {
        let parsed = try parse([
            "x", "--value", "a", "--value=b", "-v", "c", "-vd", "-v=e", "y", "-fo", "--number=7",
        ])
        XCTAssertEqual(parsed.positionals, ["x", "y"])
        XCTAssertEqual(parsed.first, "x")
        XCTAssertEqual(parsed.rest, ["y"])
        XCTAssertEqual(parsed.values, ["a", "b", "c", "d", "e"])
        XCTAssertEqual(parsed.number, 7)
        XCTAssertTrue(parsed.flag)
        XCTAssertTrue(parsed.other)
        XCTAssertEqual(parsed.choice, "a", "the default")
        XCTAssertFalse(parsed.choiceGiven)
    }

    func testValuesMayStartWithADash() throws {
        let parsed = try parse(["--value", "-1", "--value=--flag", "-v", "-x"])
        XCTAssertEqual(parsed.values, ["-1", "--flag", "-x"])
        XCTAssertFalse(parsed.flag)
    }

    func testDoubleDashEndsTheOptions() throws {
        let parsed = try parse(["a", "--", "--flag", "-v", "--help"])
        XCTAssertEqual(parsed.positionals, ["a", "--flag", "-v", "--help"])
        XCTAssertFalse(parsed.flag)
        XCTAssertEqual(try parse([]).positionals, [])
        let afterCommand = run(["--", "_parse", "--flag"])
        XCTAssertEqual(afterCommand.status, 0, afterCommand.stderr)
        XCTAssertTrue(afterCommand.stdout.contains(#""positionals":["--flag"]"#), afterCommand.stdout)
    }

    func testKeyValueFileReferencesAndNumbersArePlainPositionals() throws {
        let parsed = try parse(["person=peer-04", "text=@minutes.txt", "@data.json", "-5", "-", "name=a b"])
        XCTAssertEqual(parsed.positionals, ["person=peer-04", "text=@minutes.txt", "@data.json", "-5", "-", "name=a b"])
    }

    func testGlobalOptionsGoBeforeOrAfterTheCommand() throws {
        XCTAssertEqual(try parse([]).logPath, "log")
        XCTAssertEqual(try parse([], env: ["RECOVERY_LOG": "/srv/log"]).logPath, "/srv/log")
        XCTAssertEqual(try parse(["--log", "here"], env: ["RECOVERY_LOG": "/srv/log"]).logPath, "here")
        XCTAssertEqual(try parse(["--log=there"]).logPath, "there")

        let before = run(["--log", "first", "--json", "_parse", "p"])
        XCTAssertEqual(before.status, 0, before.stderr)
        let parsed = try JSONDecoder().decode(Parsed.self, from: Data(before.stdout.utf8))
        XCTAssertEqual(parsed.logPath, "first")
        XCTAssertTrue(parsed.json)
        XCTAssertEqual(parsed.positionals, ["p"])

        let both = run(["--log", "first", "_parse", "--log", "second"])
        XCTAssertEqual(try JSONDecoder().decode(Parsed.self, from: Data(both.stdout.utf8)).logPath, "second")
        XCTAssertTrue(try parse(["--json"]).json)
    }

    func testTimeTravelOptions() throws {
        let parsed = try parse(["--as-of", "2021-06-30", "--valid-at=2021-03-31"])
        XCTAssertEqual(parsed.asOf, "2021-06-30")
        XCTAssertEqual(parsed.validAt, "2021-03-31")
        XCTAssertNil(try parse([]).asOf)
    }

    // MARK: Errors thrown by commands

    func testAUsageErrorFromACommandPrintsLikeTheParsersAndExitsTwo() {
        let result = run(["_parse", "--fail", "usage"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stdout, "")
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.first, "Error: requested usage error")
        XCTAssertEqual(lines.dropFirst().first?.hasPrefix("Usage: recoveryctl _parse "), true)
        XCTAssertEqual(lines.last, "  See 'recoveryctl _parse --help' for more information.")
    }

    func testANumberThatIsNotOneIsAUsageError() {
        let result = run(["_parse", "--number", "abc"])
        XCTAssertEqual(result.status, 2)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.first, "Error: The value 'abc' is invalid for '--number <n>': not a whole number")
        XCTAssertEqual(lines.dropFirst().first, "Help:  --number <n>  A whole number.")
        XCTAssertEqual(
            run(["_parse", "--number", "0"]).stderr.split(separator: "\n").first,
            "Error: The value '0' is invalid for '--number <n>': must be at least 1")
    }

    func testRuntimeFailuresPrintTheirMessageAndHintAndExitWithTheirCode() {
        let failure = run(["_parse", "--fail", "failure"])
        XCTAssertEqual(failure.status, 4)
        XCTAssertEqual(failure.stdout, "")
        XCTAssertEqual(failure.stderr, "Error: requested failure\nRun 'recoveryctl verify'.\n")

        let converted = run(["_parse", "--fail", "convertible"])
        XCTAssertEqual(converted.status, 3)
        XCTAssertEqual(converted.stderr, "Error: converted failure\n")

        let other = run(["_parse", "--fail", "other"])
        XCTAssertEqual(other.status, 5)
        XCTAssertEqual(other.stderr, "Error: some other error\n")
    }

    // MARK: Table

    func testTableAlignsColumnsCountingCharacters() {
        let result = run([
            "_table", "--align", "rll", "SEQ|NAVN|TYPE", "1|Æblegård|unit.registered", "22|Søren Ørsted|x",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(
            result.stdout,
            """
            SEQ  NAVN          TYPE
              1  Æblegård      unit.registered
             22  Søren Ørsted  x

            """)
    }

    func testTableCutsTheWidestColumnToFit() {
        let long = String(repeating: "æ", count: 100)
        let result = run(["_table", "SEQ|TYPE|TEXT", "1|unit.registered|\(long)", "2|x|short"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(lines[1].count, 80)
        XCTAssertTrue(lines[1].hasSuffix("æ…"))
        XCTAssertEqual(lines[2], "2    x                short")
        XCTAssertEqual(run(["_table", "--width", "0", "A|B", "1|\(long)"]).stdout.split(separator: "\n")[1].count, 103)
    }
}
