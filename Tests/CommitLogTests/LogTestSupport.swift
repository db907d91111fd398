import CommitLog
import Foundation
import Testing

/// Runs `body` with a fresh directory under the system's temporary directory, removed afterwards.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("weft-log-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// SplitMix64: a small seeded generator, so that every run writes the same bytes.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` records with TIDs 1, 2, 3… and epochs that rise every `perEpoch` records; lengths 0 to `maxLength`, a
/// mix of compressible text and random bytes.
func makeRecords(count: Int, perEpoch: Int = 10, maxLength: Int = 200, seed: UInt64 = 1) -> [LogRecord] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { index in
        let length = Int.random(in: 0...maxLength, using: &generator)
        let bytes: [UInt8]
        if index % 3 == 0 {
            bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        } else {
            let text = Array("SET key:\(index) value-\(index % 7) EX 100 ".utf8)
            bytes = (0..<length).map { text[$0 % text.count] }
        }
        return LogRecord(tid: UInt64(index + 1), epoch: UInt64(index / perEpoch + 1), bytes: bytes)
    }
}

/// A small-segment, small-block configuration, so that a few thousand records span many blocks and segments.
func smallConfiguration(compression: Bool = true, policy: LogWriter.FsyncPolicy = .everysec) -> LogWriter.Configuration
{
    var configuration = LogWriter.Configuration()
    configuration.policy = policy
    configuration.compression = compression
    configuration.segmentSize = 8 << 10
    configuration.maxBlockPayload = 1 << 10
    configuration.laneCount = 4
    return configuration
}

/// Appends `records` in order, flushing every `flushEvery` records, then closes the writer.
func writeLog(
    _ directory: String,
    _ records: [LogRecord],
    configuration: LogWriter.Configuration,
    flushEvery: Int = 25
) throws {
    let writer = try LogWriter(directory: directory, configuration: configuration)
    for (index, record) in records.enumerated() {
        try writer.append(record: record.bytes, tid: record.tid, epoch: record.epoch)
        if (index + 1) % flushEvery == 0 { try writer.flush(fsync: false) }
    }
    try writer.close()
}

/// Reads the whole log back.
func readLog(
    _ directory: String,
    allowTruncation: Bool = false
) throws -> (records: [LogRecord], blocks: [LogBlock], end: LogEnd) {
    let reader = try LogReader(directory: directory, allowTruncation: allowTruncation)
    let (blocks, end) = try reader.readAll()
    return (blocks.flatMap(\.records), blocks, end)
}

/// The segment files of `directory`.
func segmentFiles(_ directory: String) throws -> [SegmentFile] {
    try SegmentDirectory.list(directory)
}

/// Reads a file whole.
func fileBytes(_ path: String) throws -> [UInt8] {
    try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Replaces a file's contents.
func writeFile(_ path: String, _ bytes: some Collection<UInt8>) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// The size of a file.
func fileSize(_ path: String) throws -> Int64 {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.size] as? NSNumber)?.int64Value ?? -1
}

/// Recomputes the header CRC of the block header at `offset` (after a test edited a field).
func resealHeader(_ bytes: inout [UInt8], at offset: Int) {
    let checksum = CRC32C.checksum(Array(bytes[offset..<(offset + 52)]))
    withUnsafeBytes(of: checksum.littleEndian) { raw in
        for index in 0..<4 { bytes[offset + 52 + index] = raw[index] }
    }
}

/// Runs `body(index)` on `count` real threads at once and waits for all of them, at most `limit` (4 times longer
/// under the thread sanitizer, `WEFT_TSAN=1`). Past the limit it records an issue naming the current test and
/// returns, leaving the threads running (`body` owns what it uses), so that a hung writer fails one test instead of
/// holding the whole run.
///
/// The threads are POSIX threads made here, not Foundation `Thread`s, whose `start()` ignores a failed
/// `pthread_create`: the wait would then never end. (`TestSupport`, which this target does not depend on, has the
/// same for the other test targets.)
func runThreads(
    _ count: Int,
    limit: Duration = .seconds(120),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable (Int) -> Void
) {
    /// Carries `body` and its index to a thread, which takes over the retain made here.
    final class Start {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let group = DispatchGroup()
    let finished = Protected(0)
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    for index in 0..<count {
        group.enter()
        let start = Start {
            body(index)
            finished.withLock { $0 += 1 }
            group.leave()
        }
        let argument = Unmanaged.passRetained(start).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread,
            &attributes,
            { argument in
                Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue().body()
                return nil
            },
            argument
        )
        if result != 0 {
            Unmanaged<Start>.fromOpaque(argument).release()
            group.leave()
            Issue.record("pthread_create failed: \(String(cString: strerror(result)))", sourceLocation: sourceLocation)
        }
    }
    let scaledLimit = ProcessInfo.processInfo.environment["WEFT_TSAN"] == "1" ? limit * 4 : limit
    let (seconds, attoseconds) = scaledLimit.components
    if group.wait(timeout: .now() + Double(seconds) + Double(attoseconds) / 1e18) == .timedOut {
        let test = Test.current.map { "test \"\($0.displayName ?? $0.name)\" (\($0.sourceLocation))" } ?? "no test"
        let running = count - finished.withLock { $0 }
        Issue.record(
            "runThreads: \(running) of \(count) threads of \(test) did not finish within \(scaledLimit)",
            sourceLocation: sourceLocation
        )
    }
}

/// Calls `condition` until it holds or `seconds` pass.
func eventually(within seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(1_000)
    }
    return condition()
}

/// Deletes a file.
func removeFile(_ path: String) throws {
    try FileManager.default.removeItem(atPath: path)
}

/// A value behind an `NSLock`: tests share results between threads through it. (Not `Synchronization.Mutex`, which
/// the thread sanitizer cannot see on Linux.)
final class Protected<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body(&self.value)
    }
}
