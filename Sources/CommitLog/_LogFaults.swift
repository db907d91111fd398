#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A test hook that makes the writer's next system calls fail, so that tests can provoke ENOSPC, EIO and a failing
/// cleanup without filling a disk, or makes every sync slow, as on a slow disk. Production code never sets one
/// (`LogWriter.Configuration._faults` is nil).
///
/// Each `failNext…` call queues one failure; the writer consumes them in order, one per matching system call.
package final class _LogFaults: Sendable {
    private struct State {
        var writes: [(errno: Int32, prefix: Int)] = []
        var syncs: [Int32] = []
        var truncates: [Int32] = []
        var syncDelay: UInt32 = 0
    }

    private let state = Locked(State())

    /// A hook with nothing queued.
    package init() {}

    /// Makes the next `write(2)` write `prefix` bytes (a partial write), then fail with `errno`.
    package func failNextWrite(errno: Int32, afterWriting prefix: Int = 0) {
        self.state.withLock { $0.writes.append((errno, prefix)) }
    }

    /// Drops the write failures still queued.
    package func clearWriteFailures() {
        self.state.withLock { $0.writes.removeAll() }
    }

    /// Makes the next `fdatasync(2)` of a segment fail with `errno`.
    package func failNextSync(errno: Int32) {
        self.state.withLock { $0.syncs.append(errno) }
    }

    /// Makes every later `fdatasync(2)` of a segment take at least `microseconds` longer (0 ends it).
    package func delaySyncs(microseconds: UInt32) {
        self.state.withLock { $0.syncDelay = microseconds }
    }

    /// Makes the next `ftruncate(2)` (the writer cutting a partial write) fail with `errno`.
    package func failNextTruncate(errno: Int32) {
        self.state.withLock { $0.truncates.append(errno) }
    }

    func takeWriteFailure() -> (Int32, Int)? {
        self.state.withLock { state in state.writes.isEmpty ? nil : state.writes.removeFirst() }
    }

    /// Called before each segment sync: waits out the delay, then returns the failure queued for it, if any.
    func beforeSync() -> Int32? {
        let (failure, delay) = self.state.withLock { state in
            (state.syncs.isEmpty ? nil : state.syncs.removeFirst(), state.syncDelay)
        }
        if delay > 0 { usleep(delay) }
        return failure
    }

    func takeTruncateFailure() -> Int32? {
        self.state.withLock { state in state.truncates.isEmpty ? nil : state.truncates.removeFirst() }
    }
}
