/// The well-formed multi-byte UTF-8 sequences of RFC 3629 §4, table 3-7 of Unicode, and
/// the 8-byte test for where a string needs a closer look:
/// shared by the strict parser (which explains what is wrong) and the canonical fast
/// path (which only needs to know whether it is right).
public enum UTF8Sequence {
    /// The offset of the first byte of `bytes` that does not belong to well-formed UTF-8
    /// (RFC 3629); nil when all of it does.
    public static func offsetOfFirstInvalid(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            // Eight ASCII bytes at a time.
            if i + 8 <= n, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
                continue
            }
            let lead = bytes[i]
            if lead < 0x80 { i += 1; continue }
            guard let (second, length) = shape(lead: lead), i + length <= n, second.contains(bytes[i + 1]) else { return i }
            for k in 2..<max(length, 2) where !(0x80...0xBF).contains(bytes[i + k]) { return i }
            i += length
        }
        return nil
    }

    /// For a lead byte of a well-formed sequence: the allowed range of its second byte
    /// and the sequence's length; nil for any byte that cannot lead one.
    @inline(__always)
    static func shape(lead: UInt8) -> (second: ClosedRange<UInt8>, length: Int)? {
        switch lead {
        case 0xC2...0xDF: (0x80...0xBF, 2)
        case 0xE0: (0xA0...0xBF, 3)
        case 0xE1...0xEC, 0xEE...0xEF: (0x80...0xBF, 3)
        case 0xED: (0x80...0x9F, 3)
        case 0xF0: (0x90...0xBF, 4)
        case 0xF1...0xF3: (0x80...0xBF, 4)
        case 0xF4: (0x80...0x8F, 4)
        default: nil
        }
    }

    /// True when some byte of `word` (8 bytes of a string's contents) is '"', '\', below
    /// 0x20 or above 0x7F (exact, no false negatives): where both scanners must stop and
    /// look byte by byte.
    @inline(__always)
    static func needsAttention(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* 0x22), backslashes = word ^ (ones &* 0x5C)
        let hasQuote = (quotes &- ones) & ~quotes
        let hasBackslash = (backslashes &- ones) & ~backslashes
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl | word) & highs != 0
    }
}
