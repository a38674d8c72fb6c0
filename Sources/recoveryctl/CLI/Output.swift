#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's standard output and error.
enum StandardStream: Sendable {
    case stdout
    case stderr

    var fileDescriptor: Int32 {
        switch self {
        case .stdout: STDOUT_FILENO
        case .stderr: STDERR_FILENO
        }
    }
}

/// Whether `stream` is a terminal (for progress bars, colours, prompts).
func isTerminal(_ stream: StandardStream) -> Bool {
    isatty(stream.fileDescriptor) == 1
}

/// Writing to stdout and stderr.
///
/// Stdout goes through the same buffer as Swift's `print`, so the two can be mixed;
/// it is flushed by `flush()` (which `main` calls before exiting) and before anything
/// is written to stderr, so a terminal shows both in the order they were written.
/// Stderr is unbuffered.
enum Output {
    /// Writes `bytes` to stdout as they are, after what is buffered (for a large output
    /// kept as bytes, not as a string).
    static func write(bytes: [UInt8]) {
        flush()
        writeAll(bytes, to: STDOUT_FILENO)
    }

    /// Writes `text` as is (no newline added).
    static func write(_ text: String, to stream: StandardStream = .stdout) {
        switch stream {
        case .stdout:
            print(text, terminator: "")
        case .stderr:
            flush()
            writeAll(Array(text.utf8), to: STDERR_FILENO)
        }
    }

    /// "1 event", "2 events": a count with its noun, singular for one.
    static func counted(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    /// Writes `text` and a newline.
    static func writeLine(_ text: String = "", to stream: StandardStream = .stdout) {
        write(text + "\n", to: stream)
    }

    /// Flushes the stdout buffer.
    static func flush() {
        fflush(nil)
    }

    /// Writes every byte, looping on short writes and interruptions; gives up silently
    /// on any other error (there is nowhere left to report it).
    private static func writeAll(_ all: [UInt8], to descriptor: Int32) {
        var bytes = all[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { buffer in
                #if canImport(Glibc)
                Glibc.write(descriptor, buffer.baseAddress, buffer.count)
                #else
                Darwin.write(descriptor, buffer.baseAddress, buffer.count)
                #endif
            }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }
}
