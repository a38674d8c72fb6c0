import EventStore
import Foundation
import XCTest

/// The segment line reader against randomly damaged segment files (issue 7): a fixed seed,
/// thousands of cases (`RELIABILITY_MUTATIONS`, default 5000). Whatever the damage, reading
/// never crashes and ends in one of three ways: the events (a prefix of the ones written,
/// byte for byte: no mutation forges a hash), the events and a torn tail, or
/// `LogError.integrity`. `verify` agrees with the checked read on where it fails, and an
/// append either refuses or continues the chain without moving or hiding the damage.
///
/// The JSON parser's own mutation test is `EventStoreTests/JSONParserTests`; the libFuzzer
/// targets are in `Fuzz/`.
final class SegmentMutationReliabilityTests: XCTestCase {
    private struct Outcome {
        var events: [Event] = []
        var torn: TornTail?
        var failure: IntegrityFailure?
    }

    private func read(_ log: EventLog, checks: ReadChecks, file: StaticString = #filePath, line: UInt = #line) -> Outcome {
        var outcome = Outcome()
        do {
            let summary = try log.read(checks: checks) { outcome.events.append($0); return true }
            outcome.torn = summary.tornTail
        } catch LogError.integrity(let failure) {
            outcome.failure = failure
        } catch {
            XCTFail("read threw \(error), neither events nor an integrity failure", file: file, line: line)
        }
        return outcome
    }

    func testReadingRandomlyDamagedSegmentsNeverCrashesAndNeverInventsAnEvent() throws {
        let cases = Knobs.int("RELIABILITY_MUTATIONS", 5000)
        var random = SplitMix64(seed: Knobs.seed ^ 0x05)
        // On a memory file system where there is one: thousands of appends fsync, and what
        // is tested here is the reader, not the disk.
        let directory = try makeTemporaryDirectory(prefix: "reliability-mutate", under: "/dev/shm")
        let basePath = directory.appending("base").path
        let base = try EventLog.create(at: basePath, segmentSize: 4096)
        // Events that exercise the parser: escapes, non-ASCII, nesting, extreme integers.
        let texts = ["plain", "tab\tquote\" backslash\\ slash/", "æøå ÆØÅ", "emoji 😀 and \u{1F}", "line\nbreak", String(repeating: "long ", count: 60)]
        for n in 0..<18 {
            var data = JSONObject(["n": .integer(n), "text": .string(texts[n % texts.count])])
            if n % 3 == 0 { data["list"] = .array([.integer(JSONValue.maxSafeInteger), .integer(-JSONValue.maxSafeInteger), .bool(true), .null]) }
            if n % 4 == 0 { data["nested"] = .object(JSONObject(["a": .object(JSONObject(["b": .array([.string("c")])]))])) }
            _ = try base.append { _ in [EventDraft(type: "note.recorded", stream: "unit/u\(n)", occurred: "2021-03-31", actor: "mutator", data: data)] }
        }
        var written: [Event] = []
        try base.read(checks: .hashes) { written.append($0); return true }
        let names = try FileManager.default.contentsOfDirectory(atPath: basePath).filter { $0.hasPrefix("events-") }.sorted()
        XCTAssertGreaterThan(names.count, 1, "the base log should span segments")
        let files = try Dictionary(uniqueKeysWithValues: (names + ["manifest.json", "LOCK"]).map { ($0, [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(basePath)/\($0)")))) })
        let interesting: [UInt8] = Array(#"{}[],:"\n0123456789-+.eE tfnu"#.utf8) + [0x00, 0x0A, 0x0D, 0x7F, 0x80, 0xC0, 0xC3, 0xED, 0xEF, 0xF4, 0xFF]

        var tally = (events: 0, torn: 0, integrity: 0, appended: 0, appendRefused: 0)
        for index in 0..<cases {
            let casePath = directory.appending("case").path
            try? FileManager.default.removeItem(atPath: casePath)
            try FileManager.default.createDirectory(atPath: casePath, withIntermediateDirectories: false)
            // Mostly the last segment (where tails tear), sometimes an earlier one.
            let target = Int.random(in: 0..<4, using: &random) == 0 ? names.randomElement(using: &random)! : names.last!
            var mutations: [String] = []
            for (name, original) in files {
                var bytes = original
                if name == target {
                    for _ in 0...Int.random(in: 0..<3, using: &random) {
                        mutations.append(mutate(&bytes, interesting: interesting, using: &random))
                    }
                }
                try Data(bytes).write(to: URL(fileURLWithPath: "\(casePath)/\(name)"))
            }
            let label = "case \(index) (\(target): \(mutations.joined(separator: ", ")))"
            let log = try EventLog(path: casePath)

            let checked = read(log, checks: .hashes)
            let linked = read(log, checks: [])
            // Never an event that was not written: a prefix of the originals, byte for byte.
            XCTAssertTrue(checked.events.count <= written.count && zip(checked.events, written).allSatisfy { $0 == $1 },
                          "\(label): the checked read returned an event that was never written")
            if checked.failure == nil {
                XCTAssertNil(linked.failure, "\(label): links failed where the full check passed")
                XCTAssertEqual(linked.events, checked.events, label)
                XCTAssertEqual(linked.torn, checked.torn, label)
            }
            if let torn = checked.torn, checked.failure == nil {
                XCTAssertEqual(torn.file, names.last, "\(label): a torn tail outside the last segment")
            }

            let report = try log.verify()
            XCTAssertEqual(report.ok, checked.failure == nil, "\(label): verify and read disagree")
            XCTAssertEqual(report.failure?.place, checked.failure?.place, label)
            XCTAssertEqual(report.events, checked.failure == nil ? checked.events.count : report.events, label)
            if checked.failure != nil { tally.integrity += 1 } else if checked.torn != nil { tally.torn += 1 } else { tally.events += 1 }

            // A writer either refuses or continues the chain; damage stays where it was.
            do {
                let outcome = try log.append { _ in [EventDraft(type: "note.recorded", stream: "unit/after", occurred: "2021-04-01", actor: "mutator", data: JSONObject(["after": .bool(true)]))] }
                tally.appended += 1
                let after = try log.verify()
                XCTAssertNil(after.tornTail, "\(label): a torn tail survived an append")
                if report.ok {
                    XCTAssertTrue(after.ok, "\(label): an append broke a good log: \(String(describing: after.failure))")
                    XCTAssertEqual(after.events, report.events + 1 + (outcome.quarantined == nil ? 0 : 1), label)
                    XCTAssertEqual(outcome.quarantined?.tornTail, report.tornTail, label)
                } else {
                    XCTAssertEqual(after.failure?.place, report.failure?.place, "\(label): the append moved or hid the damage")
                }
            } catch LogError.integrity {
                tally.appendRefused += 1
            } catch {
                XCTFail("\(label): append threw \(error)")
            }
        }
        XCTAssertGreaterThan(tally.integrity, cases / 10)
        XCTAssertGreaterThan(tally.torn, cases / 50)
        Figures.record("mutation.segment-reader", ["cases": cases, "readWhole": tally.events, "tornTail": tally.torn, "integrityFailure": tally.integrity,
                                                   "appendContinued": tally.appended, "appendRefused": tally.appendRefused, "crashes": 0])
    }

    /// One random change; returns its description for the failure message.
    private func mutate(_ bytes: inout [UInt8], interesting: [UInt8], using random: inout SplitMix64) -> String {
        guard !bytes.isEmpty else {
            bytes = [interesting.randomElement(using: &random)!]
            return "filled an empty file"
        }
        let at = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<11, using: &random) {
        case 0:
            let bit = UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            bytes[at] ^= bit
            return "flipped bit \(bit) at \(at)"
        case 1:
            bytes[at] = interesting.randomElement(using: &random)!
            return "set byte \(at) to \(bytes[at])"
        case 2:
            let byte = interesting.randomElement(using: &random)!
            bytes.insert(byte, at: at)
            return "inserted \(byte) at \(at)"
        case 3:
            let end = min(bytes.count, at + Int.random(in: 1...40, using: &random))
            bytes.removeSubrange(at..<end)
            return "deleted \(at)..<\(end)"
        case 4:
            bytes.removeSubrange(at...)
            return "truncated at \(at)"
        case 5:
            let end = min(bytes.count, at + Int.random(in: 1...600, using: &random))
            bytes.insert(contentsOf: bytes[at..<end], at: end)
            return "duplicated \(at)..<\(end)"
        case 6:
            let end = min(bytes.count, at + Int.random(in: 1...200, using: &random))
            for i in at..<end { bytes[i] = 0 }
            return "zeroed \(at)..<\(end)"
        case 7:
            let garbage = (0..<Int.random(in: 1...80, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            bytes += garbage
            return "appended \(garbage.count) random bytes"
        case 8:
            var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
            guard lines.count > 2 else { return "no lines to swap" }
            let a = Int.random(in: 0..<(lines.count - 1), using: &random), b = Int.random(in: 0..<(lines.count - 1), using: &random)
            lines.swapAt(a, b)
            bytes = Array(lines.joined(separator: [0x0A]))
            return "swapped lines \(a + 1) and \(b + 1)"
        case 9:
            bytes.insert(0x0A, at: at)
            return "inserted a newline at \(at)"
        default:
            // A digit changed inside a number: still valid JSON, still a well-formed envelope.
            let digits = bytes.indices.filter { (0x30...0x39).contains(bytes[$0]) }
            guard let position = digits.randomElement(using: &random) else { return "no digit" }
            bytes[position] = 0x30 + (bytes[position] - 0x30 + UInt8.random(in: 1...9, using: &random)) % 10
            return "changed the digit at \(position)"
        }
    }
}
