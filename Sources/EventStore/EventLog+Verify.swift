#if canImport(Glibc)
import Glibc
#endif

/// What `verify` found (SPEC §6: `{"ok","events","head","tornTail","erasedTexts","error"}`).
public struct VerifyReport: Sendable, Equatable {
    public var ok: Bool { failure == nil }
    /// Events checked before the first failure (all of them when there is none).
    public var events: Int
    public var head: LogHead
    public var tornTail: TornTail?
    public var erasedTexts: Int
    public var failure: IntegrityFailure?
}

extension EventLog {
    /// Checks the whole log as SPEC §2–3 asks: every line parses, is its own canonical
    /// form, hashes to its `hash`, links by `prev`, continues `seq`, has an id not seen
    /// before and a `recorded` not lower than the one before; every text reference
    /// names an attachment that hashes to it, unless a `text.erased` erased it. With
    /// `expectHead`, the event at that seq must still carry that hash.
    ///
    /// Reports the first failure with seq, file and line rather than throwing it; throws
    /// only when the log cannot be read at all (`.io`, `.notALog`).
    ///
    /// Complexity: one pass over the log; memory grows with the number of ids (16 bytes
    /// each) and text references, not with the size of the events.
    public func verify(expectHead: LogHead? = nil) throws -> VerifyReport {
        var report = VerifyReport(events: 0, head: .empty, tornTail: nil, erasedTexts: 0, failure: nil)
        var ids = Set<UUIDKey>()
        // About one id per 300 bytes of log: growing the set was a tenth of the time.
        ids.reserveCapacity(((try? bytesToRead(from: .start)) ?? 0) / 300)
        var textReferences: [(reference: String, place: LogPlace)] = []
        var erased = Set<String>()
        var sealedHashMatches: Bool?
        var sealedPlace: LogPlace?
        var lastPlace = LogPlace(seq: 1, file: EventLog.segmentName(1), line: 1)

        do {
            // Verify needs a few members of each line, not an `Event`: canonical lines are
            // checked in place (`ChainCursor.acceptFacts`), others through the strict path.
            var cursor = ChainCursor(position: .start)
            try scanLines(from: .start) { line, location in
                let facts = try cursor.acceptFacts(line: line, place: location)
                let place = LogPlace(seq: facts.seq, file: location.file, line: location.line)
                guard ids.insert(facts.id).inserted else {
                    throw LogError.integrity(IntegrityFailure(place: place, reason: "id \(facts.idText()) was already used by an earlier event"))
                }
                if let reference = facts.textReference { textReferences.append((reference, place)) }
                if let reference = facts.erasedReference { erased.insert(reference) }
                if let expectHead, expectHead.seq == facts.seq {
                    sealedHashMatches = expectHead.hash == cursor.position.hash
                    sealedPlace = place
                }
                report.events = facts.seq
                report.head = LogHead(seq: facts.seq, hash: cursor.position.hash, recorded: cursor.lastRecorded)
                lastPlace = LogPlace(seq: facts.seq + 1, file: location.file, line: location.line + 1)
                return true
            } tail: { report.tornTail = $0 }
        } catch LogError.integrity(let failure) {
            report.failure = failure
            return report
        }

        for (reference, place) in textReferences where !erased.contains(reference) {
            switch readText(reference) {
            case .text: continue
            case .missing:
                report.failure = IntegrityFailure(place: place, reason: "attachment \(reference) is missing and no text.erased event erased it")
            case .altered:
                report.failure = IntegrityFailure(place: place, reason: "attachment \(reference) no longer hashes to its reference; it was changed after it was written")
            }
            return report
        }
        report.erasedTexts = erased.count

        if let expectHead {
            if expectHead.seq > report.events {
                report.failure = IntegrityFailure(place: lastPlace, reason: "the seal \(expectHead) names seq \(expectHead.seq), but the log ends at seq \(report.events); events after it were removed")
            } else if sealedHashMatches == false {
                report.failure = IntegrityFailure(place: sealedPlace ?? lastPlace, reason: "the seal \(expectHead) does not match the event now at seq \(expectHead.seq); the log was rewritten since the seal was read out")
            }
        }
        return report
    }
}

/// An event id as 16 bytes, so a million of them fit in a set of modest size.
struct UUIDKey: Hashable {
    var high: UInt64 = 0
    var low: UInt64 = 0

    /// From the 36 bytes of a valid id.
    init(bytes: UnsafeRawBufferPointer) {
        // '0'…'9' and 'a'…'f' to 0…15 without a branch; the dashes sit at 8, 13, 18, 23.
        @inline(__always) func nibble(_ b: UInt8) -> UInt64 { UInt64((b & 0x0F) &+ 9 &* (b >> 6)) }
        for i in 0..<36 where i != 8 && i != 13 && i != 18 && i != 23 {
            if i < 19 { high = high << 4 | nibble(bytes[i]) } else { low = low << 4 | nibble(bytes[i]) }
        }
    }

    init(_ id: String) {
        var nibbles = 0
        for byte in id.utf8 where byte != UInt8(ascii: "-") {
            let value = UInt64(byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : byte - UInt8(ascii: "a") + 10)
            if nibbles < 16 { high = high << 4 | value } else { low = low << 4 | value }
            nibbles += 1
        }
    }
}

/// What `verify` needs of one line.
struct LineFacts {
    var seq: Int
    var id: UUIDKey
    /// The id as written, kept only when the line went through the strict path.
    var idString: String?
    /// `data.text`, when it is a text reference.
    var textReference: String?
    /// `data.ref` of a `text.erased`.
    var erasedReference: String?

    func idText() -> String {
        if let idString { return idString }
        let hex = Hex.encode(withUnsafeBytes(of: id.high.bigEndian, Array.init) + withUnsafeBytes(of: id.low.bigEndian, Array.init))
        let h = Array(hex)
        return String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-" + String(h[20..<32])
    }
}

extension ChainCursor {
    /// `accept(line:place:checks: .hashes)` for `verify`, without building an `Event`
    /// when the line is canonical and continues the chain. Anything else (including
    /// every failure) goes through `accept`, which throws the same errors as before.
    mutating func acceptFacts(line: UnsafeRawBufferPointer, place location: LineLocation) throws -> LineFacts {
        if let c = CanonicalLine.scan(line), c.seq == position.seq + 1, c.seq >= 1,
           c.id.count == 36, c.prev.count == 64, c.hash.count == 64, c.recorded.count == 24,
           CanonicalLine.isLowerHex(line, c.prev), CanonicalLine.isLowerHex(line, c.hash),
           EventID.isValid(bytes: UnsafeRawBufferPointer(rebasing: line[c.id])),
           Timestamp.isValidOccurred(bytes: UnsafeRawBufferPointer(rebasing: line[c.occurred])),
           Timestamp.isValidRecorded(bytes: UnsafeRawBufferPointer(rebasing: line[c.recorded])),
           line[c.data.lowerBound] == UInt8(ascii: "{"),
           ChainCursor.equal(line, c.prev, position.hash),
           lastRecorded.map({ !ChainCursor.precedes(line, c.recorded, $0) }) ?? true {
            let digest = c.computedDigest(of: line)
            if c.hashMatches(digest, in: line) {
                var facts = LineFacts(seq: c.seq, id: UUIDKey(bytes: UnsafeRawBufferPointer(rebasing: line[c.id])))
                let type = UnsafeRawBufferPointer(rebasing: line[c.type])
                let data = UnsafeRawBufferPointer(rebasing: line[c.data])
                let erasure = type.elementsEqual(EventLog.textErasedType.utf8)
                if erasure || ChainCursor.contains(data, #""text":"sha256-"#) {
                    guard case .object(let object)? = try? JSONParser.parse(data, integersOnly: true) else {
                        return try factsOfEvent(line: line, place: location)
                    }
                    if case .string(let reference)? = object["text"], EventLog.isTextReference(reference) { facts.textReference = reference }
                    if erasure, case .string(let reference)? = object["ref"] { facts.erasedReference = reference }
                }
                position = LogPosition(segment: location.segment, offset: location.offset + location.length, linesBefore: location.line,
                                       seq: c.seq, hash: String(decoding: UnsafeRawBufferPointer(rebasing: line[c.hash]), as: UTF8.self))
                lastRecorded = String(decoding: UnsafeRawBufferPointer(rebasing: line[c.recorded]), as: UTF8.self)
                return facts
            }
        }
        return try factsOfEvent(line: line, place: location)
    }

    private mutating func factsOfEvent(line: UnsafeRawBufferPointer, place location: LineLocation) throws -> LineFacts {
        let event = try accept(line: line, place: location, checks: .hashes)
        var facts = LineFacts(seq: event.seq, id: UUIDKey(event.id), idString: event.id)
        if case .string(let reference)? = event.data["text"], EventLog.isTextReference(reference) { facts.textReference = reference }
        if event.type == EventLog.textErasedType, case .string(let reference)? = event.data["ref"] { facts.erasedReference = reference }
        return facts
    }

    static func equal(_ line: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: String) -> Bool {
        let fast = text.utf8.withContiguousStorageIfAvailable { utf8 in
            utf8.count == range.count && memcmp(utf8.baseAddress!, line.baseAddress! + range.lowerBound, range.count) == 0
        }
        return fast ?? text.utf8.elementsEqual(UnsafeRawBufferPointer(rebasing: line[range]))
    }

    /// Whether the bytes at `range` sort before `text` (`String`'s `<` for ASCII).
    static func precedes(_ line: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: String) -> Bool {
        UnsafeRawBufferPointer(rebasing: line[range]).lexicographicallyPrecedes(text.utf8)
    }

    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
        let n = needle.utf8CodeUnitCount
        guard haystack.count >= n else { return false }
        let first = needle.utf8Start[0]
        var i = 0
        while i + n <= haystack.count {
            if haystack[i] == first {
                var k = 1
                while k < n && haystack[i + k] == needle.utf8Start[k] { k += 1 }
                if k == n { return true }
            }
            i += 1
        }
        return false
    }
}
