import NIOCore
import TransactionEngine

/// What server-level commands (INFO, CLIENT LIST/KILL, CONFIG, SHUTDOWN) need from the server that runs them.
///
/// `RESPServer` implements it; CommandDispatch knows no sockets.
package protocol ServerContext: AnyObject, Sendable {
    /// `CLIENT LIST` lines (each ending in "\n"), for every client or for the given ids.
    func clientList(ids: Set<Int64>?) -> String
    /// Closes the clients whose id is in `ids` or whose address is `address`; returns how many.
    func killClients(ids: Set<Int64>, address: String?) -> Int
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
    /// Changes a directive at run time (CONFIG SET); throws Redis's error for unknown or immutable ones.
    func setConfiguration(_ name: String, _ value: String) throws(CommandError)
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
    /// Checks a user name and password in constant time; any password passes when none is configured.
    func authenticate(user: [UInt8], password: [UInt8]) -> Bool
}
