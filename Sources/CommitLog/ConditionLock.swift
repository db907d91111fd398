#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A mutex, a condition variable and the state they guard: what the writer's waiters and its flusher thread sleep
/// on. (`Synchronization.Mutex` has no condition variable.)
///
/// The pthread objects live in raw memory owned by this handle, since they must not move.
final class ConditionLock<State>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var state: State

    init(_ state: State) {
        self.state = state
        self.mutex = .allocate(capacity: 1)
        self.mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(self.mutex, nil)
        self.condition = .allocate(capacity: 1)
        self.condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(self.condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(self.condition)
        pthread_mutex_destroy(self.mutex)
        self.condition.deinitialize(count: 1)
        self.condition.deallocate()
        self.mutex.deinitialize(count: 1)
        self.mutex.deallocate()
    }

    /// Runs `body` on the state under the mutex.
    func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(self.mutex)
        defer { pthread_mutex_unlock(self.mutex) }
        return try body(&self.state)
    }

    /// Runs `body` on the state under the mutex, then wakes every waiter.
    func withLockBroadcasting<R>(_ body: (inout State) -> R) -> R {
        pthread_mutex_lock(self.mutex)
        defer {
            pthread_cond_broadcast(self.condition)
            pthread_mutex_unlock(self.mutex)
        }
        return body(&self.state)
    }

    /// Wakes every waiter; callable with or without the mutex held (inside `wait`'s check, say).
    func broadcast() {
        pthread_cond_broadcast(self.condition)
    }

    /// Sleeps until `check`, run under the mutex after every wake-up, returns a value, or until `deadline`.
    ///
    /// - Parameter deadline: `MonotonicClock.now()` nanoseconds; nil waits without limit.
    /// - Returns: `check`'s value, or nil once the deadline passed (after a last check).
    func wait<R>(until deadline: UInt64?, _ check: (inout State) -> R?) -> R? {
        pthread_mutex_lock(self.mutex)
        defer { pthread_mutex_unlock(self.mutex) }
        while true {
            if let result = check(&self.state) { return result }
            guard let deadline else {
                pthread_cond_wait(self.condition, self.mutex)
                continue
            }
            if MonotonicClock.now() >= deadline { return nil }
            var time = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            pthread_cond_timedwait(self.condition, self.mutex, &time)
        }
    }
}

/// The monotonic clock that `ConditionLock.wait` deadlines are measured on, in nanoseconds.
enum MonotonicClock {
    /// Nanoseconds on the monotonic clock the condition variable waits against.
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// `duration` in nanoseconds, saturating (negative durations count as 0).
    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        let whole = max(0, seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !whole.overflow else { return .max }
        return UInt64(whole.partialValue) &+ UInt64(max(0, attoseconds / 1_000_000_000))
    }

    /// The monotonic time `duration` from now, saturating.
    static func deadline(after duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = max(0, seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else { return .max }
        let total = UInt64(nanoseconds.partialValue) &+ UInt64(max(0, attoseconds / 1_000_000_000))
        let (sum, overflow) = MonotonicClock.now().addingReportingOverflow(total)
        return overflow ? .max : sum
    }
}
