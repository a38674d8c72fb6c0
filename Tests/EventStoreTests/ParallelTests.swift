@testable import EventStore
import XCTest

final class ParallelTests: XCTestCase {
    /// Split over the cores or not, every index gets its own result, in order.
    func testReleaseFreesTheValueOnAnotherThread() {
        final class Tracked: @unchecked Sendable {
            let freed: XCTestExpectation
            init(_ freed: XCTestExpectation) { self.freed = freed }
            deinit {
                XCTAssertFalse(Thread.isMainThread, "freed on the thread that handed it over")
                freed.fulfill()
            }
        }
        let freed = expectation(description: "the value was freed")
        let batch = [Tracked(freed)]
        // Handed over whole: this thread keeps no reference that could be the last.
        Parallel.release(consume batch)
        wait(for: [freed], timeout: 10)
    }

    func testMapGivesEveryIndexItsResultInOrder() {
        for count in [0, 1, 7, 255, 256, 10_007] {
            let expected = (0..<count).map { $0 &* 2_654_435_761 }
            XCTAssertEqual(Parallel.map(count: count, threshold: 256) { $0 &* 2_654_435_761 }, expected, "\(count)")
            XCTAssertEqual(Parallel.map(count: count, threshold: 0) { $0 &* 2_654_435_761 }, expected, "\(count), always split")
        }
        // Results that own memory survive the parts' buffer.
        XCTAssertEqual(Parallel.map(count: 1000, threshold: 0) { String(repeating: "x", count: $0 % 40) }.map(\.count),
                       (0..<1000).map { $0 % 40 })
    }
}
