import NIOCore
import TransactionEngine

/// The state of one client connection that commands read and change: the selected database, the name, the
/// protocol version, and MULTI/WATCH state.
package struct ClientSession: Sendable {
    /// The connection's id (CLIENT ID).
    package let id: Int64
    /// The selected database (SELECT).
    package var database: Int = 0
    /// False until AUTH or HELLO ... AUTH succeeds when `requirepass` is set; the server sets it at connect.
    package var authenticated = true
    /// Set by QUIT: the server closes the connection once the reply is written.
    package var closeAfterReply = false
    /// The RESP version replies use (HELLO).
    package var protocolVersion = 2
    /// CLIENT SETNAME / HELLO SETNAME.
    package var name = ""
    /// The client's address as `ip:port`, set by the server at connect (slow log entries).
    package var address = ""
    /// CLIENT SETINFO LIB-NAME / LIB-VER.
    package var libraryName = ""
    package var libraryVersion = ""
    /// Between MULTI and EXEC/DISCARD.
    package var inMulti = false
    /// A command was rejected while queuing: EXEC answers EXECABORT.
    package var multiFailed = false
    /// Commands queued by MULTI, each with its arguments.
    package var queued: [QueuedCommand] = []
    /// WATCH tokens, released by EXEC, DISCARD, UNWATCH and the connection's end.
    package var watches: [WatchToken] = []
    /// Commands run on this connection (for INFO's total_commands_processed).
    package var commandsProcessed: Int = 0
    /// The last command's name (CLIENT LIST's cmd=).
    package var lastCommand = "NULL"
    /// While EXEC runs its commands: how many it queued (CLIENT LIST shows the client still in MULTI, running EXEC).
    package var runningExec = 0
    /// CLIENT NO-EVICT: flag `e` in CLIENT LIST. (Weft evicts no client: it has no maxmemory-clients.)
    package var noEvict = false
    /// CLIENT REPLY: which replies the connection is sent; the server drops the others after each command.
    package var replyMode = ReplyMode.on
    /// Set by CLIENT PAUSE: the server sends this reply, and every later one, only once each event loop has
    /// finished what it was running when the pause began, so that nothing the pause holds commits after the OK.
    package var waitsForEveryLoop = false
    /// MONITOR mode: the connection is fed every command run (see `MonitorFeed`), may not touch the keyspace, and
    /// is never closed for idleness. RESET ends it.
    package var monitoring = false
    /// Set by a WAIT that blocks: the server answers it after this many milliseconds (0: only when CLIENT UNBLOCK
    /// asks), and runs nothing more of the connection's meanwhile. The server clears it.
    package var waitMilliseconds: Int64? = nil

    /// CLIENT REPLY's states, as Redis's CLIENT_REPLY_OFF, CLIENT_REPLY_SKIP_NEXT and CLIENT_REPLY_SKIP.
    package enum ReplyMode: Sendable {
        /// Every reply is sent.
        case on
        /// No reply is sent (CLIENT REPLY OFF) until CLIENT REPLY ON.
        case off
        /// CLIENT REPLY SKIP has just run: the next command's reply is dropped.
        case skipNext
        /// This command's reply is dropped; the next one's is sent.
        case skip
    }

    package init(id: Int64) {
        self.id = id
    }
}
