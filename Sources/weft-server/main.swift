import CommandDispatch
import CommitLog
import Dispatch
import RESPServer
import TransactionEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Before any thread starts: SIGTERM and SIGINT wait for `Shutdown`'s thread (see there).
Shutdown.blockSignals()

// Start order: configuration, engine, listen (answering -LOADING), replay the log, open the log for writing, serve.
func say(_ message: String) {
    ServerLog.say(message)
}

func warn(_ message: String) {
    ServerLog.warn(message)
}

func fail(_ message: String) -> Never {
    let line = "weft-server: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(1)
}

let options: ServerOptions
do {
    options = try ServerOptions(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
    fail(error.message)
}
if let problem = ServerLog.configure(level: options.logLevel, file: options.logFile) {
    fail(problem)
}
var directoryInfo = stat()
if stat(options.server.dir, &directoryInfo) != 0 || directoryInfo.st_mode & S_IFMT != S_IFDIR {
    fail("Can't chdir to '\(options.server.dir)': \(String(cString: strerror(ENOENT)))")
}

var engineConfiguration = TransactionEngine.Configuration()
engineConfiguration.databases = options.databases
// Without a log nothing reads a commit's record of effects: skip building it.
engineConfiguration.recordsEffects = options.durability.enabled
let engine = TransactionEngine(configuration: engineConfiguration)
let durability = Durability(configuration: options.durability, dir: options.server.dir, engine: engine)
var serverConfiguration = options.server
serverConfiguration.memoryAllocator = Allocator.name
let server = RESPServer(configuration: serverConfiguration, engine: engine, durability: durability)
let threads = server.threadCount
say("Weft \(RESPServer.weftVersion) starting: config file '\(options.server.configFile)', \(threads) io-threads")
if options.durability.enabled { durability.beginLoading() }
/// The log directory's lock, held until the process exits.
var logLock: LogDirectoryLock? = nil
let port: Int
do {
    port = try server.start()
} catch {
    fail("cannot listen on port \(options.server.port): \(error)")
}
Shutdown.install(server: server)
say("listening on port \(port)")

if options.durability.enabled {
    let directory = durability.directory
    do {
        logLock = try LogDirectoryLock(directory: directory)
    } catch {
        fail("cannot use the log directory: \(error)")
    }
    var recovery = Recovery.Options()
    recovery.allowTornTail = options.durability.loadTruncated
    recovery.allowCorruption = options.durability.loadCorrupt
    let report: Recovery.Report
    var shownDecile = 0
    say("restoring the log from \(directory)")
    do {
        report = try Recovery.restore(engine: engine, directory: directory, options: recovery) { fraction in
            durability.loadingProgress(fraction)
            let decile = Int(fraction * 10)
            if decile > shownDecile && decile < 10 {
                shownDecile = decile
                say("loading: \(decile * 10)% of the log replayed")
            }
        }
    } catch {
        fail("cannot restore the log in \(directory): \(error)")
    }
    if let tail = report.tornTail {
        warn(
            "WARNING: the log ended in a torn tail (an interrupted write): cut \(tail.totalBytes) bytes at offset "
                + "\(tail.offset) of \(tail.file) (\(tail.reason))"
        )
    }
    if let cut = report.truncated {
        warn(
            "WARNING: aof-load-corrupt is on: the log was corrupt at offset \(cut.offset) of \(cut.file) "
                + "(\(cut.reason)); cut \(cut.totalBytes) bytes there, and every commit after it is lost"
        )
    }
    let restored = report.checkpoint.map { "checkpoint \($0.path) (\(report.checkpointKeys) keys), then " } ?? ""
    say(
        "log restored from \(directory): \(restored)\(report.records) records in \(report.segments) segments, "
            + "\(report.bytes) bytes, in \(InfoText.fixed(report.seconds)) s"
    )
    var writerConfiguration = LogWriter.Configuration()
    writerConfiguration.policy = options.durability.policy
    writerConfiguration.firstSegment = report.firstSegment
    writerConfiguration.laneCount = max(4, threads + 2)
    // As Redis writes its AOF buffer every event-loop turn: a crash of the process alone loses at most ~10 ms.
    writerConfiguration.writeInterval = .milliseconds(10)
    writerConfiguration.backlogLimit = options.durability.backlogLimit
    writerConfiguration.closedEpoch = { engine.closedEpoch() }
    writerConfiguration.onDurable = { point in server.logBecameDurable(point) }
    writerConfiguration.onFlushError = { error in
        durability.flushFailed(error)
        warn("log write failed: \(error)")
    }
    let writer: LogWriter
    do {
        writer = try LogWriter(directory: directory, configuration: writerConfiguration)
        try writer.startFlusher()
        engine.attach(log: writer)
        try server.useLog(writer)
    } catch {
        fail("cannot open the log in \(directory) for writing: \(error)")
    }
    durability.finishLoading(report: report, writer: writer)
    say("appendfsync \(options.durability.policy.rawValue): the log is open")
} else {
    say("appendonly no: commits are not logged")
}
say("ready to accept connections on port \(port)")

try? server.waitUntilClosed()
dispatchMain()
