@testable import EventStore
import XCTest

final class BytesTests: XCTestCase {
    /// `Bytes.contains` (the C library's `memmem` here) against a search done by hand, on
    /// haystacks of three letters, where partial matches are everywhere.
    func testABytesSearchFindsWhatASearchByHandFinds() {
        var random = SplitMix64(seed: 8)
        let alphabet: [UInt8] = Array("ab\"".utf8)
        var found = 0
        for _ in 0..<5000 {
            let haystack = (0..<Int(random.next() % 40)).map { _ in alphabet[Int(random.next() % 3)] }
            let needle = (0..<Int(1 + random.next() % 5)).map { _ in alphabet[Int(random.next() % 3)] }
            let byHand = haystack.count >= needle.count
                && (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
            let searched = haystack.withUnsafeBytes { h in needle.withUnsafeBytes { n in Bytes.contains(h, n) } }
            XCTAssertEqual(searched, byHand, "\(String(decoding: needle, as: UTF8.self)) in \(String(decoding: haystack, as: UTF8.self))")
            if byHand { found += 1 }
        }
        // Both answers occur often enough to matter.
        XCTAssertGreaterThan(found, 1000)
        XCTAssertLessThan(found, 4000)
    }

    /// A search that starts after a match finds the next one, or none.
    func testASearchFromAnOffsetFindsOnlyWhatFollowsIt() {
        let line = Array(#"{"text":"sha256-a","x":"text","text":"sha256-b"}"#.utf8)
        line.withUnsafeBytes { raw in
            let first = Bytes.firstRange(of: #""text":"sha256-"#, in: raw, from: 0)
            XCTAssertEqual(first, 1..<16)
            let second = Bytes.firstRange(of: #""text":"sha256-"#, in: raw, from: first!.lowerBound + 1)
            XCTAssertEqual(second, 30..<45)
            XCTAssertNil(Bytes.firstRange(of: #""text":"sha256-"#, in: raw, from: second!.lowerBound + 1))
            XCTAssertNil(Bytes.firstRange(of: #""text":"sha256-"#, in: raw, from: raw.count))
        }
    }
}
