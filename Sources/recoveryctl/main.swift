import Foundation

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

let dispatcher = Dispatcher(
    commands: CommandTable.all + CommandSpec.testingCommands, environment: ProcessInfo.processInfo.environment)
let status: Int32
do {
    status = try dispatcher.run(validatedArguments().get())
} catch {
    status = dispatcher.report(error)
}
Output.flush()
exit(status)
