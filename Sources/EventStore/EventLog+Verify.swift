
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
    /// each) and text references, not with the size of the events. `alsoEach` sees
    /// every line once it passed, in order, for a caller that folds the log as it is
    /// checked.
    public func verify(expectHead: LogHead? = nil, alsoEach: ((LogLine) -> Void)? = nil) throws -> VerifyReport {
        var report = VerifyReport(events: 0, head: .empty, tornTail: nil, erasedTexts: 0, failure: nil)
        var ids = Set<UUIDKey>()
        // About one id per 300 bytes of log: growing the set was a tenth of the time.
        ids.reserveCapacity(((try? bytesToRead(from: .start)) ?? 0) / 300)
        var textReferences: [(reference: String, place: LogPlace)] = []
        var erased = Set<String>()
        var sealedHashMatches: Bool?
        var sealedPlace: LogPlace?
        var lastLocation: LineLocation?

        do {
            // The lines are checked as every read checks them (scanned and hashed on both
            // cores, linked in order); this thread also proves the ids unique.
            let summary = try readLines(checks: .hashes) { line in
                var place: LogPlace { LogPlace(seq: line.seq, file: line.location.file, line: line.location.line) }
                guard ids.insert(line.id).inserted else {
                    throw LogError.integrity(IntegrityFailure(place: place, reason: "id \(line.idString) was already used by an earlier event"))
                }
                let (reference, erasedReference) = try line.textReferences()
                if let reference { textReferences.append((reference, place)) }
                if let erasedReference { erased.insert(erasedReference) }
                if let expectHead, expectHead.seq == line.seq {
                    sealedHashMatches = expectHead.hash == line.hash
                    sealedPlace = place
                }
                lastLocation = line.location
                report.events = line.seq
                alsoEach?(line)
                return true
            }
            report.head = summary.head
            report.tornTail = summary.tornTail
        } catch LogError.integrity(let failure) {
            report.failure = failure
            // The head the lines before the failure reached: read again, since no line's
            // hash is made into a string while all goes well.
            report.head = head(after: report.events)
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
            // Just past the last line read.
            let lastPlace = LogPlace(seq: report.events + 1, file: EventLog.segmentName(lastLocation?.segment ?? 1), line: (lastLocation?.line ?? 0) + 1)
            if expectHead.seq > report.events {
                report.failure = IntegrityFailure(place: lastPlace, reason: "the seal \(expectHead) names seq \(expectHead.seq), but the log ends at seq \(report.events); events after it were removed")
            } else if sealedHashMatches == false {
                report.failure = IntegrityFailure(place: sealedPlace ?? lastPlace, reason: "the seal \(expectHead) does not match the event now at seq \(expectHead.seq); the log was rewritten since the seal was read out")
            }
        }
        return report
    }
}

extension EventLog {
    /// The head after the first `seq` events; empty when the log cannot be read that far.
    func head(after seq: Int) -> LogHead {
        var head = LogHead.empty
        _ = try? readLines { line in
            guard line.seq < seq else {
                if line.seq == seq { head = LogHead(seq: seq, hash: line.hash, recorded: line.recorded) }
                return false
            }
            return true
        }
        return head
    }
}

/// An event id as 16 bytes, so a million of them fit in a set of modest size.
public struct UUIDKey: Hashable, Sendable {
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

    /// The key of `id` when it is a valid id (a lower-case UUID, `EventID.isValid`); nil
    /// for any other string.
    public init?(validID id: String) {
        guard id.utf8.count == 36,
              let key = Timestamp.withUTF8(id, { utf8 -> UUIDKey? in
                  let bytes = UnsafeRawBufferPointer(utf8)
                  return EventID.isValid(bytes: bytes) ? UUIDKey(bytes: bytes) : nil
              }) else { return nil }
        self = key
    }

    /// The key of any string: a valid id's as `init(validID:)` gives it; another string's
    /// from the low four bits of each character's hex value, never trapping (a forged
    /// line may name a target that is no id at all). Such a key may equal an id's: it
    /// serves only to find candidates, which are then compared by their strings.
    public init(_ id: String) {
        if let key = UUIDKey(validID: id) {
            self = key
            return
        }
        var nibbles = 0
        for byte in id.utf8 where byte != UInt8(ascii: "-") {
            let value = UInt64((byte <= UInt8(ascii: "9") ? byte &- UInt8(ascii: "0") : byte &- UInt8(ascii: "a") &+ 10) & 0x0F)
            if nibbles < 16 { high = high << 4 | value } else { low = low << 4 | value }
            nibbles += 1
        }
    }
}
