import Dispatch
import RESPServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGTERM, SIGINT and SHUTDOWN: stop listening, close every client after its pending replies, flush and sync the
/// log, exit 0.
enum Shutdown {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// Installs the signal handlers and the SHUTDOWN hook. Called once, from main, before serving.
    static func install(server: RESPServer) {
        server.onShutdownRequest { Shutdown.stop(server, reason: "SHUTDOWN") }
        signal(SIGPIPE, SIG_IGN)
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { Shutdown.stop(server, reason: name) }
            source.resume()
            Shutdown.sources.append(source)
        }
    }

    static func stop(_ server: RESPServer, reason: String) {
        ServerLog.warn("\(reason): shutting down")
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
