#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The arguments as the kernel gave them. `CommandLine.arguments` repairs invalid UTF-8
/// with U+FFFD, which would write a changed value into a log that can never be edited;
/// so an argument that is not valid UTF-8 is refused instead (exit 1).
func validatedArguments() -> Result<[String], CLIFailure> {
    var arguments: [String] = []
    for index in 1..<Int(CommandLine.argc) {
        guard let raw = CommandLine.unsafeArgv[index], let argument = String(validatingCString: raw) else {
            let shown = CommandLine.unsafeArgv[index].map { String(cString: $0) } ?? ""
            return .failure(.invalidInput("argument \(index) (\"\(shown)\", the bad bytes shown as \u{FFFD}) is not valid UTF-8; nothing was written",
                                          hint: "Save the text as UTF-8, or pass it in a UTF-8 file with @FILE."))
        }
        arguments.append(argument)
    }
    return .success(arguments)
}

/// The environment as `NAME=value` pairs (invalid UTF-8 repaired with U+FFFD; the
/// first of a repeated name counts, as for `getenv`).
func environmentVariables() -> [String: String] {
    var variables: [String: String] = [:]
    var entry = environ
    while let pointer = entry.pointee {
        let text = String(cString: pointer)
        if let equals = text.firstIndex(of: "=") {
            let name = String(text[..<equals])
            if variables[name] == nil { variables[name] = String(text[text.index(after: equals)...]) }
        }
        entry += 1
    }
    return variables
}

let dispatcher = Dispatcher(commands: CommandTable.all + CommandSpec.testingCommands, environment: environmentVariables())
let status: Int32
do {
    status = try dispatcher.run(validatedArguments().get())
} catch {
    status = dispatcher.report(error)
}
Output.flush()
exit(status)
