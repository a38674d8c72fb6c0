import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Work split over the cores.
public enum Parallel {
    /// The processors online (at least 1), counted once.
    public static let cores: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// `[body(0), body(1), …, body(count - 1)]`, computed in parts on every core once
    /// `count` reaches `threshold` (below it, or on one core, in order on this thread).
    /// `body` may run on several threads at once: it must only read what it shares.
    public static func map<T>(count: Int, threshold: Int, _ body: (Int) -> T) -> [T] {
        let cores = Parallel.cores
        guard count >= threshold, cores > 1 else { return (0..<count).map(body) }
        return withoutActuallyEscaping(body) { body in
            // Each part initializes its own slots of the array, in place.
            Array(unsafeUninitializedCapacity: count) { results, initialized in
                let shared = Shared(body: body, results: results)
                let parts = 4 * cores
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    for index in (count * part / parts)..<(count * (part + 1) / parts) {
                        (shared.results.baseAddress! + index).initialize(to: shared.body(index))
                    }
                }
                initialized = count
            }
        }
    }

    /// What the parts share: `body`, which only reads, and the results, of which each
    /// part initializes its own slots.
    private struct Shared<T>: @unchecked Sendable {
        let body: (Int) -> T
        let results: UnsafeMutableBufferPointer<T>
    }
}

extension Parallel {
    /// Lets go of `value` on another thread. Freeing a large batch (millions of small
    /// objects: events, their strings and data) takes about a second that the caller need
    /// not wait for, and a process that ends meanwhile need not spend at all. The caller
    /// hands over its only use of `value`.
    public static func release<T>(_ value: consuming T) {
        let handedOver = HandedOver(value: value)
        DispatchQueue.global(qos: .utility).async { _ = handedOver }
    }

    /// A value no other thread touches once handed over.
    private struct HandedOver<T>: @unchecked Sendable {
        let value: T
    }
}

/// Work started on another thread at once, whose value (or error) `finish` waits for.
public final class Background<Value>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    /// Written by the working thread before it signals `done`, read after waiting.
    private var outcome: Result<Value, any Error>?
    /// Touched by the caller's thread only.
    private var waited = false

    public init(_ work: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            outcome = Result { try work() }
            done.signal()
        }
    }

    /// Waits for the work; its value, or what it threw.
    public func finish() throws -> Value {
        wait()
        return try outcome!.get()
    }

    /// Waits for the work to end.
    public func wait() {
        guard !waited else { return }
        done.wait()
        waited = true
    }
}
