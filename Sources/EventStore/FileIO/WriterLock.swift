#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The pre-append state of a batch being written, kept in `LOCK` until its fsync.
struct BatchJournal: Equatable {
    var segment: Int
    /// Length of the segment before the batch.
    var length: Int
    /// Lines the batch writes.
    var lines: Int

    var bytes: [UInt8] {
        CanonicalJSON.encode(.object(JSONObject(["segment": .integer(segment), "length": .integer(length), "lines": .integer(lines)]))) + [0x0A]
    }

    /// Reads a journal; nil for an empty or unfinished one (a writer that had not yet
    /// fsynced its journal had not yet written a line either).
    init?(bytes: [UInt8]) {
        guard bytes.last == 0x0A,
              case .object(let object)? = try? JSONParser.parse(Array(bytes.dropLast())),
              case .integer(let segment)? = object["segment"], case .integer(let length)? = object["length"],
              case .integer(let lines)? = object["lines"] else { return nil }
        self.init(segment: segment, length: length, lines: lines)
    }

    init(segment: Int, length: Int, lines: Int) {
        self.segment = segment
        self.length = length
        self.lines = lines
    }

    /// The journal in the log at `path`, read without the lock.
    static func current(logPath: String) -> BatchJournal? {
        (try? FileIO.readFile("\(logPath)/\(EventLog.lockName)")).flatMap { BatchJournal(bytes: $0) }
    }
}

/// The writers' exclusive `flock` on `LOCK` (SPEC §2: not `fcntl`, whose locks vanish
/// when any descriptor of the file closes). A class because it owns the descriptor.
final class WriterLock {
    let path: String
    private let fd: Int32

    /// Waits for the lock, polling, for at most `timeout` seconds.
    init(path: String, timeout: Double) throws(LogError) {
        self.path = path
        fd = try FileIO.open(path, O_RDWR, operation: "open the lock")
        let deadline = Timestamp.nowMillis() + Int64(timeout * 1000)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                close(fd)
                throw .io(operation: "lock", path: path, errno: code)
            }
            if Timestamp.nowMillis() >= deadline {
                close(fd)
                throw .lockTimeout(path: path, seconds: timeout)
            }
            usleep(5_000)
        }
    }

    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// Writes and fsyncs the journal before a batch's first byte is written.
    func writeJournal(segment: Int, length: Int, lines: Int, using ops: FileOperations) throws(LogError) {
        let bytes = BatchJournal(segment: segment, length: length, lines: lines).bytes
        guard ops.ftruncate(fd, 0) == 0 else { throw .io(operation: "truncate", path: path, errno: errno) }
        lseek(fd, 0, SEEK_SET)
        try FileIO.writeAll(fd, bytes, path: path, originalLength: 0, using: ops)
        try FileIO.fsync(fd, path: path, using: ops)
    }

    /// Empties the journal once the batch is fsynced. Not fsynced itself: a journal
    /// left behind by a crash names a batch that is complete, and is then ignored.
    func clearJournal(using ops: FileOperations) {
        _ = ops.ftruncate(fd, 0)
    }
}
