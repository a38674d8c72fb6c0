import Foundation
import XCTest

/// A fresh, uniquely named directory under the system's temporary directory.
struct TemporaryDirectory: Sendable {
    let url: URL

    /// Creates the directory; `prefix` starts its name, to tell test leftovers apart.
    init(prefix: String = "recoveryctl-test") throws {
        let base = FileManager.default.temporaryDirectory.resolvingSymlinksInPath()
        url = base.appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    func appending(_ component: String) -> URL {
        url.appendingPathComponent(component)
    }

    /// Deletes the directory and everything in it.
    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

extension XCTestCase {
    /// A fresh directory that is deleted when the test ends, pass or fail.
    func makeTemporaryDirectory(prefix: String = "recoveryctl-test") throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory(prefix: prefix)
        addTeardownBlock { directory.remove() }
        return directory
    }
}
