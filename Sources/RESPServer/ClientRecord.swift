import CommandDispatch
import NIOCore
import CommitLog
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the server knows about one connection, for CLIENT LIST/KILL, the idle timeout and INFO.
///
/// The connection's handler updates it once per read (not per command); other threads only read it.
final class ClientRecord: Sendable {
    /// What changes as the client runs commands.
    struct State: Sendable {
        var name = ""
        var database = 0
        var lastCommand = "NULL"
        var protocolVersion = 2
        var inMulti = false
        var queued = 0
        var noEvict = false
        var monitoring = false

        init() {}

        /// A session's state as CLIENT LIST shows it.
        init(_ session: ClientSession) {
            self.name = session.name
            self.database = session.database
            self.lastCommand = session.lastCommand
            self.protocolVersion = session.protocolVersion
            self.inMulti = session.inMulti
            self.queued = session.queued.count
            self.noEvict = session.noEvict
            self.monitoring = session.monitoring
            if session.runningExec > 0 {
                self.inMulti = true
                self.queued = session.runningExec
                self.lastCommand = "exec"
            }
        }
    }

    let id: Int64
    let channel: any Channel
    let remoteAddress: String
    let localAddress: String
    let createdAt: Int64
    let lastInteraction: Atomic<Int64>
    let state = Locked(State())
    /// Reply bytes not yet sent, as Redis counts them (`outputUsage`): measured after each write while an output
    /// limit is set, and at each writability change (and by the housekeeper's look at a client over the soft limit).
    let outputBytes = Atomic<Int>(0)

    /// Redis's getClientOutputBufferMemoryUsage counts only the replies past each client's 16 KiB static buffer, so
    /// CLIENT LIST's omem and the output limits leave the first 16 KiB of unsent replies out (a small hard limit
    /// then still lets small replies through).
    static func outputUsage(pending: Int) -> Int {
        max(0, pending - 16 * 1024)
    }
    /// Request bytes received and not yet run (a partial request).
    let queryBytes = Atomic<Int>(0)
    /// When the output first stayed over the soft limit (Unix ms), 0 while under it.
    let overSoftLimitSince = Atomic<Int64>(0)
    /// True while CLIENT PAUSE holds the client's commands: flag `b` in CLIENT LIST, counted in INFO's
    /// blocked_clients, and never closed for idleness (as Redis's blocked clients).
    let blocked = Atomic<Bool>(false)
    /// While the client is blocked in a WAIT: ends it from any thread (CLIENT UNBLOCK), `true` for an error reply.
    private let unblocker = Locked<(@Sendable (Bool) -> Void)?>(nil)

    init(id: Int64, channel: any Channel) {
        self.id = id
        self.channel = channel
        self.remoteAddress = ClientRecord.describe(channel.remoteAddress)
        self.localAddress = ClientRecord.describe(channel.localAddress)
        let now = ClientRecord.nowMilliseconds()
        self.createdAt = now
        self.lastInteraction = Atomic(now)
    }

    static func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "?:0" }
        let host = address.ipAddress ?? "?"
        let port = address.port ?? 0
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func nowMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    func setUnblocker(_ unblock: (@Sendable (Bool) -> Void)?) {
        self.unblocker.withLock { $0 = unblock }
    }

    func takeUnblocker() -> (@Sendable (Bool) -> Void)? {
        self.unblocker.withLock { unblocker in
            defer { unblocker = nil }
            return unblocker
        }
    }

    /// Called by the handler after each read.
    func update(from session: ClientSession) {
        self.lastInteraction.store(ClientRecord.nowMilliseconds(), ordering: .relaxed)
        self.state.withLock { $0 = State(session) }
    }

    /// One CLIENT LIST line, with Redis's fields; `qbuf`, `omem` and `tot-mem` are the pending request and reply bytes.
    /// `current` replaces the state recorded after the client's last read (the caller's own line).
    func line(current: State? = nil) -> String {
        let now = ClientRecord.nowMilliseconds()
        let state = current ?? self.state.withLock { $0 }
        let age = (now - self.createdAt) / 1000
        let idle = (now - self.lastInteraction.load(ordering: .relaxed)) / 1000
        // Redis's letters, in its order: O for MONITOR, x in MULTI, b blocked (by CLIENT PAUSE), e for NO-EVICT, N
        // for none.
        let flags = (state.monitoring ? "O" : "") + (state.inMulti ? "x" : "")
            + (self.blocked.load(ordering: .relaxed) ? "b" : "") + (state.noEvict ? "e" : "")
        let output = self.outputBytes.load(ordering: .relaxed)
        let query = self.queryBytes.load(ordering: .relaxed)
        let multi = state.inMulti ? String(state.queued) : "-1"
        return "id=\(self.id) addr=\(self.remoteAddress) laddr=\(self.localAddress) fd=-1 name=\(state.name) "
            + "age=\(age) idle=\(idle) flags=\(flags.isEmpty ? "N" : flags) db=\(state.database) sub=0 psub=0 ssub=0 multi=\(multi) "
            + "qbuf=\(query) qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 "
            + "omem=\(output) tot-mem=\(output + query) events=r cmd=\(state.lastCommand) user=default redir=-1 resp=\(state.protocolVersion)\n"
    }
}
