import EventStore
import Projections

extension Commands {
    static func verify(_ invocation: Invocation) throws -> Int32 {
        let session = Session(invocation)
        var expected: LogHead?
        if let seal = invocation.value("expect-head") {
            guard let head = LogHead(seal: seal) else {
                throw invocation.invalidValue(seal, for: "expect-head", reason: "expected SEQ:HASH as 'recoveryctl head' prints it")
            }
            expected = head
        }
        let (report, checkpoint) = try session.ledger().verify(expectHead: expected)
        if invocation.json {
            session.printJSON(.object(JSONObject([
                "ok": .bool(report.ok), "events": .integer(report.events), "head": .string(report.head.description),
                "tornTail": report.tornTail.map { .object(JSONObject(["file": .string($0.file), "offset": .integer($0.offset), "bytes": .integer($0.length)])) } ?? .null,
                "erasedTexts": .integer(report.erasedTexts),
                "error": report.failure.map { .object(JSONObject(["seq": .integer($0.place.seq), "file": .string($0.place.file), "line": .integer($0.place.line), "message": .string($0.reason)])) } ?? .null,
            ])))
        } else if report.ok {
            if let torn = report.tornTail { Session.noteTornTail(torn) }
            var line = "ok: \(Output.counted(report.events, "event")), head \(report.head)"
            if report.erasedTexts > 0 { line += ", \(Output.counted(report.erasedTexts, "erased text"))" }
            if let expected { line += "; the seal \(expected.seq):\(expected.hash.prefix(12))… is in the log" }
            Output.writeLine(line)
        }
        if checkpoint == .deleted {
            Output.writeLine("Note: \(Checkpoint.fileName) did not match a full replay of the log; it was deleted and will be rebuilt by the next append.", to: .stderr)
        }
        if let failure = report.failure {
            let message = "integrity failure at \(failure): the log was checked up to seq \(report.events) and fails here"
            if invocation.json { return ExitStatus.integrity }
            throw CLIFailure.integrity(message, hint: "Nothing was changed. Keep a copy of the log as it is; compare it with a backup or the seals in the minutes.")
        }
        return ExitStatus.success
    }
}
