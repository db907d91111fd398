// weft-log: verify, dump and repair a Weft commit log directory (like redis-check-aof).
//
//   weft-log verify DIR [--allow-truncation]   report; exit 0 when clean, 1 when torn or corrupt
//   weft-log dump DIR                          every record as text: TID, epoch, effects
//   weft-log repair DIR [--allow-truncation]   back the segments up to DIR.backup-<time>, then cut the tail
import CommitLog
import TransactionEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func say(_ text: String, to descriptor: Int32 = 1) {
    let line = text + "\n"
    _ = line.withCString { write(descriptor, $0, strlen($0)) }
}

func usage() -> Never {
    say("usage: weft-log verify|dump|repair DIR [--allow-truncation]", to: 2)
    exit(2)
}

func describe(_ end: LogEnd) -> String {
    switch end {
    case .clean: return "clean"
    case .tornTail(let tail):
        return "torn tail: \(tail.byteCount) bytes to drop at \(tail.file) offset \(tail.offset) (\(tail.reason))"
    case .truncated(let tail):
        return "corrupt: \(tail.totalBytes) bytes from \(tail.file) offset \(tail.offset) would be dropped "
            + "(\(tail.reason))"
    }
}

func text(_ effect: Effect) -> String {
    func show(_ bytes: [UInt8]) -> String {
        let printable = bytes.allSatisfy { $0 >= 32 && $0 < 127 && $0 != 34 && $0 != 92 }
        return printable
            ? "\"" + String(decoding: bytes, as: UTF8.self) + "\""
            : "0x" + bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
                .joined()
    }
    switch effect {
    case .put(let database, let key, _, let value, let expiresAt):
        return "put db=\(database) key=\(show(key)) value=\(show(value))" + (expiresAt != 0 ? " pxat=\(expiresAt)" : "")
    case .delete(let database, let key): return "delete db=\(database) key=\(show(key))"
    case .expire(let database, let key, let expiresAt): return "expire db=\(database) key=\(show(key)) pxat=\(expiresAt)"
    case .flushDatabase(let database): return "flushdb db=\(database)"
    case .flushAll: return "flushall"
    case .swapDatabases(let first, let second): return "swapdb \(first) \(second)"
    case .checkpoint(let firstSegment): return "checkpoint first-segment=\(firstSegment)"
    case .patch(let database, let key, _, let count, let offset, let bytes, let expiresAt):
        return "patch db=\(database) key=\(show(key)) length=\(count) offset=\(offset) bytes=\(show(bytes))"
            + (expiresAt != 0 ? " pxat=\(expiresAt)" : "")
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else { usage() }
let command = arguments[0]
let directory = arguments[1]
let allowTruncation = arguments.dropFirst(2).contains("--allow-truncation")

do {
    switch command {
    case "verify":
        let report = try LogInspection.verify(directory: directory, allowTruncation: allowTruncation)
        say("segments \(report.segments)")
        say("blocks \(report.blocks)")
        say("records \(report.records)")
        if let first = report.firstTID, let last = report.lastTID { say("tids \(first)..\(last)") }
        say("stored_bytes \(report.storedBytes)")
        say("record_bytes \(report.uncompressedBytes)")
        say("end \(describe(report.end))")
        exit(report.end == .clean ? 0 : 1)
    case "dump":
        let reader = try LogReader(directory: directory, allowTruncation: allowTruncation)
        while let block = try reader.next() {
            for record in block.records {
                let effects = record.bytes.withUnsafeBytes { try? Effect.decode($0) }
                let shown = effects.map { $0.map(text).joined(separator: "; ") } ?? "undecodable \(record.bytes.count) bytes"
                say("tid=\(record.tid) epoch=\(record.epoch) \(shown)")
            }
        }
        if let end = reader.end, end != .clean { say("# \(describe(end))", to: 2) }
    case "repair":
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let backup = directory + ".backup-\(now.tv_sec)"
        if let dropped = try LogInspection.repair(directory: directory, backup: backup, allowTruncation: allowTruncation) {
            say("backed up to \(backup); cut \(dropped.totalBytes) bytes at \(dropped.file) offset \(dropped.offset)")
        } else {
            say("clean: nothing to repair")
        }
    default:
        usage()
    }
} catch {
    say("weft-log: \(error.description)", to: 2)
    exit(1)
}
