import RESPServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The transaction engine exists; the RESP server that serves it does not yet (issue 3). Say so and fail.
if !RESPServer.isImplemented {
    let message = "weft-server: the RESP server is not implemented yet; only the transaction engine exists.\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(1)
}
