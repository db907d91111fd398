import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// Real threads for tests, and the time limits that keep a test's waits from hanging the whole run: a wait that
// runs past its limit records an issue naming what it waited for, so that a stalled CI stage fails one test with a
// message instead of running into the stage's own limit.

/// The key of a thread's entry, in its thread dictionary, that names the test that started it (`startThread`).
private let startedByKey = "weft.startedByTest"

/// The current test's name and where it is declared, for messages about a wait that hung. On a thread that
/// `startThread` started, which has no current test, the test that started it.
package func currentTestName() -> String {
    if let test = Test.current { return "test \"\(test.displayName ?? test.name)\" (\(test.sourceLocation))" }
    return Thread.current.threadDictionary[startedByKey] as? String ?? "code outside any test"
}

/// Starts `body` on a new detached POSIX thread with a `stackSize`-byte stack.
///
/// Tests use this rather than Foundation's `Thread`, whose `start()` ignores a failed `pthread_create`: a test that
/// then waited for that thread would wait for ever. Here the failure is recorded as an issue instead.
/// - Returns: Whether the thread started.
@discardableResult
package func startThread(
    stackSize: Int = 4 << 20,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable () -> Void
) -> Bool {
    /// Carries `body`, and the name of the test that started it, to the new thread, which takes over the retain
    /// made here.
    final class Start {
        let body: @Sendable () -> Void
        let test = currentTestName()
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setstacksize(&attributes, stackSize)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    let argument = Unmanaged.passRetained(Start(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(
        &thread,
        &attributes,
        { argument in
            let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
            Thread.current.threadDictionary[startedByKey] = start.test
            start.body()
            return nil
        },
        argument
    )
    guard result == 0 else {
        Unmanaged<Start>.fromOpaque(argument).release()
        Issue.record("pthread_create failed: \(String(cString: strerror(result)))", sourceLocation: sourceLocation)
        return false
    }
    return true
}

/// The dispatch time `limit` from now.
private func deadline(after limit: Duration) -> DispatchTime {
    let (seconds, attoseconds) = limit.components
    return .now() + Double(seconds) + Double(attoseconds) / 1e18
}

/// Runs `body` on a new thread and waits for it, at most `limit`. Past the limit it records an issue naming `what`
/// and the current test, and returns; the thread is left running (`body` owns whatever it uses).
package func runOnThread(
    _ what: String,
    limit: Duration = scaled(.seconds(120)),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable () -> Void
) {
    let done = DispatchSemaphore(value: 0)
    let started = startThread(sourceLocation: sourceLocation) {
        body()
        done.signal()
    }
    guard started, done.wait(timeout: deadline(after: limit)) == .timedOut else { return }
    Issue.record("\(what) in \(currentTestName()) did not finish within \(limit)", sourceLocation: sourceLocation)
}

/// Runs `body(index)` on `count` real threads at once and waits for all of them. Tests that need clients or
/// workers to overlap use this, not `DispatchQueue.concurrentPerform`, which runs at most one iteration per core
/// at a time.
///
/// The wait lasts at most `limit`. Past it an issue names the current test and how many threads are still running,
/// and the test process stops (`fatalError`): those threads still call `body`, which may use the caller's stack, so
/// returning would let them run on a frame that is gone.
package func runOnThreads(
    _ count: Int,
    limit: Duration = scaled(.seconds(120)),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (Int) -> Void
) {
    /// Carries the closure to the threads. A finished thread may release its block (and this box) only after
    /// `group.wait()` returns, so the closure is dropped from the box then, before it stops being valid.
    final class Body: @unchecked Sendable {
        var run: ((Int) -> Void)?
        let finished = Atomic<Int>(0)
        init(_ run: @escaping (Int) -> Void) { self.run = run }
    }
    withoutActuallyEscaping(body) { body in
        let shared = Body(body)
        let group = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        var started = 0
        for index in 0..<count {
            group.enter()
            let running = startThread(sourceLocation: sourceLocation) {
                start.wait()
                shared.run?(index)
                shared.finished.add(1, ordering: .relaxed)
                group.leave()
            }
            if running { started += 1 } else { group.leave() }
        }
        for _ in 0..<started { start.signal() }
        if group.wait(timeout: deadline(after: limit)) == .timedOut {
            let running = started - shared.finished.load(ordering: .relaxed)
            let message =
                "runOnThreads: \(running) of \(count) threads of \(currentTestName()) did not finish within \(limit)"
            Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
            fatalError("\(message) (\(sourceLocation)); stopping, since they may still use the test's stack")
        }
        shared.run = nil
    }
}

/// Calls `condition` until it holds, calling `pause` between tries, for at most `limit`. Past the limit it records
/// an issue saying what was awaited and returns false.
///
/// Tests whose threads wait for each other's progress use this instead of a bare loop, so that a thread that stopped
/// fails the test instead of leaving another spinning for ever. The default limit is below `runOnThreads`'s, so
/// that a spin inside it names itself first.
@discardableResult
package func waitUntil(
    _ what: @autoclosure () -> String,
    limit: Duration = scaled(.seconds(60)),
    sourceLocation: SourceLocation = #_sourceLocation,
    pause: () -> Void = { usleep(100) },
    _ condition: () -> Bool
) -> Bool {
    let end = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < end else {
            Issue.record("\(currentTestName()) waited \(limit) for \(what())", sourceLocation: sourceLocation)
            return false
        }
        pause()
    }
    return true
}

/// Says on standard error, and records an issue, when the test that made it is still running `limit` later and
/// `cancel()` has not been called. `TestServer` makes one per server test, so that a test that hangs names itself
/// in the log before the stage's own limit stops the run.
package final class Watchdog: Sendable {
    private let cancelled = DispatchSemaphore(value: 0)

    /// Starts the watchdog; `what` says what the test did at this point, for the message.
    package init(
        _ what: String,
        limit: Duration = scaled(.seconds(120)),
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let name = currentTestName()
        let cancelled = self.cancelled
        startThread(stackSize: 256 << 10, sourceLocation: sourceLocation) {
            guard cancelled.wait(timeout: deadline(after: limit)) == .timedOut else { return }
            let message = "\(name) has not finished \(limit) after \(what): it hangs"
            FileHandle.standardError.write(Data("Watchdog: \(message)\n".utf8))
            Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
        }
    }

    /// Stops the watchdog: the test finished.
    package func cancel() {
        self.cancelled.signal()
    }
}
