@testable import EventStore
import Foundation
import XCTest

/// A long read is prechecked on a second thread (`EventLog.readLines`); a short one on
/// this one. Both give the same lines, the same torn tail and the same failure.
final class PipelinedReadTests: TemporaryDirectoryTestCase {
    /// What a read gives: every line's seq, hash and place, and the summary or the error.
    private func readEverything(_ log: EventLog, pipelined: Bool) -> (lines: [String], outcome: String) {
        let saved = EventLog.pipelineThreshold
        EventLog.pipelineThreshold = pipelined ? 0 : Int.max
        defer { EventLog.pipelineThreshold = saved }
        var lines: [String] = []
        do {
            let summary = try log.readLines(checks: .hashes) { line in
                lines.append("\(line.seq) \(line.hash) \(line.location.file):\(line.location.line)@\(line.location.offset)")
                return true
            }
            return (lines, "\(summary)")
        } catch {
            return (lines, "\(error)")
        }
    }

    func testAPipelinedReadGivesWhatABatchedReadGives() throws {
        try XCTSkipIf(Parallel.cores < 2, "a read is pipelined only on more than one core")
        let log = try makeLog(segmentSize: 256 << 10)
        // Several batches of lines, over several segments.
        for batch in 0..<5 { _ = try log.append { _ in (1...1000).map { self.draft(batch * 1000 + $0) } } }
        XCTAssertGreaterThan(try log.segmentNumbers().count, 2)
        let whole = readEverything(log, pipelined: false)
        XCTAssertEqual(whole.lines.count, 5000)
        XCTAssertEqual(readEverything(log, pipelined: true).lines, whole.lines)
        XCTAssertEqual(readEverything(log, pipelined: true).outcome, whole.outcome)

        // A torn tail: the same lines, the same tail reported.
        try appendBytes(Array(#"{"actor":"#.utf8), to: "\(logPath)/\(EventLog.segmentName(try log.segmentNumbers().last!))")
        let torn = readEverything(log, pipelined: false)
        XCTAssertTrue(torn.outcome.contains("tornTail: Optional"), torn.outcome)
        XCTAssertEqual(readEverything(log, pipelined: true).lines, torn.lines)
        XCTAssertEqual(readEverything(log, pipelined: true).outcome, torn.outcome)

        // A changed line in the middle: the lines before it, then the same failure at the same place.
        let path = "\(logPath)/\(EventLog.segmentName(2))"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let at = try XCTUnwrap(bytes.firstRange(of: Array(#""n":"#.utf8), in: bytes.count / 2..<bytes.count)).upperBound
        bytes[at] = bytes[at] == UInt8(ascii: "1") ? UInt8(ascii: "2") : UInt8(ascii: "1")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let broken = readEverything(log, pipelined: false)
        XCTAssertTrue(broken.outcome.contains("hash does not match"), broken.outcome)
        XCTAssertGreaterThan(broken.lines.count, 0)
        XCTAssertEqual(readEverything(log, pipelined: true).lines, broken.lines)
        XCTAssertEqual(readEverything(log, pipelined: true).outcome, broken.outcome)
    }

    /// What `forEachRawLine` gives, or its error, against `pickRawLines` picking every
    /// third line's seq from its bytes.
    private func pickedBothWays(_ log: EventLog) -> (oneByOne: String, picked: String) {
        func pick(_ line: UnsafeRawBufferPointer) -> Int? {
            guard let range = line.firstRange(of: Array(#""seq":"#.utf8)) else { return -1 }
            let seq = Int(String(decoding: line[range.upperBound...].prefix { $0 != UInt8(ascii: ",") }, as: UTF8.self)) ?? -1
            return seq % 3 == 0 ? seq : nil
        }
        var oneByOne: [Int] = []
        let first = Result { try log.forEachRawLine { line, _ in
            if let seq = pick(line) { oneByOne.append(seq) }
            return true
        } }.map { oneByOne }
        return ("\(first)", "\(Result { try log.pickRawLines(pick) })")
    }

    func testPickingRawLinesOnEveryCoreGivesTheLinesInOrderAndRefusesWhatTheSlowPassRefuses() throws {
        let log = try makeLog(segmentSize: 4096)
        for batch in 0..<12 { _ = try log.append { _ in (1...100).map { self.draft(batch * 100 + $0) } } }
        let segments = try log.segmentNumbers()
        XCTAssertGreaterThan(segments.count, 3)
        var both = pickedBothWays(log)
        XCTAssertEqual(both.picked, both.oneByOne)
        XCTAssertEqual(both.picked, "success(\(Array(stride(from: 3, through: 1200, by: 3))))")
        // Each picked with the seq of its line, counted across the segments.
        XCTAssertEqual(try log.pickRawLinesWithSeqs { line in line.isEmpty ? nil : 0 }.map(\.seq), Array(1...1200))

        // A torn tail is left out.
        let last = "\(logPath)/\(EventLog.segmentName(segments.last!))"
        try appendBytes(Array(#"{"actor":"x","seq":1203,"#.utf8), to: last)
        both = pickedBothWays(log)
        XCTAssertEqual(both.picked, both.oneByOne)

        // A segment before the last cut short, and a line over 1 MiB: refused alike.
        let second = "\(logPath)/\(EventLog.segmentName(segments[1]))"
        let whole = try Data(contentsOf: URL(fileURLWithPath: second))
        try whole.dropLast().write(to: URL(fileURLWithPath: second))
        both = pickedBothWays(log)
        XCTAssertTrue(both.picked.contains("does not end with a newline"), both.picked)
        XCTAssertEqual(both.picked, both.oneByOne)
        try (Data(repeating: UInt8(ascii: "x"), count: EventLog.maxLineBytes + 1) + Data([0x0A]) + whole).write(to: URL(fileURLWithPath: second))
        both = pickedBothWays(log)
        XCTAssertTrue(both.picked.contains("longer than 1 MiB"), both.picked)
        XCTAssertEqual(both.picked, both.oneByOne)
    }
}
