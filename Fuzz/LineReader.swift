// libFuzzer target: the segment line reader, the chain checks and verify.
//
// Built by scripts/fuzz.sh together with Sources/EventStore. Each input becomes the one
// segment of a log in a scratch directory (under /dev/shm where there is one). For any
// bytes: reading never crashes and ends with events (each one hashing to its own hash),
// a torn tail, or LogError.integrity, never another error; the read with hashes and
// verify agree on whether and where the log fails; following links only never fails
// where the full check passes; the head a writer would find is the last event read.

#if canImport(Glibc)
import Glibc
#endif

/// `$FUZZ_LOG_DIR` (scripts/fuzz.sh makes one and removes it), else a directory of its own.
private let logPath: String = {
    let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    let path = getenv("FUZZ_LOG_DIR").map { String(cString: $0) + "/log" } ?? "\(base)/recoveryctl-fuzz-\(getpid())"
    if (try? EventLog(path: path)) == nil {
        _ = try? EventLog.create(at: path, segmentSize: 1 << 30)
    }
    return path
}()

private func writeSegment(_ bytes: UnsafeRawBufferPointer) {
    let fd = open("\(logPath)/events-000001.jsonl", O_WRONLY | O_TRUNC | O_CREAT, 0o640)
    guard fd >= 0 else { fatalError("cannot write the segment") }
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        guard n > 0 else { fatalError("cannot write the segment") }
        done += n
    }
    close(fd)
    // A journal from an earlier input must not leak into this one.
    _ = truncate("\(logPath)/LOCK", 0)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSegmentReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    writeSegment(UnsafeRawBufferPointer(start: data, count: size))
    guard let log = try? EventLog(path: logPath) else { fatalError("the log vanished") }

    func read(_ checks: ReadChecks) -> (events: [Event], summary: ReadSummary?, failure: IntegrityFailure?) {
        var events: [Event] = []
        do {
            let summary = try log.read(checks: checks) { events.append($0); return true }
            return (events, summary, nil)
        } catch LogError.integrity(let failure) {
            return (events, nil, failure)
        } catch {
            fatalError("read threw \(error), neither events nor an integrity failure")
        }
    }

    let checked = read(.hashes)
    let linked = read([])
    for event in checked.events where event.computedHash() != event.hash {
        fatalError("an event passed the checked read with a wrong hash")
    }
    if checked.failure == nil && linked.failure != nil { fatalError("links failed where the full check passed") }

    let report: VerifyReport
    do { report = try log.verify() } catch { fatalError("verify threw \(error)") }
    guard report.ok == (checked.failure == nil), report.failure?.place == checked.failure?.place else {
        fatalError("verify and read disagree: \(String(describing: report.failure)) / \(String(describing: checked.failure))")
    }
    if let summary = checked.summary {
        guard summary.tornTail == report.tornTail, summary.head.seq == report.events else { fatalError("verify and read disagree on the end") }
        // The head a writer finds is the last event read.
        do {
            let tail = try log.findTail()
            guard tail.head.seq == summary.head.seq, tail.head.hash == summary.head.hash else { fatalError("the writer's head differs from the reader's") }
        } catch LogError.integrity {
            // A writer may refuse what a reader passes only for a damaged last line, which
            // the checked read would have refused too.
            fatalError("the writer refused a log the checked read passed")
        } catch {
            fatalError("findTail threw \(error)")
        }
    }
    return 0
}
