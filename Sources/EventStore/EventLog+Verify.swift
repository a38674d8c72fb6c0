
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
    /// Complexity: one pass over the log, and a second over the raw lines only when an
    /// id may have been used before (see `IDFilter`; rare). Memory grows with the
    /// number of ids (8 bytes each, at least 8 MiB in all) and text references, not
    /// with the size of the events. `alsoEach` sees every line once it passed, in order,
    /// for a caller that folds the log as it is checked.
    public func verify(expectHead: LogHead? = nil, alsoEach: ((LogLine) -> Void)? = nil) throws -> VerifyReport {
        var report = VerifyReport(events: 0, head: .empty, tornTail: nil, erasedTexts: 0, failure: nil)
        // About one id per 300 bytes of log.
        var ids = IDFilter(expectedIDs: ((try? bytesToRead(from: .start)) ?? 0) / 300)
        // Where an id the filter may have seen before was used: checked exactly after the pass.
        var mayBeReused: [(id: UUIDKey, place: LogPlace)] = []
        // Ids are added to the filter a few hundred at a time: one cache miss each, and
        // a loop of nothing else lets the processor wait for many of them at once.
        var unfiltered = IDFilter.Pending()
        func filterPending() {
            ids.insert(&unfiltered) { id, met in mayBeReused.append((id, LogPlace(seq: met.seq, file: EventLog.segmentName(met.segment), line: met.line))) }
        }
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
                if unfiltered.add(line.id, seq: line.seq, location: line.location) { filterPending() }
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
        }
        filterPending()
        // An id used again fails where it was used again, when that comes before what the pass found.
        if let reused = try firstReused(mayBeReused), reused.place.seq < report.failure?.place.seq ?? Int.max {
            report.failure = IntegrityFailure(place: reused.place, reason: "id \(reused.id) was already used by an earlier event")
            report.events = reused.place.seq - 1
        }
        if report.failure != nil {
            // The head the lines before the failure reached: read again, since no line's
            // hash is made into a string while all goes well.
            report.head = head(after: report.events)
            report.tornTail = nil
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
    /// Of `candidates` (where an id was used, in seq order, each in a line that passed
    /// `verify`), the first whose id an earlier line holds, with that id. One pass over
    /// the raw lines up to the last candidate reads the `id` of only the lines whose
    /// bytes hold one of theirs after `"id":"`.
    func firstReused(_ candidates: [(id: UUIDKey, place: LogPlace)]) throws -> (id: String, place: LogPlace)? {
        guard let last = candidates.last?.place.seq else { return nil }
        let ids = Set(candidates.map(\.id))
        var firstSeq: [UUIDKey: Int] = [:]
        var strings: [UUIDKey: String] = [:]
        try forEachRawLine { line, seq in
            if let (id, string) = EventLog.envelopeID(of: line, where: ids.contains), firstSeq[id] == nil {
                (firstSeq[id], strings[id]) = (seq, string)
            }
            return seq < last
        }
        let reused = candidates.first { candidate in firstSeq[candidate.id].map { $0 < candidate.place.seq } ?? false }
        return reused.map { (strings[$0.id]!, $0.place) }
    }

    /// The `id` of a raw line when its key passes `wanted`, found without scanning the
    /// line unless it does: by the bytes after each `"id":"` in it, then confirmed as
    /// the envelope's (not a member of `data` so named) by the canonical scan. Nil for
    /// a line that is not canonical.
    public static func envelopeID(of line: UnsafeRawBufferPointer, where wanted: (UUIDKey) -> Bool) -> (key: UUIDKey, string: String)? {
        var from = 0
        while let at = Bytes.firstRange(of: #""id":""#, in: line, from: from) {
            from = at.upperBound
            let value = at.upperBound..<(at.upperBound + 36)
            guard value.upperBound < line.count, line[value.upperBound] == UInt8(ascii: "\"") else { continue }
            let bytes = UnsafeRawBufferPointer(rebasing: line[value])
            guard EventID.isValid(bytes: bytes), wanted(UUIDKey(bytes: bytes)), CanonicalLine.scan(line)?.id == value else { continue }
            return (UUIDKey(bytes: bytes), String(decoding: bytes, as: UTF8.self))
        }
        return nil
    }

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

/// The ids a read has met, as a Bloom filter: `insert` says whether an id may have been
/// met before, wrongly for about one id in ten million at the usual size, and never
/// misses one that was. 8 bytes an id (a set of the 16-byte ids takes about 32),
/// at least 8 MiB. Split into blocks of 64 bytes (one cache line): an id sets one bit
/// in each of its block's eight words.
struct IDFilter {
    private var words: [UInt64]
    private let blocks: Int
    static let minimumBytes = 8 << 20
    /// Whether `insert` says "maybe" of every id, so that the exact check decides each
    /// one. Set only by tests.
    nonisolated(unsafe) static var doubtsEveryIDForTests = false

    init(expectedIDs: Int) {
        blocks = max(1, max(IDFilter.minimumBytes, expectedIDs * 8) / 64)
        words = [UInt64](repeating: 0, count: blocks * 8)
    }

    /// Where an id was met: a `LogPlace` without its file's name made.
    typealias Met = (seq: Int, segment: Int, line: Int)

    /// Ids waiting to be added (`insert(_:reused:)`), with where each was met.
    struct Pending {
        fileprivate var ids: [(id: UUIDKey, met: Met)] = []
        static let capacity = 512

        /// Adds `id`; true when the batch is full and should be inserted.
        mutating func add(_ id: UUIDKey, seq: Int, location: LineLocation) -> Bool {
            if ids.isEmpty { ids.reserveCapacity(Pending.capacity) }
            ids.append((id, (seq, location.segment, location.line)))
            return ids.count >= Pending.capacity
        }
    }

    /// Adds the `pending` ids in order, calling `reused` with each that may have been
    /// added before and where it was met; leaves `pending` empty.
    mutating func insert(_ pending: inout Pending, reused: (UUIDKey, Met) -> Void) {
        for entry in pending.ids where !insert(entry.id) { reused(entry.id, entry.met) }
        pending.ids.removeAll(keepingCapacity: true)
    }

    /// Adds `id`; false when every bit it sets was set already: it may have been added before.
    mutating func insert(_ id: UUIDKey) -> Bool {
        // A UUID's bits are random, but a forged id need not be: mixed all the same.
        let mixed = (id.high ^ id.low &* 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
        let bits = (id.low ^ id.high &* 0xC2B2_AE3D_27D4_EB4F) &* 0x94D0_49BB_1331_11EB
        let first = Int(mixed.multipliedFullWidth(by: UInt64(blocks)).high) * 8
        var new = false
        words.withUnsafeMutableBufferPointer { words in
            for word in 0..<8 {
                let bit: UInt64 = 1 << ((bits >> (6 * UInt64(word))) & 63)
                if words[first + word] & bit == 0 {
                    words[first + word] |= bit
                    new = true
                }
            }
        }
        return new && !IDFilter.doubtsEveryIDForTests
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
