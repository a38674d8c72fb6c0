import EventStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Projections

/// What every command needs from its invocation: the log, the actor, the way to print.
struct Session {
    let invocation: Invocation

    init(_ invocation: Invocation) { self.invocation = invocation }

    /// The log named by `--log`, `RECOVERY_LOG` or `./log`.
    func openLog() throws -> EventLog { try EventLog(path: invocation.logPath) }

    func ledger() throws -> Ledger { Ledger(log: try openLog()) }

    /// `--actor`, else `RECOVERY_ACTOR`, else the login name.
    ///
    /// The environment is read as bytes: `ProcessInfo` would repair invalid UTF-8 with
    /// U+FFFD, and the actor is written into a line that can never be edited.
    var actor: String {
        get throws {
            if let actor = invocation.value("actor") { return actor }
            if let raw = getenv("RECOVERY_ACTOR"), raw.pointee != 0 {
                guard let actor = String(validatingCString: raw) else {
                    throw CLIFailure.invalidInput("RECOVERY_ACTOR is not valid UTF-8; nothing was written", hint: "Set it to a UTF-8 name, or give --actor.")
                }
                return actor
            }
            if let user = getpwuid(geteuid())?.pointee.pw_name, let name = String(validatingCString: user) { return name }
            return invocation.environment["USER"] ?? "unknown"
        }
    }

    /// What a command reads of the log: the projections (`Ledger.view`, folding what
    /// the command shows), or only the head (`Ledger.headView`; the events are then
    /// read through `Ledger.events` or `forEachEvent`).
    enum Reading { case projections(Ledger.Folding), head }

    /// A view at `--as-of` / `--valid-at`, telling stderr about a torn tail.
    func view(_ reading: Reading) throws -> Ledger.View {
        let view: Ledger.View
        do {
            let ledger = try ledger()
            let (asOf, validAt) = (invocation.asOf, invocation.validAt)
            view = switch reading {
            case .projections(let folding): try ledger.view(asOf: asOf, validAt: validAt, folding: folding)
            case .head: try ledger.headView(asOf: asOf, validAt: validAt)
            }
        } catch let error as ValidationError where error.member == "--as-of" || error.member == "--valid-at" {
            // A time that is not one is a mistake on the command line (exit 2), like `--limit abc`.
            let option = String(error.member.dropFirst(2))
            throw invocation.invalidValue(invocation.optionValues[option]?.last ?? "", for: option,
                                          reason: "not a real date YYYY-MM-DD or a date-time with Z or an offset (like 2021-06-30T12:00:00+02:00)")
        }
        if let torn = view.tornTail { Session.noteTornTail(torn) }
        return view
    }

    static func noteTornTail(_ torn: TornTail) {
        Output.writeLine("""
            Note: \(torn.file) ends with \(torn.length) bytes of a write that never finished (from offset \(torn.offset)); \
            they are not part of the log. The next append moves them to quarantine/.
            """, to: .stderr)
    }

    static func noteQuarantine(_ quarantine: Quarantine?) {
        guard let quarantine else { return }
        Output.writeLine("""
            Note: moved \(quarantine.tornTail.length) torn bytes from the end of \(quarantine.tornTail.file) \
            (offset \(quarantine.tornTail.offset)) to \(quarantine.copy); recorded as seq \(quarantine.event.seq).
            """, to: .stderr)
    }

    /// Prints one JSON document on a line.
    func printJSON(_ value: JSONValue) {
        Output.writeLine(CanonicalJSON.string(value))
    }

    /// Reads `@FILE` (or `-` for standard input) as UTF-8 text; other text is returned as is.
    static func textArgument(_ text: String, member: String) throws -> String {
        guard text.hasPrefix("@") else { return text }
        let path = String(text.dropFirst())
        guard let data = ImportFile.read(path) else {
            throw CLIFailure.invalidInput("\(member): cannot read \(path)", hint: "Check the path; @FILE reads the value from a file.")
        }
        guard let string = String(validating: data, as: UTF8.self) else {
            throw CLIFailure.invalidInput("\(member): \(path) is not valid UTF-8")
        }
        return string
    }

    /// A date (and time) in the log's time zone, for tables.
    static func localDate(ofRecorded recorded: String, zone: ZoneRules, withTime: Bool = true) -> String {
        guard let millis = Timestamp.millis(ofRecorded: recorded) else { return recorded }
        if !withTime { return Timestamp.calendarDate(ofMillis: millis, in: zone).description }
        let seconds = Int(millis / 1000)
        let date = Timestamp.calendarDate(ofMillis: millis, in: zone)
        let offset = zone.secondsFromGMT(atUnixSeconds: Int64(seconds))
        let local = ((seconds + offset) % 86_400 + 86_400) % 86_400
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(date) \(pad(local / 3600)):\(pad(local / 60 % 60))"
    }
}

extension LogError: CLIFailureConvertible {
    var cliFailure: CLIFailure { CLIFailure(description, exitCode: exitCode, hint: hint) }
}

extension ValidationError: CLIFailureConvertible {
    var cliFailure: CLIFailure { .invalidInput(description, hint: "Nothing was written. 'recoveryctl types' lists every type and its members.") }
}

extension Ledger.BatchRefused: CLIFailureConvertible {
    var cliFailure: CLIFailure {
        refusals.count == 1
            ? refusals[0].error.cliFailure
            : .invalidInput("\(refusals.count) events were refused; nothing was written:\n" + description)
    }
}
