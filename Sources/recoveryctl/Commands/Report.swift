import EventStore
import Projections

extension Commands {
    /// `report`: the evaluation report (SPEC §7) to `--out FILE` or standard output.
    ///
    /// The time it was made is now, or `SOURCE_DATE_EPOCH` (seconds) when set, so a
    /// build can make the same report twice, byte for byte.
    static func report(_ invocation: Invocation) throws -> Int32 {
        let session = Session(invocation)
        guard let format = ReportFormat(rawValue: invocation.value("format") ?? "html"),
              let language = ReportLanguage(rawValue: invocation.value("lang") ?? "da") else {
            preconditionFailure("the parser admits only the listed --format and --lang values")
        }
        let generated = try generationTime(invocation.environment)
        let view = try session.view(.projections(.both))
        let document = try Report.render(view, options: ReportOptions(
            format: format, language: language, asOf: invocation.asOf, validAt: invocation.validAt,
            tool: "recoveryctl \(RecoveryCtlVersion.string)", generated: generated))

        guard let out = invocation.value("out"), out != "-" else {
            Output.write(document)
            return ExitStatus.success
        }
        try writeAtomically(Array(document.utf8), to: out)
        if invocation.json {
            session.printJSON(.object(JSONObject([
                "out": .string(out), "format": .string(format.rawValue), "lang": .string(language.rawValue),
                "head": .string(view.head.description),
            ])))
        } else {
            Output.writeLine("Wrote \(out)")
        }
        return ExitStatus.success
    }

    /// Now, or `SOURCE_DATE_EPOCH` when it is set.
    private static func generationTime(_ environment: [String: String]) throws -> Int64 {
        guard let text = environment["SOURCE_DATE_EPOCH"], !text.isEmpty else { return Timestamp.nowMillis() }
        guard let seconds = Int64(text), seconds >= 0, seconds < 253_402_300_800 else {
            throw CLIFailure.invalidInput("SOURCE_DATE_EPOCH is \"\(text)\", not a whole number of seconds since 1970",
                                          hint: "Unset it to stamp the report with the current time.")
        }
        return seconds * 1000
    }

    /// Writes a temporary file next to `path`, then renames it over `path`: a reader
    /// sees the old report or the new one, never a part.
    private static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        do {
            try AtomicFile.write(bytes, to: path)
        } catch {
            let reason = if case .io(_, _, let code) = error { SystemError.message(code) } else { error.description }
            throw CLIFailure.environment("cannot write \(path): \(reason)",
                                         hint: "Check that the directory exists and that you may write to it.")
        }
    }
}
