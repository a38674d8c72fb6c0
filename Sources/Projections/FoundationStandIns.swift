import EventStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Two names of Foundation that `Checkpoint.swift` still uses, answered without it (the
// file is being changed on another branch; once that is merged, it can name
// `ZoneRules` and `FileIO.exists` itself and these go). Internal: no client of the
// module sees them, but a test that imports Foundation and `@testable import Projections`
// must write `Foundation.FileManager.default.fileExists` and `Foundation.TimeZone`.

/// The log's time zone: `EventStore.ZoneRules`, not Foundation's type, which needs ICU.
typealias TimeZone = ZoneRules

/// `FileManager.default.fileExists(atPath:)`, the one call of Foundation's file manager
/// made here: whether anything is at `path` (a symbolic link followed).
struct FileManager {
    static let `default` = FileManager()

    func fileExists(atPath path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }
}
