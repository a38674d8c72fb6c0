#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EventStore

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

#if canImport(Glibc)
// Storage of 2 MiB or more (a large dictionary's) is mapped for itself and unmapped when
// freed. By default glibc raises that threshold after the first such free, and a growing
// dictionary's old storage then stays in the heap, unused: a cold `kpi` of a 1M-event
// log held 145 MB instead of about 126 MB (Benchmarks/PROFILE.md, finding 26). Below
// 2 MiB (a batch of lines), freed storage is reused without asking the kernel again.
// -3 is M_MMAP_THRESHOLD.
if let mallopt = CLibrary.function("mallopt", as: (@convention(c) (Int32, Int32) -> Int32).self) {
    _ = mallopt(-3, 2 << 20)
}
#endif

let dispatcher = Dispatcher(commands: CommandTable.all + CommandSpec.testingCommands, environment: environmentVariables())
let status: Int32
do {
    status = try dispatcher.run(validatedArguments().get())
} catch {
    status = dispatcher.report(error)
}
Output.flush()
exit(status)
