#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system calls through which the store changes bytes on disk.
///
/// Implementations must behave like POSIX: return -1 and set `errno` on failure, and
/// `write` may write fewer bytes than asked. Tests substitute an implementation that
/// fails on demand (short writes, `EIO`, `ENOSPC`, a failing `fsync`).
public protocol FileOperations: Sendable {
    func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int
    func fsync(_ fd: Int32) -> Int32
    func ftruncate(_ fd: Int32, _ length: Int) -> Int32
    /// Writes back everything dirty on the file system holding `fd` and flushes the
    /// device (Linux `syncfs`); reports a writeback error that happened since `fd` was
    /// opened. Returns -1 with `ENOSYS` where there is no such call.
    func syncfs(_ fd: Int32) -> Int32
}

extension FileOperations {
    /// The kernel's `syncfs`, for implementations that only change the other calls.
    public func syncfs(_ fd: Int32) -> Int32 { FileIO.systemSyncfs(fd) }
}

/// The kernel's own calls.
public struct SystemFileOperations: FileOperations {
    public init() {}
    public func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        Glibc.write(fd, buffer, count)
        #else
        Darwin.write(fd, buffer, count)
        #endif
    }
    public func fsync(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
        Glibc.fsync(fd)
        #else
        Darwin.fsync(fd)
        #endif
    }
    public func ftruncate(_ fd: Int32, _ length: Int) -> Int32 {
        #if canImport(Glibc)
        Glibc.ftruncate(fd, off_t(length))
        #else
        Darwin.ftruncate(fd, off_t(length))
        #endif
    }
}

/// Writing a whole file for callers outside the store, such as a report.
public enum AtomicFile {
    /// Writes `bytes` to `path` through a temporary file beside it, fsync and rename:
    /// a reader sees the old file or the new one, never a part. The file gets the mode
    /// of any new file (0666 less the umask). Throws `LogError.io`.
    public static func write(_ bytes: [UInt8], to path: String) throws(LogError) {
        try FileIO.writeFileAtomically(bytes, to: path, directory: EventLog.parentDirectory(of: path), mode: nil)
    }
}

/// Reading a whole file for callers outside the store, such as an import.
public enum WholeFile {
    /// Everything `fd` holds from where it stands to its end (a pipe too), in one array.
    public static func read(_ fd: Int32, path: String) throws(LogError) -> [UInt8] {
        try FileIO.readAll(fd, path: path)
    }
}

/// Low-level helpers shared by the store's files. Every failure becomes `LogError.io`
/// naming the operation and the path.
enum FileIO {
    static let fileMode: mode_t = 0o640
    static let directoryMode: mode_t = 0o750

    static func open(_ path: String, _ flags: Int32, operation: String = "open", creationMode: mode_t = fileMode) throws(LogError) -> Int32 {
        let fd = retryingEINTR { Glibc.open(path, flags | O_CLOEXEC, creationMode) }
        guard fd >= 0 else { throw .io(operation: operation, path: path, errno: errno) }
        return fd
    }

    /// Writes all of `bytes` at the current offset, looping on short writes. On any
    /// error the file is cut back to `originalLength` and the error is thrown.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String, originalLength: Int, using ops: FileOperations) throws(LogError) {
        var written = 0
        while written < bytes.count {
            let n = ops.write(fd, bytes.baseAddress! + written, bytes.count - written)
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                _ = ops.ftruncate(fd, originalLength)
                throw .io(operation: "write", path: path, errno: code)
            }
            if n == 0 {
                _ = ops.ftruncate(fd, originalLength)
                throw .io(operation: "write", path: path, errno: EIO)
            }
            written += n
        }
    }

    /// `writeAll` for an array.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String, originalLength: Int, using ops: FileOperations) throws(LogError) {
        let result: Result<Void, LogError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(LogError) in try writeAll(fd, buffer, path: path, originalLength: originalLength, using: ops) }
        }
        try result.get()
    }

    static func fsync(_ fd: Int32, path: String, using ops: FileOperations) throws(LogError) {
        if ops.fsync(fd) != 0 { throw .io(operation: "fsync", path: path, errno: errno) }
    }

    static func fsyncDirectory(_ path: String, using ops: FileOperations) throws(LogError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path, using: ops)
    }

    static func systemSyncfs(_ fd: Int32) -> Int32 {
        guard let syncfs = syncfsFunction else {
            errno = ENOSYS
            return -1
        }
        return syncfs(fd)
    }

    /// glibc's `syncfs`, looked up once.
    private static let syncfsFunction = CLibrary.function("syncfs", as: (@convention(c) (Int32) -> Int32).self)

    /// Creates a file that must not exist yet, writes `bytes` whole and closes it,
    /// without fsync: the caller makes it durable (see `EventLog.storeTexts`). On any
    /// failure the file is removed again.
    static func writeNewFile(_ bytes: [UInt8], to path: String, using ops: FileOperations) throws(LogError) {
        let fd = try open(path, O_WRONLY | O_CREAT | O_EXCL, operation: "create")
        do throws(LogError) {
            _ = fchmod(fd, fileMode)
            try writeAll(fd, bytes, path: path, originalLength: 0, using: ops)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        guard close(fd) == 0 || errno == EINTR else {
            let code = errno
            unlink(path)
            throw .io(operation: "close", path: path, errno: code)
        }
    }

    static func size(of fd: Int32, path: String) throws(LogError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(operation: "stat", path: path, errno: errno) }
        return Int(info.st_size)
    }

    static func size(ofPath path: String) -> Int? {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : nil
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func makeDirectory(_ path: String) throws(LogError) {
        if mkdir(path, directoryMode) != 0 && errno != EEXIST {
            throw .io(operation: "create directory", path: path, errno: errno)
        }
        // The umask may have narrowed the mode; SPEC §1 asks for exactly 0750.
        _ = chmod(path, directoryMode)
    }

    /// The names in a directory, without `.` and `..`, in the order the system gives them.
    static func directoryEntries(_ path: String) throws(LogError) -> [String] {
        guard let directory = opendir(path) else { throw .io(operation: "list", path: path, errno: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw .io(operation: "list", path: path, errno: errno) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// Reads a whole file, into one array sized from the file's length.
    static func readFile(_ path: String) throws(LogError) -> [UInt8] {
        let fd = try open(path, O_RDONLY, operation: "read")
        defer { close(fd) }
        return try readAll(fd, path: path)
    }

    /// Reads `fd` to its end, into one array sized from the file's length (grown for a
    /// pipe, or a file still growing).
    static func readAll(_ fd: Int32, path: String) throws(LogError) -> [UInt8] {
        // Read straight into the array's storage, not into zeros written first (an
        // import reads hundreds of MB). One byte more than the length, to see the end.
        var failure: Int32 = 0
        var full = false
        var result = [UInt8](unsafeUninitializedCapacity: try size(of: fd, path: path) + 1) { buffer, filled in
            while filled < buffer.count {
                let n = retryingEINTR { read(fd, buffer.baseAddress! + filled, buffer.count - filled) }
                if n < 0 { failure = errno }
                if n <= 0 { return }
                filled += n
            }
            full = true
        }
        if full {
            // The file grew while it was read (or is a pipe): the rest, a block at a time.
            var block = [UInt8](repeating: 0, count: 65_536)
            while failure == 0 {
                let n = block.withUnsafeMutableBytes { buffer in retryingEINTR { read(fd, buffer.baseAddress!, buffer.count) } }
                if n < 0 { failure = errno }
                if n <= 0 { break }
                result.append(contentsOf: block[..<n])
            }
        }
        if failure != 0 { throw .io(operation: "read", path: path, errno: failure) }
        return result
    }

    /// Writes a new file whole and durably: a temporary file, fsync, rename, fsync of
    /// the directory. A reader sees the old file or the new one, never a part. The file
    /// gets `mode`; nil gives it the mode of any new file (0666 less the umask).
    static func writeFileAtomically(_ bytes: [UInt8], to path: String, directory: String, mode: mode_t? = fileMode,
                                    using ops: FileOperations = SystemFileOperations()) throws(LogError) {
        try writeFileAtomically(parts: [bytes], to: path, directory: directory, mode: mode, using: ops)
    }

    /// `writeFileAtomically` of `parts` one after another, without joining them first.
    static func writeFileAtomically(parts: [[UInt8]], to path: String, directory: String, mode: mode_t? = fileMode,
                                    using ops: FileOperations = SystemFileOperations()) throws(LogError) {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = try open(temporary, O_WRONLY | O_CREAT | O_TRUNC, operation: "create", creationMode: mode ?? 0o666)
        do throws(LogError) {
            if let mode { _ = fchmod(fd, mode) }
            var written = 0
            for part in parts {
                try writeAll(fd, part, path: temporary, originalLength: written, using: ops)
                written += part.count
            }
            try fsync(fd, path: temporary, using: ops)
            close(fd)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .io(operation: "rename", path: path, errno: code)
        }
        try fsyncDirectory(directory, using: ops)
    }

    /// Fills `buffer` from `offset` of the file; the file ending first is an I/O error.
    static func preadAll(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int, path: String) throws(LogError) {
        var done = 0
        while done < buffer.count {
            let n = retryingEINTR { pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done)) }
            if n < 0 { throw .io(operation: "read", path: path, errno: errno) }
            if n == 0 { throw .io(operation: "read", path: path, errno: EIO) }
            done += n
        }
    }

    /// `count` bytes from `offset` of the file.
    static func readBytes(_ fd: Int32, count: Int, at offset: Int, path: String) throws(LogError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var failure: LogError?
        bytes.withUnsafeMutableBytes { raw in
            do throws(LogError) { try preadAll(fd, into: raw, at: offset, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
        return bytes
    }

    static func retryingEINTR<Result: BinaryInteger>(_ body: () -> Result) -> Result {
        while true {
            let result = body()
            if result >= 0 || errno != EINTR { return result }
        }
    }
}
