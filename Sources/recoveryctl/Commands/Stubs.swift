// Placeholders for the commands not written yet; delete each when its file lands.

extension Commands {
    private static func notImplemented(_ invocation: Invocation) -> Int32 {
        Output.writeLine("recoveryctl \(invocation.commandName): not implemented yet", to: .stderr)
        return 1
    }

    static func initLog(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
    static func append(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
    static func importEvents(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
    static func correct(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
    static func retract(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
    static func erase(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
    static func log(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
    static func show(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
    static func state(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
    static func kpi(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
    static func audit(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
    static func verify(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
    static func head(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
    static func report(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
    static func types(_ invocation: Invocation) throws -> Int32 { notImplemented(invocation) }
}
