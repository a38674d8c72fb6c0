import Foundation

let dispatcher = Dispatcher(
    commands: CommandTable.all + CommandSpec.testingCommands, environment: ProcessInfo.processInfo.environment)
let status: Int32
do {
    status = try dispatcher.run(Array(CommandLine.arguments.dropFirst()))
} catch {
    status = dispatcher.report(error)
}
Output.flush()
exit(status)
