import RESPServer
import TransactionEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Start order: configuration, engine, listen. The commit log and its replay come with issue 4.
func say(_ message: String, to descriptor: Int32 = 1) {
    let line = "weft-server: \(message)\n"
    _ = line.withCString { write(descriptor, $0, strlen($0)) }
}

func fail(_ message: String) -> Never {
    say(message, to: 2)
    exit(1)
}

let options: ServerOptions
do {
    options = try ServerOptions(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
    fail(error.message)
}

var engineConfiguration = TransactionEngine.Configuration()
engineConfiguration.databases = options.databases
let engine = TransactionEngine(configuration: engineConfiguration)
let server = RESPServer(configuration: options.server, engine: engine)
let port: Int
do {
    port = try server.start()
} catch {
    fail("cannot listen on port \(options.server.port): \(error)")
}
say("ready to accept connections on port \(port)")

// SIGTERM and SIGINT close the listeners; in-flight replies are flushed as the loops shut down.
signal(SIGPIPE, SIG_IGN)
let shutdownSignals = [SIGTERM, SIGINT]
for number in shutdownSignals {
    signal(number) { _ in
        let line = "weft-server: shutting down\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        exit(0)
    }
}
try? server.waitUntilClosed()
