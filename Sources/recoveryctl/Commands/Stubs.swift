// Placeholders for the commands not written yet; delete each when its file lands.

extension Commands {
    static func report(_ invocation: Invocation) throws -> Int32 {
        Output.writeLine("recoveryctl \(invocation.commandName): not implemented yet", to: .stderr)
        return 1
    }
}
