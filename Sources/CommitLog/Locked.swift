#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A value behind a pthread mutex. Weft uses it wherever a lock guards plain data (the log writer's lanes and I/O
/// state, the server's client table, statistics, the slow log), instead of `Synchronization.Mutex`.
///
/// Why not `Mutex`: on Linux it is a priority-inheriting futex in the prebuilt standard library, and when it is
/// contended the kernel hands it to the waiter directly, so the thread sanitizer sees no synchronization and
/// reports a race on the data it guards. The sanitizer intercepts pthread mutexes. Also, the log's I/O lock is held
/// across `fdatasync`, where waiters should sleep in the kernel. The pthread object lives in raw memory owned by
/// this handle, since it must not move.
package final class Locked<State>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var state: State

    package init(_ state: State) {
        self.state = state
        self.mutex = .allocate(capacity: 1)
        self.mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(self.mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(self.mutex)
        self.mutex.deinitialize(count: 1)
        self.mutex.deallocate()
    }

    /// Runs `body` on the state under the mutex.
    package func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(self.mutex)
        defer { pthread_mutex_unlock(self.mutex) }
        return try body(&self.state)
    }
}
