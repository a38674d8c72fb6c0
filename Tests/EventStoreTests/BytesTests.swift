@testable import EventStore
import XCTest

final class BytesTests: XCTestCase {
    /// `Bytes.contains` (the C library's `memmem` here), and the search used where there
    /// is none, against a search done by hand, on haystacks of three letters, where
    /// partial matches are everywhere.
    func testABytesSearchFindsWhatASearchByHandFinds() {
        var random = SplitMix64(seed: 8)
        let alphabet: [UInt8] = Array("ab\"".utf8)
        var found = 0
        for _ in 0..<5000 {
            let haystack = (0..<Int(random.next() % 40)).map { _ in alphabet[Int(random.next() % 3)] }
            let needle = (0..<Int(1 + random.next() % 5)).map { _ in alphabet[Int(random.next() % 3)] }
            let byHand = haystack.count >= needle.count
                && (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
            let (searched, byFirstByte) = haystack.withUnsafeBytes { h in
                needle.withUnsafeBytes { n in (Bytes.contains(h, n), Bytes.firstRangeByFirstByte(of: n, in: h, from: 0) != nil) }
            }
            let message = "\(String(decoding: needle, as: UTF8.self)) in \(String(decoding: haystack, as: UTF8.self))"
            XCTAssertEqual(searched, byHand, message)
            XCTAssertEqual(byFirstByte, byHand, "without memmem: \(message)")
            if byHand { found += 1 }
        }
        // Both answers occur often enough to matter.
        XCTAssertGreaterThan(found, 1000)
        XCTAssertLessThan(found, 4000)
    }

    /// A search that starts after a match finds the next one, or none; with `memmem` and
    /// without.
    func testASearchFromAnOffsetFindsOnlyWhatFollowsIt() {
        let line = Array(#"{"text":"sha256-a","x":"text","text":"sha256-b"}"#.utf8)
        let needle: StaticString = #""text":"sha256-"#
        let searches: [(String, (UnsafeRawBufferPointer, Int) -> Range<Int>?)] = [
            ("memmem", { Bytes.firstRange(of: needle, in: $0, from: $1) }),
            ("first byte", { Bytes.firstRangeByFirstByte(of: UnsafeRawBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount), in: $0, from: $1) }),
        ]
        line.withUnsafeBytes { raw in
            for (name, search) in searches {
                let first = search(raw, 0)
                XCTAssertEqual(first, 1..<16, name)
                let second = search(raw, first!.lowerBound + 1)
                XCTAssertEqual(second, 30..<45, name)
                XCTAssertNil(search(raw, second!.lowerBound + 1), name)
                XCTAssertNil(search(raw, raw.count), name)
            }
        }
    }
}
