import EventStore
import Projections

extension Commands {
    static func append(_ invocation: Invocation) throws -> Int32 {
        let session = Session(invocation)
        guard let type = invocation.argument("type") else { try invocation.usageError("Missing expected argument '<type>'") }
        var data = JSONObject()
        if let given = invocation.value("data") {
            let text = try Session.textArgument(given, member: "--data")
            do {
                guard case .object(let object) = try JSONParser.parse(Array(text.utf8), integersOnly: true) else {
                    throw CLIFailure.invalidInput("--data: must be a JSON object")
                }
                data = object
            } catch let error as JSONParseError {
                throw CLIFailure.invalidInput("--data: not valid JSON: \(error)")
            }
        }
        for (key, value) in try assignments(invocation.arguments("key=value"), type: type) { data[key] = value }
        let new = NewEvent(type: type, data: data, occurred: invocation.value("occurred"), source: invocation.value("source"),
                           actor: try session.actor, id: invocation.value("id"))
        return try write([new], session: session)
    }

    static func correct(_ invocation: Invocation) throws -> Int32 {
        let session = Session(invocation)
        let (target, lookup) = try resolveTarget(invocation, session: session)
        var data = JSONObject(["target": .string(target.id), "reason": .string(invocation.value("reason") ?? "")])
        var changes = JSONObject()
        for (key, value) in try assignments(invocation.arguments("key=value"), type: target.type) { changes[key] = value }
        if !changes.isEmpty { data["changes"] = .object(changes) }
        if let occurred = invocation.value("occurred") { data["occurred"] = .string(occurred) }
        if changes.isEmpty && data["occurred"] == nil {
            try invocation.usageError("Give the corrected members as key=value, or --occurred, or both")
        }
        let new = NewEvent(type: "event.corrected", data: data, source: invocation.value("source"), actor: try session.actor)
        return try write([new], session: session, lookedUp: [lookup])
    }

    static func retract(_ invocation: Invocation) throws -> Int32 {
        let session = Session(invocation)
        let (target, lookup) = try resolveTarget(invocation, session: session)
        let data = JSONObject(["target": .string(target.id), "reason": .string(invocation.value("reason") ?? "")])
        let new = NewEvent(type: "event.retracted", data: data, source: invocation.value("source"), actor: try session.actor)
        return try write([new], session: session, lookedUp: [lookup])
    }

    static func erase(_ invocation: Invocation) throws -> Int32 {
        let session = Session(invocation)
        guard let reference = invocation.argument("ref") else { try invocation.usageError("Missing expected argument '<ref>'") }
        let report = try session.ledger().erase(reference: reference, reason: invocation.value("reason") ?? "", actor: try session.actor,
                                                source: invocation.value("source"))
        Session.noteQuarantine(report.quarantined)
        printAppended(report, session: session)
        if !invocation.json { Output.writeLine("The text \(reference) is erased; its attachment is deleted.") }
        return ExitStatus.success
    }

    /// Appends and prints each event's seq and hash (`--json`: the events).
    private static func write(_ events: [NewEvent], session: Session, lookedUp: [Ledger.IDLookup] = []) throws -> Int32 {
        let expectSeq = try session.invocation.integer("expect-seq", in: 0...Int.max)
        let report = try session.ledger().append(events, expectSeq: expectSeq, lookedUp: lookedUp)
        Session.noteQuarantine(report.quarantined)
        printAppended(report, session: session)
        return ExitStatus.success
    }

    private static func printAppended(_ report: Ledger.AppendReport, session: Session) {
        for appended in report.events {
            if session.invocation.json {
                session.printJSON(.object(appended.event.jsonObject()))
            } else if appended.existing {
                Output.writeLine("seq \(appended.event.seq) hash \(appended.event.hash) (already in the log with this id and content; nothing written)")
            } else {
                Output.writeLine("seq \(appended.event.seq) hash \(appended.event.hash)")
            }
        }
    }

    /// `key=value` arguments typed by the catalog; `@FILE` reads a text member's value.
    static func assignments(_ arguments: [String], type: String) throws -> [(String, JSONValue)] {
        try arguments.map { argument in
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                throw UsageError("Expected key=value, found '\(argument)'")
            }
            let key = String(argument[..<equals])
            var text = String(argument[argument.index(after: equals)...])
            if text.hasPrefix("@") { text = try Session.textArgument(text, member: "data.\(key)") }
            return (key, try Catalog.value(ofArgument: text, member: key, of: type))
        }
    }

    /// The event an `ID|SEQ` argument names, and the lookup of its id, which validation
    /// takes instead of reading the log again.
    private static func resolveTarget(_ invocation: Invocation, session: Session) throws -> (Event, Ledger.IDLookup) {
        guard let given = invocation.argument("id") else { try invocation.usageError("Missing expected argument '<id>'") }
        let ledger = try session.ledger()
        let lookup = try Int(given).flatMap { try ledger.lookUp(seq: $0) } ?? ledger.lookUp(id: given)
        guard let found = lookup.event else {
            throw CLIFailure.invalidInput("data.target: no event with id or seq \(given) in the log", hint: "'recoveryctl log' lists the events with their seqs.")
        }
        return (found, lookup)
    }
}
