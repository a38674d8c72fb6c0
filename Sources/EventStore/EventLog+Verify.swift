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
        var textReferences: [(reference: String, place: LogPlace)] = []
        var erased = Set<String>()
        var sealedHashMatches: Bool?
        var sealedPlace: LogPlace?
        var lastPlace = LogPlace(seq: 1, file: EventLog.segmentName(1), line: 1)

        do {
            let summary = try readEvents(from: .start, checks: .hashes) { event, end in
                let file = EventLog.segmentName(end.segment)
                let place = LogPlace(seq: event.seq, file: file, line: end.linesBefore)
                guard ids.insert(UUIDKey(event.id)).inserted else {
                    throw LogError.integrity(IntegrityFailure(place: place, reason: "id \(event.id) was already used by an earlier event"))
                }
                if case .string(let reference)? = event.data["text"], EventLog.isTextReference(reference) {
                    textReferences.append((reference, place))
                }
                if event.type == EventLog.textErasedType, case .string(let reference)? = event.data["ref"] {
                    erased.insert(reference)
                }
                if let expectHead, expectHead.seq == event.seq {
                    sealedHashMatches = expectHead.hash == event.hash
                    sealedPlace = place
                }
                report.events = event.seq
                report.head = LogHead(seq: event.seq, hash: event.hash, recorded: event.recorded)
                lastPlace = LogPlace(seq: event.seq + 1, file: file, line: end.linesBefore + 1)
                return true
            }
            report.tornTail = summary.tornTail
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

    init(_ id: String) {
        var nibbles = 0
        for byte in id.utf8 where byte != UInt8(ascii: "-") {
            let value = UInt64(byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : byte - UInt8(ascii: "a") + 10)
            if nibbles < 16 { high = high << 4 | value } else { low = low << 4 | value }
            nibbles += 1
        }
    }
}
