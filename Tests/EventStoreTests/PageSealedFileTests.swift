@testable import EventStore
import Foundation
import XCTest

/// A file sealed page by page (`PageSealedFile`, the validation checkpoint's form): a
/// reader checks only the pages it reads, and any change to the file fails a MAC.
final class PageSealedFileTests: TemporaryDirectoryTestCase {
    private let key = [UInt8](repeating: 7, count: 32)
    private var path: String { "\(directory)/sealed" }

    /// Contents of `count` bytes, each its offset's low byte mixed with `salt`.
    private func contents(_ count: Int, salt: UInt8 = 0) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 * 31) ^ salt } }

    private func seal(_ contents: [UInt8], name: String = "checkpoint.bin", to path: String? = nil) throws -> [UInt8] {
        let file = PageSealedFile.seal(contents, name: name, key: key) + contents
        try Data(file).write(to: URL(fileURLWithPath: path ?? self.path))
        return file
    }

    private func open(name: String = "checkpoint.bin", key: [UInt8]? = nil) -> PageSealedFile? {
        PageSealedFile(path: path, name: name, key: key ?? self.key)
    }

    func testRangesComeBackAcrossPageBoundariesAndOnlyTheirPagesAreChecked() throws {
        let page = PageSealedFile.pageSize
        for count in [0, 1, page - 1, page, page + 1, 10 * page + 123] {
            let original = contents(count)
            _ = try seal(original)
            let file = try XCTUnwrap(open(), "\(count) bytes")
            XCTAssertEqual(file.count, count)
            XCTAssertEqual(file.pagesChecked, 0, "opening reads the head only")
            var rng = SplitMix64(seed: UInt64(count))
            for _ in 0..<50 where count > 0 {
                let start = Int.random(in: 0..<count, using: &rng)
                let end = Int.random(in: start...min(count, start + 2 * page), using: &rng)
                XCTAssertEqual(file.bytes(start..<end), Array(original[start..<end]), "\(start)..<\(end) of \(count)")
            }
            XCTAssertEqual(file.contents(), original)
            XCTAssertFalse(file.failed)
        }
        _ = try seal(contents(100 * page))
        let file = try XCTUnwrap(open())
        XCTAssertEqual(file.bytes((50 * page - 2)..<(50 * page + 2)), Array(contents(100 * page)[(50 * page - 2)..<(50 * page + 2)]))
        XCTAssertEqual(file.pagesChecked, 2, "a range over two pages reads those two")
        // Out of the contents: refused, and the file is not trusted after it.
        XCTAssertNil(file.bytes((100 * page - 1)..<(100 * page + 1)))
        XCTAssertTrue(file.failed)
    }

    func testAChangedByteFailsItsPageWhenReadAndTheHeadAtOnce() throws {
        let page = PageSealedFile.pageSize
        let original = contents(8 * page + 10)
        let sealed = try seal(original)
        let contentsStart = sealed.count - original.count
        // Every byte of the head (format line, nonce, sizes, MAC) is checked on opening.
        for at in 0..<(contentsStart - 9 * 32) {
            var edited = sealed
            edited[at] ^= 0x01
            try Data(edited).write(to: URL(fileURLWithPath: path))
            XCTAssertNil(open(), "head byte \(at) changed")
        }
        // A page's MAC or a byte of the page: that page fails when read, not before.
        for at in [contentsStart - 9 * 32, contentsStart - 32, contentsStart + 3 * page + 17, sealed.count - 1] {
            var edited = sealed
            edited[at] ^= 0x01
            try Data(edited).write(to: URL(fileURLWithPath: path))
            let file = try XCTUnwrap(open(), "byte \(at) changed")
            let damaged = at < contentsStart ? (at - (contentsStart - 9 * 32)) / 32 : (at - contentsStart) / page
            let other = damaged == 0 ? 1 : 0
            XCTAssertEqual(file.bytes((other * page)..<(other * page + 5)), Array(original[(other * page)..<(other * page + 5)]))
            XCTAssertNil(file.bytes((damaged * page)..<(damaged * page + 1)), "byte \(at) changed: page \(damaged)")
            XCTAssertTrue(file.failed)
            XCTAssertNil(file.bytes((other * page)..<(other * page + 5)), "once a page failed, nothing is read")
            XCTAssertNil(try XCTUnwrap(open()).contents(), "byte \(at) changed")
        }
    }

    func testPagesMovedCutOrTakenFromAnotherFileFail() throws {
        let page = PageSealedFile.pageSize
        let first = try seal(contents(4 * page))
        let second = try seal(contents(4 * page, salt: 0x55), to: "\(directory)/other")
        let contentsStart = first.count - 4 * page
        let macsStart = contentsStart - 4 * 32
        // Page 2 and its MAC from another file sealed under the same key and name: the nonce differs.
        var spliced = first
        let macOfPage2: Range<Int> = (macsStart + 64)..<(macsStart + 96)
        let page2: Range<Int> = (contentsStart + 2 * page)..<(contentsStart + 3 * page)
        spliced.replaceSubrange(macOfPage2, with: second[macOfPage2])
        spliced.replaceSubrange(page2, with: second[page2])
        try Data(spliced).write(to: URL(fileURLWithPath: path))
        XCTAssertNil(try XCTUnwrap(open()).bytes((2 * page)..<(2 * page + 1)))
        // Pages 0 and 1 swapped with their MACs: the number is in each MAC.
        var swapped = first
        let (mac0, mac1): (Range<Int>, Range<Int>) = (macsStart..<(macsStart + 32), (macsStart + 32)..<(macsStart + 64))
        let (page0, page1): (Range<Int>, Range<Int>) = (contentsStart..<(contentsStart + page), (contentsStart + page)..<(contentsStart + 2 * page))
        swapped.replaceSubrange(mac0.lowerBound..<mac1.upperBound, with: Array(first[mac1]) + Array(first[mac0]))
        swapped.replaceSubrange(page0.lowerBound..<page1.upperBound, with: Array(first[page1]) + Array(first[page0]))
        try Data(swapped).write(to: URL(fileURLWithPath: path))
        XCTAssertNil(try XCTUnwrap(open()).bytes(0..<1))
        // Cut by a byte or a page, or one byte longer: the sealed length says otherwise.
        for edited in [Array(first.dropLast()), Array(first.dropLast(page)), first + [0]] {
            try Data(edited).write(to: URL(fileURLWithPath: path))
            XCTAssertNil(open(), "\(edited.count) bytes instead of \(first.count)")
        }
        // Another key, or the same bytes under another name: the head's MAC fails.
        try Data(first).write(to: URL(fileURLWithPath: path))
        XCTAssertNil(open(key: [UInt8](repeating: 8, count: 32)))
        XCTAssertNil(open(name: "kpi-checkpoint.json"))
        XCTAssertNotNil(open())
        XCTAssertNil(PageSealedFile(path: "\(directory)/missing", name: "checkpoint.bin", key: key))
    }

    func testTheLogWritesAndOpensItsDerivedFileSealedByPage() throws {
        let log = try makeLog()
        try withEnvironment("RECOVERY_CHECKPOINT_KEY", "\(directory)/key/checkpoint.key") {
            let original = contents(3 * PageSealedFile.pageSize + 1)
            try log.writePageSealedDerivedFile("checkpoint.bin", bytes: original)
            XCTAssertEqual(log.openPageSealedDerivedFile("checkpoint.bin")?.contents(), original)
            XCTAssertNil(log.openPageSealedDerivedFile("other.bin"))
        }
    }
}
