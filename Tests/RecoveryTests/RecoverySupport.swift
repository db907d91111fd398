import CommitLog
import Foundation
import TestSupport
import Testing
import TransactionEngine

// Helpers for the recovery tests: a "life" of the database (restore, then a writer attached), the contents of
// every database as plain values, and files in a temporary log directory.

/// Runs `body` with a fresh directory under the system's temporary directory, removed afterwards.
func withLogDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("weft-recovery-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// A key's value and absolute expiry (0: none), as plain bytes.
struct Stored: Hashable, CustomStringConvertible {
    var value: [UInt8]
    var expiresAt: Int64

    init(_ value: [UInt8], expiresAt: Int64 = 0) {
        self.value = value
        self.expiresAt = expiresAt
    }

    var description: String { "\(show(self.value))\(self.expiresAt == 0 ? "" : " @\(self.expiresAt)")" }
}

/// Every database's live keys: `contents[db][key]`.
typealias Contents = [[[UInt8]: Stored]]

/// Bytes as a readable string (printable ASCII as is, the rest as `\xNN`).
func show(_ bytes: [UInt8]) -> String {
    "\""
        + bytes.map {
            $0 >= 0x20 && $0 < 0x7f && $0 != 0x22 ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0)
        }
        .joined() + "\""
}

/// The differences between two contents, at most `limit` lines (empty when they are equal).
func differences(_ actual: Contents, _ expected: Contents, limit: Int = 12) -> [String] {
    var lines: [String] = []
    if actual.count != expected.count { lines.append("database count \(actual.count) != \(expected.count)") }
    for db in 0..<min(actual.count, expected.count) {
        for (key, want) in expected[db] where actual[db][key] != want {
            lines.append(
                "db \(db) key \(show(key)): got \(actual[db][key].map(\.description) ?? "nothing"), want \(want)"
            )
        }
        for (key, got) in actual[db] where expected[db][key] == nil {
            lines.append("db \(db) key \(show(key)): got \(got), want nothing")
        }
    }
    if lines.count > limit { lines = Array(lines.prefix(limit)) + ["… \(lines.count - limit) more"] }
    return lines
}

/// Scans every database of `worker`'s engine with SCAN and returns what it holds.
func snapshot(_ worker: Worker) -> Contents {
    (0..<worker.databaseCount).map { db in
        var found: [[UInt8]: Stored] = [:]
        var cursor: UInt64 = 0
        repeat {
            cursor = worker.scan(database: db, cursor: cursor, count: 100) { key, entry in
                found[Array(key)] = Stored(entry.value.byteArray, expiresAt: entry.expiresAt)
            }
        } while cursor != 0
        return found
    }
}

/// How the tests' log writers are set up.
struct LogSetup {
    var policy: LogWriter.FsyncPolicy = .no
    var segmentSize = 64 << 20
    var maxBlockPayload = 1 << 20
    var laneCount = 4
    var flushInterval: Duration = .seconds(1)
    /// Start the background flusher thread.
    var flusher = false

    /// Small segments and blocks: a few hundred commits span several segments.
    static var small: LogSetup {
        var setup = LogSetup()
        setup.segmentSize = 4 << 10
        setup.maxBlockPayload = 1 << 10
        return setup
    }
}

/// A fresh engine with a fixed hash seed.
func makeEngine(clock: ManualClock, databases: Int = 4, hashSeed: UInt64? = nil) -> TransactionEngine {
    var configuration = testConfiguration(clock: clock)
    configuration.databases = databases
    if let hashSeed { configuration.hashSeed = hashSeed }
    return TransactionEngine(configuration: configuration)
}

/// One life of the database, as the server runs it: a fresh engine, `Recovery.restore` from the directory, a
/// writer opened at the report's first segment and attached, and a worker for the test's thread.
final class Life {
    let directory: String
    let clock: ManualClock
    let databases: Int
    let setup: LogSetup
    let engine: TransactionEngine
    let report: Recovery.Report
    let writer: LogWriter
    let worker: Worker

    init(
        directory: String,
        clock: ManualClock,
        databases: Int = 4,
        setup: LogSetup = LogSetup(),
        options: Recovery.Options = Recovery.Options()
    ) throws {
        self.directory = directory
        self.clock = clock
        self.databases = databases
        self.setup = setup
        let engine = makeEngine(clock: clock, databases: databases)
        self.engine = engine
        self.report = try Recovery.restore(engine: engine, directory: directory, options: options)
        var configuration = LogWriter.Configuration()
        configuration.policy = setup.policy
        configuration.segmentSize = setup.segmentSize
        configuration.maxBlockPayload = setup.maxBlockPayload
        configuration.laneCount = setup.laneCount
        configuration.flushInterval = setup.flushInterval
        configuration.firstSegment = self.report.firstSegment
        // Weak: the engine holds the writer, the writer must not hold the engine.
        configuration.closedEpoch = { [weak engine] in engine?.closedEpoch() ?? .max }
        self.writer = try LogWriter(directory: directory, configuration: configuration)
        engine.attach(log: self.writer)
        if setup.flusher { try self.writer.startFlusher() }
        self.worker = engine.makeWorker()
    }

    /// Closes the writer (flush and sync what is left), as a clean shutdown does.
    func close() throws {
        try self.writer.close()
    }

    /// Shuts down cleanly and starts the next life on the same directory.
    func restart(options: Recovery.Options = Recovery.Options()) throws -> Life {
        try self.close()
        return try self.next(options: options)
    }

    /// The next life on the same directory, without closing this one (after a crash, or after `close()`).
    func next(options: Recovery.Options = Recovery.Options()) throws -> Life {
        try Life(
            directory: self.directory,
            clock: self.clock,
            databases: self.databases,
            setup: self.setup,
            options: options
        )
    }

    /// What every database holds.
    var contents: Contents { snapshot(self.worker) }

    /// Writes a checkpoint on a worker of its own (made and dropped here, on the calling thread).
    @discardableResult
    func checkpoint() throws -> CheckpointReport {
        let worker = self.engine.makeWorker()
        return try worker.writeCheckpoint(log: self.writer)
    }
}

/// Restores `directory` into a fresh engine and returns the report and what it holds (no writer is opened).
func restoreOnly(
    _ directory: String,
    clock: ManualClock,
    databases: Int = 4,
    hashSeed: UInt64? = nil,
    options: Recovery.Options = Recovery.Options()
) throws(Recovery.Failure) -> (report: Recovery.Report, contents: Contents, engine: TransactionEngine) {
    let engine = makeEngine(clock: clock, databases: databases, hashSeed: hashSeed)
    let report = try Recovery.restore(engine: engine, directory: directory, options: options)
    let worker = engine.makeWorker()
    return (report, snapshot(worker), engine)
}

// MARK: Engine shortcuts

extension Worker {
    /// Sets a key and returns its commit's TID.
    @discardableResult
    func put(_ key: String, _ value: String, db: Int = 0, expiry: Expiry = .none) -> UInt64 {
        self.set(bytes(key), bytes(value), database: db, expiry: expiry)!
    }

    /// Changes a key's expiry (EXPIRE, PERSIST); true when the key was there.
    @discardableResult
    func expire(_ key: [UInt8], db: Int = 0, _ expiry: Expiry) -> Bool {
        key.withUnsafeBytes { raw in self.run(database: db, key: raw) { tx in tx.setExpiry(raw, expiry) }.result }
    }
}

// MARK: Files

/// The segment and checkpoint files of a log directory.
func segments(_ directory: String) throws -> [SegmentFile] { try SegmentDirectory.list(directory) }

func checkpoints(_ directory: String) throws -> [SegmentFile] { try CheckpointFiles.list(directory) }

/// Every file name in `directory`, sorted.
func fileNames(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
}

func fileBytes(_ path: String) throws -> [UInt8] {
    try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

func appendToFile(_ path: String, _ bytes: [UInt8]) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(bytes))
}

func truncateFile(_ path: String, to size: Int64) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.truncate(atOffset: UInt64(size))
}

func fileSize(_ path: String) throws -> Int64 {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.size] as? NSNumber)?.int64Value ?? -1
}

/// Every record of the log's segments (not checkpoints) in file order, read with the plain reader.
func loggedRecords(_ directory: String) throws -> [(tid: UInt64, effects: [Effect])] {
    let reader = try LogReader(directory: directory)
    var records: [(tid: UInt64, effects: [Effect])] = []
    while let block = try reader.next() {
        for record in block.records {
            let effects = try record.bytes.withUnsafeBytes { try Effect.decode($0) }
            records.append((record.tid, effects))
        }
    }
    return records
}

/// How many patch effects the log in `directory` holds.
func loggedPatchCount(_ directory: String) throws -> Int {
    try loggedRecords(directory).flatMap(\.effects).count {
        if case .patch = $0 { return true } else { return false }
    }
}

/// The decimal number a value spells (-1 when it is not one).
func decimal(_ value: [UInt8]?) -> Int { Int(String(decoding: value ?? [], as: UTF8.self)) ?? -1 }

/// Key bytes of a string.
func key(_ text: String) -> [UInt8] { bytes(text) }

/// The failure of a restore into a fresh engine, or nil when it succeeds.
func restoreFailure(
    _ directory: String,
    clock: ManualClock,
    databases: Int = 4,
    options: Recovery.Options = Recovery.Options()
) -> Recovery.Failure? {
    do throws(Recovery.Failure) {
        _ = try restoreOnly(directory, clock: clock, databases: databases, options: options)
        return nil
    } catch {
        return error
    }
}
