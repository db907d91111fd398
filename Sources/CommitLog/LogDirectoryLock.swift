#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive lock on a log directory, held for the life of the process: a second server started on the same
/// directory (say, while the first is still flushing at shutdown) refuses to start instead of reading a log that is
/// still being written.
///
/// It is `flock(2)` on `weft.lock` in the directory, so the kernel drops it when the process exits, however it
/// exits.
package final class LogDirectoryLock: Sendable {
    /// The lock file's path.
    package let path: String
    private let fd: Int32

    /// Creates the directory if needed and takes its lock without waiting.
    ///
    /// - Throws: `LogError.directoryInUse` when another process holds it; `LogError.io` otherwise.
    package init(directory: String) throws(LogError) {
        try POSIX.makeDirectory(directory)
        self.path = directory + "/weft.lock"
        // `self.fd` is set only once the lock is held: deinit (which closes it) also runs when this initializer
        // throws after every stored property is set.
        let fd = try POSIX.open(self.path, flags: O_RDWR | O_CREAT)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            POSIX.close(fd)
            if code == EWOULDBLOCK { throw .directoryInUse(path: directory) }
            throw .io(.lock, path: self.path, errno: code)
        }
        self.fd = fd
    }

    deinit {
        POSIX.close(self.fd)
    }
}
