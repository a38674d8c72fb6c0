/// The fast path for reading a line of the log (README, "The log on disk"): one pass
/// over the bytes that proves the line is strict JSON *and* already its own canonical
/// form (RFC 8785), and finds the envelope's members in place, so that nothing needs to
/// be re-encoded to check it and the hash is computed over the line's own bytes less
/// its `,"hash":"…"` member.
///
/// It accepts only what it can prove: members in the envelope's canonical order,
/// envelope strings without escapes, ASCII member names. Anything else (a line that is
/// not canonical, not JSON, or merely unusual) gives nil, and the caller falls back to
/// the strict parser and the canonical encoder, which decide and explain. So the fast
/// path never accepts a line the slow path refuses, nor reads one differently: tests
/// compare both on the generated logs and on the JSONTestSuite files.
struct CanonicalLine {
    /// Byte ranges of the envelope's string contents (without their quotes).
    var actor: Range<Int>
    var hash: Range<Int>
    var id: Range<Int>
    var occurred: Range<Int>
    var prev: Range<Int>
    var recorded: Range<Int>
    var source: Range<Int>?
    var stream: Range<Int>
    var type: Range<Int>
    /// The `data` object, braces included.
    var data: Range<Int>
    /// `,"hash":"…"`: what the line holds beyond the canonical form the hash is taken of.
    var hashMember: Range<Int>
    var seq: Int
    var v: Int

    /// Scans `line` (without its newline). Nil when the line is not provably a
    /// canonical envelope; then the strict parser must read it.
    static func scan(_ line: UnsafeRawBufferPointer) -> CanonicalLine? {
        var scanner = Scanner(bytes: line)
        return scanner.envelope()
    }

    /// The SHA-256 of the line less its `hash` member: the hash the event must carry.
    func computedDigest(of line: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(UnsafeRawBufferPointer(rebasing: line[0..<hashMember.lowerBound]))
        hasher.update(UnsafeRawBufferPointer(rebasing: line[hashMember.upperBound...]))
        return hasher.finalize()
    }

    /// Whether `digest` is what the line's `hash` member spells in lower-case hex.
    func hashMatches(_ digest: [UInt8], in line: UnsafeRawBufferPointer) -> Bool {
        let table = Hex.digits
        var at = hash.lowerBound
        for byte in digest {
            guard line[at] == table[Int(byte >> 4)], line[at + 1] == table[Int(byte & 0x0F)] else { return false }
            at += 2
        }
        return true
    }
}

extension Event {
    /// The event of a line that `CanonicalLine.scan` accepted. Nil when an envelope
    /// member has the wrong form; the strict path then names the problem.
    init?(line: UnsafeRawBufferPointer, canonical c: CanonicalLine) {
        guard c.hasWellFormedEnvelope(in: line) else { return nil }
        self.init(line: line, checkedEnvelope: c)
    }

    /// `init(line:canonical:)` for a line whose envelope was checked already
    /// (`ChainCursor.precheck`); nil only when `data` does not parse.
    init?(line: UnsafeRawBufferPointer, checkedEnvelope c: CanonicalLine) {
        func string(_ range: Range<Int>) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: line[range]), as: UTF8.self)
        }
        guard case .object(let data)? = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: line[c.data]), integersOnly: true) else { return nil }
        self.init(seq: c.seq, id: string(c.id), type: string(c.type), v: c.v, stream: string(c.stream), occurred: string(c.occurred), recorded: string(c.recorded),
                  actor: string(c.actor), source: c.source.map(string), data: data, prev: string(c.prev), hash: string(c.hash))
    }
}

extension CanonicalLine {
    /// Whether the envelope's members have the forms SPEC §2 gives them (seq from 1, a
    /// lower-case id, 64 hex digits in prev and hash, real times, an object as data):
    /// what the fast path must know before it trusts a line without the strict parser.
    func hasWellFormedEnvelope(in line: UnsafeRawBufferPointer) -> Bool {
        seq >= 1 && id.count == 36 && prev.count == 64 && hash.count == 64
            && CanonicalLine.isLowerHex(line, prev) && CanonicalLine.isLowerHex(line, hash)
            && EventID.isValid(bytes: UnsafeRawBufferPointer(rebasing: line[id]))
            && Timestamp.isValidOccurred(bytes: UnsafeRawBufferPointer(rebasing: line[occurred]))
            && Timestamp.isValidRecorded(bytes: UnsafeRawBufferPointer(rebasing: line[recorded]))
            && line[data.lowerBound] == UInt8(ascii: "{")
    }

    static func isLowerHex(_ line: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        for i in range where !Hex.isLowerHexDigit(line[i]) { return false }
        return true
    }

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), comma = UInt8(ascii: ",")
    private static let colon = UInt8(ascii: ":")

    /// The scanner: every method returns false (or nil) as soon as the bytes are not
    /// canonical strict JSON, leaving the verdict to the strict parser.
    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        let count: Int
        var index = 0
        var depth = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
            count = bytes.count
        }

        @inline(__always) func byte(_ at: Int) -> UInt8 { at < count ? bytes[at] : 0 }

        /// `"name":` where name is exactly `expected`; steps over it.
        mutating func name(_ expected: StaticString) -> Bool {
            let length = expected.utf8CodeUnitCount
            guard index + length + 3 <= count, bytes[index] == quote else { return false }
            let start = expected.utf8Start
            for k in 0..<length where bytes[index + 1 + k] != start[k] { return false }
            guard bytes[index + 1 + length] == quote, bytes[index + 2 + length] == colon else { return false }
            index += length + 3
            return true
        }

        /// Whether the next member is named `expected` (without stepping over anything).
        func nextNameIs(_ expected: StaticString) -> Bool {
            let length = expected.utf8CodeUnitCount
            guard index + length + 2 <= count, bytes[index] == quote else { return false }
            let start = expected.utf8Start
            for k in 0..<length where bytes[index + 1 + k] != start[k] { return false }
            return bytes[index + 1 + length] == quote
        }

        /// A string value without escapes; returns the range of its contents.
        mutating func plainString() -> Range<Int>? {
            guard byte(index) == quote else { return nil }
            let start = index + 1
            guard let end = stringEnd(from: start, escapes: false) else { return nil }
            index = end + 1
            return start..<end
        }

        mutating func separator() -> Bool {
            guard byte(index) == comma else { return false }
            index += 1
            return true
        }

        mutating func integer() -> Int? {
            let start = index
            let negative = byte(index) == UInt8(ascii: "-")
            if negative { index += 1 }
            let first = byte(index)
            guard first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { return nil }
            var magnitude = 0
            if first == UInt8(ascii: "0") {
                index += 1
                // "-0" is not canonical; "01" is not JSON.
                guard !negative, !isDigit(byte(index)) else { return nil }
            } else {
                while isDigit(byte(index)) {
                    guard index - start < 17 else { return nil }
                    magnitude = magnitude * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                    index += 1
                }
                guard magnitude <= JSONValue.maxSafeInteger else { return nil }
            }
            // A fraction or an exponent: not an integer, not for the fast path.
            let next = byte(index)
            guard next != UInt8(ascii: "."), next != UInt8(ascii: "e"), next != UInt8(ascii: "E") else { return nil }
            return negative ? -magnitude : magnitude
        }

        @inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

        /// The envelope of SPEC §2 in canonical member order.
        mutating func envelope() -> CanonicalLine? {
            guard byte(0) == UInt8(ascii: "{") else { return nil }
            index = 1
            guard name("actor"), let actor = plainString(), separator() else { return nil }
            guard name("data") else { return nil }
            let dataStart = index
            guard byte(index) == UInt8(ascii: "{"), value() else { return nil }
            let data = dataStart..<index
            let hashStart = index
            guard separator(), name("hash"), let hash = plainString() else { return nil }
            let hashMember = hashStart..<index
            guard separator(), name("id"), let id = plainString(), separator() else { return nil }
            guard name("occurred"), let occurred = plainString(), separator() else { return nil }
            guard name("prev"), let prev = plainString(), separator() else { return nil }
            guard name("recorded"), let recorded = plainString(), separator() else { return nil }
            guard name("seq"), let seq = integer(), separator() else { return nil }
            var source: Range<Int>?
            if nextNameIs("source") {
                guard name("source"), let s = plainString(), separator() else { return nil }
                source = s
            }
            guard name("stream"), let stream = plainString(), separator() else { return nil }
            guard name("type"), let type = plainString(), separator() else { return nil }
            guard name("v"), let v = integer() else { return nil }
            guard byte(index) == UInt8(ascii: "}"), index + 1 == count else { return nil }
            return CanonicalLine(actor: actor, hash: hash, id: id, occurred: occurred, prev: prev, recorded: recorded, source: source,
                                 stream: stream, type: type, data: data, hashMember: hashMember, seq: seq, v: v)
        }

        /// Any canonical JSON value at `index`; steps over it.
        mutating func value() -> Bool {
            switch byte(index) {
            case UInt8(ascii: "{"):
                depth += 1
                guard depth < JSONParser.maxDepth else { return false }
                index += 1
                if byte(index) == UInt8(ascii: "}") { index += 1; depth -= 1; return true }
                var previousName: Range<Int>?
                while true {
                    guard byte(index) == quote else { return false }
                    let start = index + 1
                    // Names are compared as bytes, which is their UTF-16 order only for
                    // ASCII without escapes; anything else goes to the strict path.
                    guard let end = stringEnd(from: start, escapes: false, asciiOnly: true) else { return false }
                    let name = start..<end
                    if let previousName, !Scanner.precedes(bytes, previousName, name) { return false }
                    previousName = name
                    index = end + 1
                    guard byte(index) == colon else { return false }
                    index += 1
                    guard value() else { return false }
                    if byte(index) == comma { index += 1; continue }
                    guard byte(index) == UInt8(ascii: "}") else { return false }
                    index += 1
                    depth -= 1
                    return true
                }
            case UInt8(ascii: "["):
                depth += 1
                guard depth < JSONParser.maxDepth else { return false }
                index += 1
                if byte(index) == UInt8(ascii: "]") { index += 1; depth -= 1; return true }
                while true {
                    guard value() else { return false }
                    if byte(index) == comma { index += 1; continue }
                    guard byte(index) == UInt8(ascii: "]") else { return false }
                    index += 1
                    depth -= 1
                    return true
                }
            case quote:
                guard let end = stringEnd(from: index + 1, escapes: true) else { return false }
                index = end + 1
                return true
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default:
                return integer() != nil
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let length = word.utf8CodeUnitCount
            guard index + length <= count else { return false }
            for k in 0..<length where bytes[index + k] != word.utf8Start[k] { return false }
            index += length
            return true
        }

        /// Byte-wise strict order of two ASCII names.
        static func precedes(_ bytes: UnsafeRawBufferPointer, _ a: Range<Int>, _ b: Range<Int>) -> Bool {
            let n = min(a.count, b.count)
            for k in 0..<n {
                let x = bytes[a.lowerBound + k], y = bytes[b.lowerBound + k]
                if x != y { return x < y }
            }
            return a.count < b.count
        }

        /// The offset of the closing quote of a string whose contents start at `from`,
        /// when the contents are in canonical form: valid UTF-8, no control character,
        /// and only the escapes RFC 8785 writes (when `escapes` allows any).
        func stringEnd(from start: Int, escapes: Bool, asciiOnly: Bool = false) -> Int? {
            var i = start
            while true {
                while i &+ 8 <= count {
                    let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    if UTF8Sequence.needsAttention(word) { break }
                    i &+= 8
                }
                guard i < count else { return nil }
                let b = bytes[i]
                if b == quote { return i }
                if b == backslash {
                    guard escapes, i + 1 < count else { return nil }
                    switch bytes[i + 1] {
                    case quote, backslash, UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        i += 2
                    case UInt8(ascii: "u"):
                        // Only a control character without a short form: \u00XX, lower-case hex.
                        guard i + 5 < count, bytes[i + 2] == UInt8(ascii: "0"), bytes[i + 3] == UInt8(ascii: "0") else { return nil }
                        let high = bytes[i + 4], low = bytes[i + 5]
                        guard high == UInt8(ascii: "0") || high == UInt8(ascii: "1"), Hex.isLowerHexDigit(low) else { return nil }
                        let value = (high - UInt8(ascii: "0")) << 4 | (low <= UInt8(ascii: "9") ? low - UInt8(ascii: "0") : low - UInt8(ascii: "a") + 10)
                        guard ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(value) else { return nil }
                        i += 6
                    default:
                        return nil
                    }
                } else if b < 0x20 {
                    return nil
                } else if b < 0x80 {
                    i += 1
                } else {
                    guard !asciiOnly, let next = Scanner.utf8SequenceEnd(bytes, i, count) else { return nil }
                    i = next
                }
            }
        }

        /// The end of a well-formed UTF-8 sequence (RFC 3629 §4) starting at `i`.
        static func utf8SequenceEnd(_ bytes: UnsafeRawBufferPointer, _ i: Int, _ count: Int) -> Int? {
            guard let (second, length) = UTF8Sequence.shape(lead: bytes[i]) else { return nil }
            guard i + length <= count, second.contains(bytes[i + 1]) else { return nil }
            for k in 2..<length where bytes[i + k] & 0xC0 != 0x80 { return nil }
            return i + length
        }
    }
}
