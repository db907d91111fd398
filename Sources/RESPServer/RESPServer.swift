/// The network server. Not implemented yet: it arrives with issue 3, on SwiftNIO.
package enum RESPServer {
    /// True once the server can serve clients.
    package static let isImplemented = false
}
