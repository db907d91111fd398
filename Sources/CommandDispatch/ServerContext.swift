import NIOCore
import TransactionEngine

/// What server-level commands (INFO, CLIENT LIST/KILL, CONFIG, SHUTDOWN) need from the server that runs them.
///
/// `RESPServer` implements it; CommandDispatch knows no sockets.
package protocol ServerContext: AnyObject, Sendable {
    /// `CLIENT LIST` lines (each ending in "\n"): every client's, or those of `ids` in their order (an id may
    /// repeat; unknown ones are skipped). The caller's own line shows `caller`, its state as of this command.
    func clientList(ids: [Int64]?, caller: ClientSession) -> String
    /// Closes the clients `filter` matches (CLIENT KILL), but never the caller's connection, which `caller` names:
    /// returns how many matched, and whether the caller did (it is to be closed after its reply).
    func killClients(_ filter: ClientFilter, caller: Int64) -> (killed: Int, caller: Bool)
    /// CLIENT PAUSE: holds every client's commands (or, `writesOnly`, those that write) for `milliseconds`. A pause
    /// in force is only lengthened and widened, as Redis's `pauseClients` does.
    func pauseClients(milliseconds: Int64, writesOnly: Bool)
    /// CLIENT UNPAUSE: ends the pause; held commands run.
    func unpauseClients()
    /// Whether the pause in force now holds a command; `writes`: whether the command writes.
    func pauseHolds(writes: Bool) -> Bool
    /// The `INFO` sections the server keeps (server, clients, memory, persistence, stats, replication, cpu, cluster),
    /// those that `wanted` accepts (given a lowercase section name). `engine` gives used_memory.
    func infoSections(
        engine: EngineStatistics,
        wanted: (String) -> Bool
    ) -> [(name: String, fields: [(String, String)])]
    /// The counters, slow log and rates of INFO, SLOWLOG and CONFIG RESETSTAT.
    var statistics: ServerStatistics { get }
    /// CONFIG RESETSTAT: the statistics' reset, and the server's own counters.
    func resetStatistics()
    /// The directives CONFIG GET knows, with their current values.
    func configurationValues() -> [(name: String, value: String)]
    /// Changes directives at run time (CONFIG SET), all or none: throws Redis's error for an unknown, immutable or
    /// repeated name or a bad value, before anything changes.
    func setConfiguration(_ pairs: [(name: String, value: String)]) throws(CommandError)
    /// Writes the directives CONFIG SET changed back into the config file (CONFIG REWRITE).
    func rewriteConfiguration() throws(CommandError)
    /// Stops the server after this reply (SHUTDOWN).
    func requestShutdown()
    /// The error a command gets instead of running now (`LOADING` during recovery, `MISCONF` after a failed log
    /// write), without the leading `-`; nil to run it.
    func refusal(for spec: CommandSpec, session: ClientSession) -> String?
    /// Starts a log rewrite (BGREWRITEAOF); returns the status reply, or throws Redis's error.
    func rewriteLog() throws(CommandError) -> String
    /// Whether the default user has a password (`requirepass`).
    var requiresPassword: Bool { get }
    /// `proto-max-bulk-len`: also the longest string APPEND, SETRANGE, SETBIT and BITFIELD may make, and the most
    /// memory LCS may take, as in Redis 7.0.
    var stringLimit: Int { get }
    /// When the server started, in Unix seconds: LASTSAVE and INFO's `rdb_last_save_time` (Weft writes no RDB
    /// snapshots, so, as in a Redis without `save` points, the data set counts as saved at the start).
    var startTime: Int64 { get }
    /// CLIENT UNBLOCK: ends client `id`'s WAIT, answered as timed out or (`error`) with `-UNBLOCKED`; false when that
    /// client is not blocked in a WAIT.
    func unblockClient(id: Int64, error: Bool) -> Bool
    /// Checks a user name and password in constant time; any password passes when none is configured.
    func authenticate(user: [UInt8], password: [UInt8]) -> Bool
}

/// Which clients CLIENT KILL closes (Redis's `clientKillCommand`): a client must match every criterion given.
package struct ClientFilter: Sendable {
    package var id: Int64? = nil
    /// The peer address, `ip:port`.
    package var address: String? = nil
    /// The local address, `ip:port`.
    package var localAddress: String? = nil
    /// False when TYPE named a kind Weft has no clients of (master, replica, pubsub): nothing matches.
    package var typeMatches = true
    /// Whether the caller itself is left alone (SKIPME, yes unless the old `CLIENT KILL addr:port` form).
    package var skipCaller = true

    package init() {}
}
