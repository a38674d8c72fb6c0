/// The well-formed multi-byte UTF-8 sequences of RFC 3629 §4, table 3-7 of Unicode:
/// shared by the strict parser (which explains what is wrong) and the canonical fast
/// path (which only needs to know whether it is right).
enum UTF8Sequence {
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
}
