#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutual-exclusion lock (a pthread mutex), for state that several threads share.
/// A reference type: the mutex must not move once initialized.
public class Lock: @unchecked Sendable {
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init() {
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public final func lock() { pthread_mutex_lock(mutex) }
    public final func unlock() { pthread_mutex_unlock(mutex) }

    public final func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A lock with a condition to wait on (a pthread condition variable on the lock's
/// mutex): `wait()` is called with the lock held, releases it while waiting and holds
/// it again when it returns.
public final class ConditionLock: Lock, @unchecked Sendable {
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public override init() {
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
        super.init()
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
    }

    /// Waits until woken (or spuriously): callers loop on their own condition.
    public func wait() { pthread_cond_wait(condition, mutex) }
    public func broadcast() { pthread_cond_broadcast(condition) }
}

/// A thread of its own (not one of Dispatch's pool), for work that blocks for long
/// stretches, such as the producer of a pipelined read.
enum DetachedThread {
    /// Runs `body` on a new detached thread (the system's default stack size).
    /// Crashes when the system cannot create a thread, as Foundation's `Thread` does.
    static func start(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let result = pthread_create(&thread, nil, { context in
            #if canImport(Glibc)
            let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
            #else
            let box = Unmanaged<Box>.fromOpaque(context).takeRetainedValue()
            #endif
            box.body()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Box>.fromOpaque(context).release()
            fatalError("cannot start a thread: \(SystemError.message(result))")
        }
        #if canImport(Glibc)
        pthread_detach(thread)
        #else
        pthread_detach(thread!)
        #endif
    }

    private final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}
