/// Renders help and usage text in swift-argument-parser's layout:
/// `OVERVIEW`, `USAGE`, `ARGUMENTS`, `OPTIONS` (and `SUBCOMMANDS` at the top level),
/// wrapped to 80 columns with the help text in column 26.
struct HelpFormatter {
    static let toolName = "recoveryctl"
    static let screenWidth = 80
    static let indent = 2
    static let labelColumnWidth = 26
    /// Past this many options a usage line shows `[<options>]` instead (as the parser does).
    static let maxOptionsInUsage = 12

    var commands: [CommandSpec]

    // MARK: Usage

    /// The synopsis items of a command, tool name first.
    func synopsisItems(for command: CommandSpec) -> [String] {
        var items = [Self.toolName, command.name]
        for argument in command.arguments {
            var item = argument.label
            if argument.isRepeating { item += " ..." }
            if argument.isOptional { item = "[\(item)]" }
            items.append(item)
        }
        let options = command.options + [.log, .json]
        if options.count > Self.maxOptionsInUsage {
            let required = options.filter(\.isRequired)
            items.insert("[<options>]", at: 2)
            items += required.map(\.synopsis)
        } else {
            for option in options {
                var item = option.synopsis
                if option.isRepeating { item += " ..." }
                if !option.isRequired { item = "[\(item)]" }
                items.append(item)
            }
        }
        return items
    }

    /// The usage text after `prefix` (`USAGE:` or `Usage:`), wrapped to the screen with
    /// continuation lines indented under the tool name.
    func usage(for command: CommandSpec?, prefix: String) -> String {
        let hanging = prefix.count + 1
        guard let command else {
            return packed(
                [prefix, Self.toolName, "[--log <dir>]", "[--json]", "<subcommand>"],
                columns: Self.screenWidth, continuationIndent: hanging)
        }
        if let custom = command.usage {
            let lines = "\(Self.toolName) \(custom)".split(
                separator: "\n", omittingEmptySubsequences: false)
            let padding = String(repeating: " ", count: hanging)
            return "\(prefix) " + lines.joined(separator: "\n" + padding)
        }
        return packed(
            [prefix] + synopsisItems(for: command),
            columns: Self.screenWidth, continuationIndent: hanging)
    }

    // MARK: Help

    /// The full help of one command, ending in a blank line as swift-argument-parser's does.
    func help(for command: CommandSpec) -> String {
        var text = overview(abstract: command.abstract, discussion: command.discussion)
        text += usage(for: command, prefix: "USAGE:") + "\n\n"

        var sections: [String] = []
        if !command.arguments.isEmpty {
            sections.append(
                section(
                    "ARGUMENTS",
                    command.arguments.map { (label: $0.label, abstract: $0.help) }))
        }
        let options = command.options + OptionSpec.globals
        sections.append(section("OPTIONS", options.map { (label: $0.helpLabel, abstract: Self.describe($0)) }))
        if !command.examples.isEmpty {
            sections.append(examplesSection(command.examples))
        }
        return text + sections.joined(separator: "\n") + "\n"
    }

    /// The top-level help: the tool's overview, its global options and the subcommands.
    func topLevelHelp(abstract: String, discussion: String?) -> String {
        var text = overview(abstract: abstract, discussion: discussion)
        text += usage(for: nil, prefix: "USAGE:") + "\n\n"
        let options = OptionSpec.globals.map { (label: $0.helpLabel, abstract: Self.describe($0)) }
        let subcommands = commands.filter { !$0.isHidden }.map { (label: $0.name, abstract: $0.abstract) }
        text += section("OPTIONS", options) + "\n" + section("SUBCOMMANDS", subcommands)
        text += "\n  See '\(Self.toolName) help <subcommand>' for detailed help.\n"
        return text
    }

    private func overview(abstract: String, discussion: String?) -> String {
        var overview = "OVERVIEW: \(abstract)"
        if let discussion, !discussion.isEmpty {
            overview += "\n\n\(discussion)"
        }
        return overview.wrapped(to: Self.screenWidth) + "\n\n"
    }

    private static func describe(_ option: OptionSpec) -> String {
        var notes: [String] = []
        if let values = option.allowedValues {
            notes.append("values: " + values.joined(separator: ", "))
        }
        if let defaultValue = option.defaultValue {
            notes.append("default: \(defaultValue)")
        }
        guard !notes.isEmpty else { return option.help }
        return "\(option.help) (\(notes.joined(separator: "; ")))"
    }

    private func section(_ title: String, _ elements: [(label: String, abstract: String)]) -> String {
        var text = "\(title):\n"
        for element in elements {
            let paddedLabel = String(repeating: " ", count: Self.indent) + element.label
            text += paddedLabel
            if !element.abstract.isEmpty {
                let wrapped = element.abstract.wrapped(
                    to: Self.screenWidth, indent: Self.labelColumnWidth)
                if paddedLabel.count < Self.labelColumnWidth {
                    text += wrapped.dropFirst(paddedLabel.count)
                } else {
                    text += "\n" + wrapped
                }
            }
            text += "\n"
        }
        return text
    }

    /// Each example: its summary, then the command indented, broken with ` \` (so it
    /// still pastes into a shell) where it would pass the screen width.
    private func examplesSection(_ examples: [Example]) -> String {
        let commandIndent = Self.indent * 2
        var blocks: [String] = []
        for example in examples {
            var block = example.summary.wrapped(to: Self.screenWidth, indent: Self.indent) + "\n"
            // An option and its value stay on one line, where they fit on one.
            var words: [String] = []
            for word in Self.shellWords(example.command) {
                if let last = words.last, last.hasPrefix("-"), !last.contains(" "),
                    !last.contains("="), !word.hasPrefix("-"),
                    commandIndent + 2 + last.count + 1 + word.count + 2 <= Self.screenWidth
                {
                    words[words.count - 1] += " " + word
                } else {
                    words.append(word)
                }
            }
            var lines: [String] = []
            var line = String(repeating: " ", count: commandIndent)
            var lineHasWord = false
            for word in words {
                // Leave room for the " \" that ends a broken line.
                if lineHasWord, line.count + 1 + word.count + 2 > Self.screenWidth {
                    lines.append(line + " \\")
                    line = String(repeating: " ", count: commandIndent + 2) + word
                } else {
                    line += (lineHasWord ? " " : "") + word
                }
                lineHasWord = true
            }
            lines.append(line)
            block += lines.joined(separator: "\n") + "\n"
            blocks.append(block)
        }
        return "EXAMPLES:\n" + blocks.joined(separator: "\n")
    }

    /// Splits a command line at the spaces outside quotes, keeping the quotes, so a
    /// broken line never splits a quoted word.
    static func shellWords(_ command: String) -> [String] {
        var words: [String] = []
        var word = ""
        var quote: Character?
        for character in command {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == " " {
                if !word.isEmpty { words.append(word) }
                word = ""
                continue
            }
            word.append(character)
        }
        if !word.isEmpty { words.append(word) }
        return words
    }
}
