import CommitLog
import RESPServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGTERM, SIGINT and SHUTDOWN: stop listening, close every client after its pending replies, flush and sync the
/// log, exit 0.
///
/// SIGTERM and SIGINT are blocked in every thread from the start of main (`blockSignals`; threads inherit the
/// mask), and one thread of ours takes them with `sigwait`. A process-directed signal is delivered to any thread that
/// does not block it: with a handler set up after SwiftNIO's and libdispatch's threads had started, a SIGTERM was
/// seen, now and then, to be ignored or to kill the process without the graceful stop.
enum Shutdown {
    /// The signals that stop the server.
    private static var stopSignals: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        return set
    }

    /// Blocks SIGTERM and SIGINT in the calling thread, and so in every thread it starts later. Call it first in
    /// main, before anything starts a thread.
    static func blockSignals() {
        var set = Shutdown.stopSignals
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Installs the SHUTDOWN hook and starts the thread that waits for SIGTERM and SIGINT. Called once, from main,
    /// before serving; a signal that arrived earlier is pending and taken then.
    static func install(server: RESPServer) {
        server.onShutdownRequest { Shutdown.stop(server, reason: "SHUTDOWN") }
        signal(SIGPIPE, SIG_IGN)
        let started = POSIXThread.start {
            var set = Shutdown.stopSignals
            while true {
                var number: Int32 = 0
                guard sigwait(&set, &number) == 0 else { continue }
                Shutdown.stop(server, reason: number == SIGINT ? "SIGINT" : "SIGTERM")
            }
        }
        switch started {
        case .success(let thread):
            pthread_detach(thread)
        case .failure(let error):
            Shutdown.say("cannot start the signal thread: \(String(cString: strerror(error.errno)))")
            exit(1)
        }
    }

    static func stop(_ server: RESPServer, reason: String) {
        ServerLog.warn("\(reason): shutting down")
        // Event loops held by the log's backpressure (a stalled disk) must not keep the server from stopping.
        server.durability?.log?.releaseBacklogWaiters()
        try? server.shutdown()
        if let log = server.durability?.log {
            do {
                try log.close()
                Shutdown.say("log flushed and synced")
            } catch {
                Shutdown.say("log could not be flushed: \(error)")
                exit(1)
            }
        }
        ServerLog.warn("Weft is now ready to exit, bye bye...")
        exit(0)
    }

    static func say(_ message: String) {
        ServerLog.say(message)
    }
}
