import Synchronization

/// A small test-and-test-and-set lock for short critical sections off the hot path (shard inserts and growth,
/// worker registration).
///
/// Built on `Atomic` rather than the standard library's `Mutex` so that the thread sanitizer sees its acquire and
/// release (the `Mutex` of Linux's prebuilt standard library is invisible to it). Waiters spin, then yield.
package struct SpinLock: ~Copyable {
    private let held = Atomic<Bool>(false)

    package init() {}

    @inline(__always) package func lock() {
        var spins = 0
        while true {
            if !self.held.load(ordering: .relaxed) {
                let (done, _) = self.held.compareExchange(expected: false, desired: true, ordering: .acquiring)
                if done { return }
            }
            Backoff.pause(&spins)
        }
    }

    @inline(__always) package func unlock() {
        self.held.store(false, ordering: .releasing)
    }

    @inline(__always) package func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        self.lock()
        defer { self.unlock() }
        return try body()
    }
}

/// A value guarded by a `SpinLock`.
package final class LockedValue<State>: @unchecked Sendable {
    private let lock = SpinLock()
    private var state: State

    package init(_ state: State) {
        self.state = state
    }

    package func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body(&self.state)
    }
}
