import Dispatch
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

Shutdown.install(server: server)
try? server.waitUntilClosed()
dispatchMain()
