#if canImport(Glibc)
import Glibc
#endif

/// Bytes after the last newline of the last segment: a write that never finished and
/// was never acknowledged (SPEC §2). A normal outcome of reading, not an error.
public struct TornTail: Sendable, Equatable {
    public var file: String
    public var offset: Int
    public var length: Int

    public init(file: String, offset: Int, length: Int) {
        self.file = file
        self.offset = offset
        self.length = length
    }
}

/// Streams the lines of one segment file through a fixed buffer, never holding more
/// than one line beyond it.
struct SegmentReader {
    static let bufferSize = 4 << 20

    enum Ending {
        /// The file ended with a newline (or was empty).
        case clean
        /// Bytes after the last newline, starting at `offset`.
        case unterminated(offset: Int, length: Int)
    }

    /// The newlines among the first `limit` bytes of a file, however long its lines.
    static func countNewlines(path: String, upTo limit: Int = Int.max) throws -> Int {
        let fd = try FileIO.open(path, O_RDONLY)
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var count = 0, offset = 0
        while offset < limit {
            let n = FileIO.retryingEINTR { read(fd, buffer.baseAddress!, min(buffer.count, limit - offset)) }
            if n < 0 { throw LogError.io(operation: "read", path: path, errno: errno) }
            if n == 0 { break }
            var p = buffer.baseAddress!, left = n
            while left > 0, let newline = memchr(p, 0x0A, left) {
                count += 1
                let step = p.distance(to: newline) + 1
                p += step
                left -= step
            }
            offset += n
        }
        return count
    }

    /// Calls `body` with each line (without its `\n`), its 1-based line number and its
    /// byte offset, starting at `offset`, numbering from `firstLine`. `body` returns
    /// false to stop early. A line longer than `maxLine` is reported to `tooLong` with
    /// its line number and offset, and reading stops. Bytes at and after `limit` are
    /// not read; what precedes them without a newline is reported as unterminated.
    static func forEachLine(
        path: String, from offset: Int = 0, to limit: Int = Int.max, firstLine: Int = 1, maxLine: Int,
        tooLong: (Int, Int) throws -> Void,
        _ body: (UnsafeRawBufferPointer, Int, Int) throws -> Bool
    ) throws -> Ending {
        let fd = try FileIO.open(path, O_RDONLY)
        defer { close(fd) }
        if offset > 0, lseek(fd, off_t(offset), SEEK_SET) < 0 { throw LogError.io(operation: "seek", path: path, errno: errno) }

        let capacity = max(bufferSize, maxLine + 1)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var filled = 0          // bytes in buffer
        var bufferOffset = offset  // file offset of buffer[0]
        var lineNumber = firstLine

        while true {
            let n = FileIO.retryingEINTR { read(fd, buffer.baseAddress! + filled, min(capacity - filled, limit - (bufferOffset + filled))) }
            if n < 0 { throw LogError.io(operation: "read", path: path, errno: errno) }
            if n == 0 {
                return filled == 0 ? .clean : .unterminated(offset: bufferOffset, length: filled)
            }
            filled += n
            var start = 0
            while start < filled {
                let base = buffer.baseAddress! + start
                guard let newline = memchr(base, 0x0A, filled - start) else { break }
                let length = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(newline))
                if length + 1 > maxLine {
                    try tooLong(lineNumber, bufferOffset + start)
                    return .clean
                }
                let line = UnsafeRawBufferPointer(start: base, count: length)
                guard try body(line, lineNumber, bufferOffset + start) else { return .clean }
                lineNumber += 1
                start += length + 1
            }
            if start == 0 && filled == capacity {
                try tooLong(lineNumber, bufferOffset)
                return .clean
            }
            // Move the unfinished line to the front.
            if start > 0 {
                if start < filled { memmove(buffer.baseAddress!, buffer.baseAddress! + start, filled - start) }
                filled -= start
                bufferOffset += start
            }
        }
    }
}
