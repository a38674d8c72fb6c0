import Foundation

/// Runs the built `recoveryctl` the way a user would and returns what they would see.
///
/// - Parameters:
///   - args: the arguments after the program name.
///   - env: added to the test process's environment, from which every `RECOVERY_*`
///     variable is first removed so that the caller's shell cannot leak in.
///   - stdin: the standard input; none (`/dev/null`) by default.
///   - cwd: the working directory, usually a `TemporaryDirectory`.
///   - timeout: seconds before the process is killed (status then is its signal's).
/// - Returns: the exit status and everything written to stdout and stderr. When the
///   binary cannot be found or started, status is -1 and stderr says why.
func runCLI(
    _ args: [String],
    env: [String: String] = [:],
    stdin: Data? = nil,
    cwd: URL,
    timeout: TimeInterval = 120
) -> (status: Int32, stdout: String, stderr: String) {
    guard let executable = CLIExecutable.url else {
        return (-1, "", "runCLI: \(CLIExecutable.notFoundMessage)")
    }
    let files = FileManager.default
    let scratch = files.temporaryDirectory.appendingPathComponent(
        "recoveryctl-run-\(UUID().uuidString)", isDirectory: true)
    do {
        try files.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? files.removeItem(at: scratch) }
        let stdoutURL = scratch.appendingPathComponent("stdout")
        let stderrURL = scratch.appendingPathComponent("stderr")
        _ = files.createFile(atPath: stdoutURL.path, contents: nil)
        _ = files.createFile(atPath: stderrURL.path, contents: nil)

        let process = Process()
        process.executableURL = executable
        process.arguments = args
        process.currentDirectoryURL = cwd
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RECOVERY_") }
        environment.merge(env) { _, new in new }
        process.environment = environment

        // Files rather than pipes: nothing can block on a full pipe buffer.
        let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
        let stderrHandle = try FileHandle(forWritingTo: stderrURL)
        defer {
            try? stdoutHandle.close()
            try? stderrHandle.close()
        }
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle
        if let stdin {
            let stdinURL = scratch.appendingPathComponent("stdin")
            try stdin.write(to: stdinURL)
            process.standardInput = try FileHandle(forReadingFrom: stdinURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }

        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            finished.wait()
        }
        let out = try String(decoding: Data(contentsOf: stdoutURL), as: UTF8.self)
        let err = try String(decoding: Data(contentsOf: stderrURL), as: UTF8.self)
        return (process.terminationStatus, out, err)
    } catch {
        return (-1, "", "runCLI: could not run \(executable.path): \(error)")
    }
}

/// Where the built `recoveryctl` is: `$RECOVERYCTL_BINARY` if set, else next to the
/// test bundle in the build products directory (`swift test` builds it there, whatever
/// the scratch path).
enum CLIExecutable {
    static let url: URL? = candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }

    static var notFoundMessage: String {
        "no recoveryctl executable; looked at " + candidates.map(\.path).joined(separator: ", ")
    }

    private final class BundleAnchor {}

    private static var candidates: [URL] {
        var directories: [URL] = []
        // Linux: the test runner is an executable in the products directory.
        directories.append(Bundle.main.bundleURL)
        if let runner = CommandLine.arguments.first {
            directories.append(URL(fileURLWithPath: runner).resolvingSymlinksInPath().deletingLastPathComponent())
        }
        // macOS: the products directory holds the .xctest bundle.
        directories.append(Bundle(for: BundleAnchor.self).bundleURL.deletingLastPathComponent())
        var urls = directories.map { $0.appendingPathComponent("recoveryctl") }
        if let override = ProcessInfo.processInfo.environment["RECOVERYCTL_BINARY"], !override.isEmpty {
            urls.insert(URL(fileURLWithPath: override), at: 0)
        }
        return urls
    }
}
