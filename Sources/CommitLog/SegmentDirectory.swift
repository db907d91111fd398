#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One segment file of a log directory.
package struct SegmentFile: Hashable, Sendable {
    /// The segment's number, from its name.
    package var number: UInt64
    /// The file's path.
    package var path: String
    /// The file's size in bytes when it was listed.
    package var size: Int64

    /// A segment from its parts.
    package init(number: UInt64, path: String, size: Int64) {
        self.number = number
        self.path = path
        self.size = size
    }
}

/// Names, lists and syncs the segment files of a log directory (`LogFormat`, item 1).
package enum SegmentDirectory {
    /// `weft-<16 lowercase hex digits>.log` for segment `number`.
    ///
    /// - Complexity: O(1).
    package static func fileName(number: UInt64) -> String {
        let digits = String(number, radix: 16)
        return "weft-" + String(repeating: "0", count: 16 - digits.count) + digits + ".log"
    }

    /// The path of segment `number` in `directory`.
    package static func path(directory: String, number: UInt64) -> String {
        directory + "/" + SegmentDirectory.fileName(number: number)
    }

    /// The segment number a file name spells, or nil if it is not a segment's name.
    ///
    /// - Complexity: O(1).
    package static func number(fromFileName name: String) -> UInt64? {
        let utf8 = Array(name.utf8)
        guard utf8.count == 25, name.hasPrefix("weft-"), name.hasSuffix(".log") else { return nil }
        var number: UInt64 = 0
        for byte in utf8[5..<21] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            number = number << 4 | UInt64(digit)
        }
        return number
    }

    /// The segments in `directory`, by increasing number, with their sizes. A directory that does not exist holds
    /// none.
    ///
    /// - Throws: `LogError.io` when the directory or a segment cannot be read.
    /// - Complexity: O(n log n) in the directory's entries.
    package static func list(_ directory: String) throws(LogError) -> [SegmentFile] {
        var segments: [SegmentFile] = []
        for name in try POSIX.entryNames(directory) {
            guard let number = SegmentDirectory.number(fromFileName: name) else { continue }
            let path = directory + "/" + name
            segments.append(SegmentFile(number: number, path: path, size: try POSIX.size(path: path)))
        }
        segments.sort { $0.number < $1.number }
        return segments
    }
}

/// Thin wrappers over the system calls the log makes, each turning `errno` into `LogError.io` with the path, and
/// each retrying `EINTR`. The writer passes its `_LogFaults` so that tests can make them fail.
enum POSIX {
    static func open(_ path: String, flags: Int32, mode: mode_t = 0o644) throws(LogError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw .io(.open, path: path, errno: errno) }
        }
    }

    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// The names in `directory` (none if it does not exist).
    static func entryNames(_ directory: String) throws(LogError) -> [String] {
        guard let handle = opendir(directory) else {
            let code = errno
            if code == ENOENT { return [] }
            throw .io(.listDirectory, path: directory, errno: code)
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            names.append(
                withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                    pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
            )
        }
        return names
    }

    static func makeDirectory(_ path: String) throws(LogError) {
        if mkdir(path, 0o755) != 0, errno != EEXIST {
            throw .io(.createDirectory, path: path, errno: errno)
        }
    }

    static func size(path: String) throws(LogError) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .io(.stat, path: path, errno: errno) }
        return Int64(info.st_size)
    }

    static func size(fd: Int32, path: String) throws(LogError) -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(.stat, path: path, errno: errno) }
        return Int64(info.st_size)
    }

    /// Reads up to `count` bytes at `offset`; fewer only where the file ends.
    static func read(_ fd: Int32, count: Int, at offset: Int64, path: String) throws(LogError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        let failure: Int32? = buffer.withUnsafeMutableBytes { bytes in
            while done < count {
                let result = pread(fd, bytes.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if result < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if result == 0 { break }
                done += result
            }
            return nil
        }
        if let failure { throw .io(.read, path: path, errno: failure) }
        buffer.removeLast(count - done)
        return buffer
    }

    /// Writes all of `bytes` at the file offset, looping over short writes.
    static func writeAll(
        _ fd: Int32,
        _ bytes: UnsafeRawBufferPointer,
        path: String,
        faults: _LogFaults?
    ) throws(LogError) {
        if let (code, prefix) = faults?.takeWriteFailure() {
            let written = min(prefix, bytes.count)
            if written > 0 {
                try POSIX.writeAll(fd, UnsafeRawBufferPointer(rebasing: bytes[0..<written]), path: path, faults: nil)
            }
            throw .io(.write, path: path, errno: code)
        }
        var done = 0
        while done < bytes.count {
            let result = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if result < 0 {
                if errno == EINTR { continue }
                throw .io(.write, path: path, errno: errno)
            }
            // write(2) returns 0 only for an empty request; never spin on it.
            if result == 0 { throw .io(.write, path: path, errno: EIO) }
            done += result
        }
    }

    static func syncData(_ fd: Int32, path: String, faults: _LogFaults?) throws(LogError) {
        if let code = faults?.beforeSync() { throw .io(.sync, path: path, errno: code) }
        while fdatasync(fd) != 0 {
            if errno != EINTR { throw .io(.sync, path: path, errno: errno) }
        }
    }

    static func syncDirectory(_ fd: Int32, path: String) throws(LogError) {
        while fsync(fd) != 0 {
            if errno != EINTR { throw .io(.syncDirectory, path: path, errno: errno) }
        }
    }

    /// Cuts the file to `length` and puts the file offset there, so that the next write lands right after it.
    static func truncate(_ fd: Int32, to length: Int64, path: String, faults: _LogFaults?) throws(LogError) {
        if let code = faults?.takeTruncateFailure() { throw .io(.truncate, path: path, errno: code) }
        while ftruncate(fd, off_t(length)) != 0 {
            if errno != EINTR { throw .io(.truncate, path: path, errno: errno) }
        }
        guard lseek(fd, off_t(length), SEEK_SET) == off_t(length) else {
            throw .io(.seek, path: path, errno: errno)
        }
    }

    static func remove(_ path: String) throws(LogError) {
        if unlink(path) != 0, errno != ENOENT { throw .io(.remove, path: path, errno: errno) }
    }
}
