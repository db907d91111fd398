import CommandDispatch
import NIOCore
import Synchronization

/// CLIENT PAUSE and UNPAUSE (Redis's `pauseClients`): while a pause is in force, a connection's next command that
/// the pause holds (any command under ALL, one that writes under WRITE: a write command, or an EXEC whose queue
/// writes) waits, with every later one of that connection, until the pause ends or CLIENT UNPAUSE. The dispatcher
/// asks (`CommandTable.execute`'s `pauseCheck`) after its own checks, as Redis's processCommand does: unknown
/// commands, wrong arities, NOAUTH, MISCONF and LOADING are answered at once.
///
/// Redis runs one command at a time, so once CLIENT PAUSE has answered nothing it holds can commit. Weft's other
/// event loops may each be running a command as the pause begins: the OK, and every later command of that connection
/// (even one pipelined behind the PAUSE), waits (`afterEveryLoop`) until every loop has finished its turn, and with
/// it such a command; each command after that sees the pause. Not as in Redis: a command queued after CLIENT PAUSE in
/// the same MULTI runs inside that EXEC, before the other loops have passed.
///
/// The state is two atomics, so that the check before each command is one relaxed load while there is no pause.
/// Each loop keeps its held connections (`LoopState.park`); a task at the pause's end, and CLIENT UNPAUSE, let them
/// go on. Expired keys stay meanwhile, so a paused server's data stays as it is: the housekeeper's sweep rests,
/// and a read that finds a key expired answers as if it were gone but leaves it (`keepsExpiredValues`).
extension RESPServer {
    /// Whether a pause may be in force (it may have run out already): the cheap check before each command.
    @inline(__always) var pauseInForce: Bool {
        self.pauseMode.load(ordering: .relaxed) != RESPServer.noPause
    }

    package func pauseHolds(writes: Bool) -> Bool {
        let mode = self.pauseMode.load(ordering: .acquiring)
        guard mode != RESPServer.noPause,
            NIODeadline.now().uptimeNanoseconds < self.pauseEnd.load(ordering: .acquiring)
        else { return false }
        return mode == RESPServer.pauseAll || writes
    }

    package func pauseClients(milliseconds: Int64, writesOnly: Bool) {
        let now = NIODeadline.now().uptimeNanoseconds
        let (nanoseconds, overflow) = UInt64(max(milliseconds, 0)).multipliedReportingOverflow(by: 1_000_000)
        let end = overflow || nanoseconds > UInt64.max - now ? UInt64.max : now + nanoseconds
        self.pauseUpdate.withLock { _ in
            let current = self.pauseMode.load(ordering: .relaxed)
            let running = current != RESPServer.noPause && now < self.pauseEnd.load(ordering: .relaxed)
            let mode = writesOnly ? RESPServer.pauseWrites : RESPServer.pauseAll
            self.pauseEnd.store(running ? max(end, self.pauseEnd.load(ordering: .relaxed)) : end, ordering: .releasing)
            self.pauseMode.store(running ? max(current, mode) : mode, ordering: .releasing)
            self.engine.keepsExpiredValues.store(true, ordering: .relaxed)
        }
        // Each loop looks again at the end of the pause (a look already set for a later end stays).
        for state in self.loopStates {
            state.loop.execute { [self] in state.lookAtPause(end: self.pauseEnd.load(ordering: .acquiring), server: self) }
        }
    }

    /// Runs `body` on `loop` once every event loop has run a task queued now: by then each loop has finished the
    /// commands it was running at this call (a loop runs its tasks between turns, never inside a command).
    func afterEveryLoop(on loop: any EventLoop, _ body: @escaping @Sendable () -> Void) {
        let countdown = Countdown(self.loopStates.count)
        for state in self.loopStates {
            state.loop.execute {
                if countdown.arrive() { loop.execute(body) }
            }
        }
    }

    /// Once the pause has run out: commands take the fast path again (one load, `pauseInForce` false), and reads
    /// remove expired values again. Called by each loop's look at the pause's end.
    func endExpiredPause() {
        self.pauseUpdate.withLock { _ in
            guard self.pauseMode.load(ordering: .relaxed) != RESPServer.noPause,
                NIODeadline.now().uptimeNanoseconds >= self.pauseEnd.load(ordering: .relaxed)
            else { return }
            self.pauseMode.store(RESPServer.noPause, ordering: .releasing)
            self.pauseEnd.store(0, ordering: .releasing)
            self.engine.keepsExpiredValues.store(false, ordering: .relaxed)
        }
    }

    package func unpauseClients() {
        self.pauseUpdate.withLock { _ in
            self.pauseMode.store(RESPServer.noPause, ordering: .releasing)
            self.pauseEnd.store(0, ordering: .releasing)
            self.engine.keepsExpiredValues.store(false, ordering: .relaxed)
        }
        for state in self.loopStates {
            state.loop.execute { [self] in
                state.cancelPauseLook()
                state.resumePaused()
                // A CLIENT PAUSE that came after this UNPAUSE may have queued its look at its end on this loop before
                // this task ran, and the cancel above dropped it: look again, or the connections it holds (parked
                // again just now) would wait for the next PAUSE or UNPAUSE.
                if self.pauseInForce { state.lookAtPause(end: self.pauseEnd.load(ordering: .acquiring), server: self) }
            }
        }
    }

    /// Whether a pause is in force now (the housekeeper does not sweep expired keys during one).
    var isPaused: Bool {
        self.pauseInForce && NIODeadline.now().uptimeNanoseconds < self.pauseEnd.load(ordering: .acquiring)
    }

    static let noPause = 0
    static let pauseWrites = 1
    static let pauseAll = 2
}

/// Counts arrivals down to zero from any thread.
private final class Countdown: Sendable {
    private let left: Atomic<Int>

    init(_ count: Int) {
        self.left = Atomic(count)
    }

    /// Counts one arrival; true for the last.
    func arrive() -> Bool {
        self.left.subtract(1, ordering: .acquiringAndReleasing).newValue == 0
    }
}
