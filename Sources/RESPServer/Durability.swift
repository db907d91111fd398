import CommandDispatch
import CommitLog
import Synchronization
import TransactionEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server's side of the commit log: its settings, loading progress, write status, compaction, and the
/// `INFO persistence` fields.
///
/// Contract:
/// 1. While `loading`, commands other than the few Redis allows then get `-LOADING`.
/// 2. After a failed log write, write commands (and PING, as Redis does) get `-MISCONF` until a write succeeds;
///    reads go on. Commits already made stay queued in the writer and reach the disk when it has room again.
/// 3. A rewrite (BGREWRITEAOF, or the size directives) writes a checkpoint on a thread of its own while serving.
package final class Durability: Sendable {
    /// The log settings, as redis.conf names them.
    package struct Configuration: Sendable {
        /// `appendonly`.
        package var enabled = true
        /// `appendfsync`.
        package var policy: LogWriter.FsyncPolicy = .everysec
        /// `appenddirname`: the log's directory inside `dir`.
        package var directoryName = "appendonlydir"
        /// `appendfilename`: reported by CONFIG GET; segment files are named `weft-<n>.log` in the directory.
        package var fileName = "appendonly.aof"
        /// `aof-load-truncated`: cut a torn tail at start-up.
        package var loadTruncated = true
        /// `aof-load-corrupt`: cut the log at corruption before its tail instead of refusing to start.
        package var loadCorrupt = false
        /// `auto-aof-rewrite-percentage` (0: never automatically).
        package var rewritePercentage = 100
        /// `auto-aof-rewrite-min-size` in bytes.
        package var rewriteMinSize: Int64 = 64 << 20
        /// `aof-backlog-limit` in bytes (Weft's own): past this many bytes committed and not yet written and synced,
        /// event loops wait for the log before their next commands (`LogWriter.Configuration.backlogLimit`).
        package var backlogLimit = LogWriter.Configuration().backlogLimit

        package init() {}
    }

    package let configuration: Configuration
    private let engine: TransactionEngine
    /// The log directory: `dir` joined with `appenddirname`.
    package let directory: String
    private let writer = Locked<LogWriter?>(nil)
    private let loadingValue = Atomic<Bool>(false)
    private let loadedPermille = Atomic<Int>(0)
    private let loadingStarted = Atomic<Int>(0)
    /// The errno of the last failed write, 0 after a success.
    private let writeErrno = Atomic<Int32>(0)
    private let rewriting = Atomic<Bool>(false)
    private let rewrites = Atomic<Int>(0)
    private let lastRewriteFailed = Atomic<Bool>(false)
    private let rewriteFailuresInARow = Atomic<Int>(0)
    private let lastRewriteSeconds = Atomic<Int>(-1)
    /// The log's size after the last rewrite (or at start): the base of `auto-aof-rewrite-percentage`.
    private let baseSize = Atomic<Int>(0)
    private let rewritePercentage: Atomic<Int>
    private let rewriteMinSize: Atomic<Int>
    private let restored = Locked<Recovery.Report?>(nil)

    package init(configuration: Configuration, dir: String, engine: TransactionEngine) {
        self.configuration = configuration
        self.engine = engine
        self.directory = configuration.directoryName.hasPrefix("/")
            ? configuration.directoryName : dir + "/" + configuration.directoryName
        self.rewritePercentage = Atomic(configuration.rewritePercentage)
        self.rewriteMinSize = Atomic(Int(configuration.rewriteMinSize))
    }

    // MARK: Loading

    /// True while recovery runs.
    package var loading: Bool { self.loadingValue.load(ordering: .acquiring) }

    /// Marks the start of recovery (commands get `-LOADING`).
    package func beginLoading() {
        self.loadingStarted.store(Int(time(nil)), ordering: .relaxed)
        self.loadedPermille.store(0, ordering: .relaxed)
        self.loadingValue.store(true, ordering: .releasing)
    }

    /// Recovery's progress, 0 to 1.
    package func loadingProgress(_ fraction: Double) {
        self.loadedPermille.store(Int(fraction * 1000), ordering: .relaxed)
    }

    /// Ends loading: from now on commits go to `writer` (nil when the log is off).
    package func finishLoading(report: Recovery.Report?, writer: LogWriter?) {
        self.restored.withLock { $0 = report }
        self.writer.withLock { $0 = writer }
        self.baseSize.store(Int(self.currentSize()), ordering: .relaxed)
        self.loadingValue.store(false, ordering: .releasing)
    }

    /// The log writer, once loading has finished.
    package var log: LogWriter? { self.writer.withLock { $0 } }

    // MARK: Write status

    /// Called by the writer when a flush of its thread fails.
    package func flushFailed(_ error: LogError) {
        if case .io(_, _, let code) = error {
            self.writeErrno.store(code == 0 ? EIO : code, ordering: .relaxed)
        } else {
            self.writeErrno.store(EIO, ordering: .relaxed)
        }
    }

    /// Called by the writer when a flush makes progress.
    package func flushSucceeded() {
        if self.writeErrno.load(ordering: .relaxed) != 0 {
            self.writeErrno.store(0, ordering: .relaxed)
        }
    }

    /// Why a command may not run now, as Redis words it, or nil (contract items 1 and 2).
    @inline(__always) package func refusal(isWrite: Bool, name: String) -> String? {
        if self.loadingValue.load(ordering: .relaxed) {
            return Durability.allowedWhileLoading.contains(name) ? nil : "LOADING Redis is loading the dataset in memory"
        }
        let code = self.writeErrno.load(ordering: .relaxed)
        if code != 0 && (isWrite || name == "ping") {
            return "MISCONF Errors writing to the AOF file: \(String(cString: strerror(code)))"
        }
        return nil
    }

    /// True when some command may be refused now (a cheap check before `refusal`).
    @inline(__always) package var mayRefuse: Bool {
        self.loadingValue.load(ordering: .relaxed) || self.writeErrno.load(ordering: .relaxed) != 0
    }

    /// Commands Redis 7 serves while loading (its `loading` flag).
    static let allowedWhileLoading: Set<String> = [
        "auth", "hello", "info", "config", "client", "command", "shutdown", "select", "quit", "reset", "slowlog",
        "latency", "time", "role",
    ]

    // MARK: Compaction

    /// Starts a rewrite on a thread of its own unless one runs. Returns false when one already runs or the log is
    /// off.
    @discardableResult
    package func startRewrite() -> Bool {
        guard let log = self.log else { return false }
        guard self.rewriting.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return false }
        DetachedThread.detach { [self] in
            let started = Int(time(nil))
            let worker = self.engine.makeWorker()
            do throws(CheckpointFailure) {
                let report = try worker.writeCheckpoint(log: log)
                self.rewrites.add(1, ordering: .relaxed)
                self.lastRewriteFailed.store(false, ordering: .relaxed)
                self.rewriteFailuresInARow.store(0, ordering: .relaxed)
                self.baseSize.store(Int(self.currentSize()), ordering: .relaxed)
                ServerLog.say(
                    "log rewritten: checkpoint of \(report.keys) keys, \(report.bytes) bytes; "
                        + "removed \(report.removedBytes) bytes of segments"
                )
            } catch {
                self.lastRewriteFailed.store(true, ordering: .relaxed)
                self.rewriteFailuresInARow.add(1, ordering: .relaxed)
                ServerLog.warn("log rewrite failed: \(error)")
            }
            self.lastRewriteSeconds.store(Int(time(nil)) - started, ordering: .relaxed)
            self.rewriting.store(false, ordering: .releasing)
        }
        return true
    }

    /// Whether a rewrite runs now.
    package var rewriteInProgress: Bool { self.rewriting.load(ordering: .acquiring) }

    /// Starts a rewrite when the log has grown past the size directives (called once a second).
    func rewriteIfGrown() {
        let percentage = self.rewritePercentage.load(ordering: .relaxed)
        guard percentage > 0, !self.loading, !self.rewriteInProgress, self.log != nil else { return }
        let current = Int(self.currentSize())
        let base = max(1, self.baseSize.load(ordering: .relaxed))
        guard current >= self.rewriteMinSize.load(ordering: .relaxed), (current - base) * 100 / base >= percentage
        else { return }
        self.startRewrite()
    }

    /// Bytes of every segment and checkpoint in the log directory.
    func currentSize() -> Int64 {
        let segments = (try? SegmentDirectory.list(self.directory)) ?? []
        let checkpoints = (try? CheckpointFiles.list(self.directory)) ?? []
        return (segments + checkpoints).reduce(0) { $0 + $1.size }
    }

    /// Bytes of the segment files alone.
    func segmentsSize() -> Int64 {
        ((try? SegmentDirectory.list(self.directory)) ?? []).reduce(0) { $0 + $1.size }
    }

    /// Bytes of the newest checkpoint (0 without one).
    func checkpointSize() -> Int64 {
        ((try? CheckpointFiles.list(self.directory)) ?? []).last?.size ?? 0
    }

    /// Changes a size directive at run time; false for other names.
    func set(_ name: String, _ value: Int) -> Bool {
        switch name {
        case "auto-aof-rewrite-percentage": self.rewritePercentage.store(value, ordering: .relaxed)
        case "auto-aof-rewrite-min-size": self.rewriteMinSize.store(value, ordering: .relaxed)
        default: return false
        }
        return true
    }

    // MARK: INFO and CONFIG

    /// CONFIG RESETSTAT's part: aof_rewrites and aof_rewrites_consecutive_failures start again from zero.
    func resetStatistics() {
        self.rewrites.store(0, ordering: .relaxed)
        self.rewriteFailuresInARow.store(0, ordering: .relaxed)
    }

    /// The `INFO persistence` fields, with Redis's names and Weft's own (`weft_log_*`) after them.
    /// INFO persistence; `lastSaveTime` is the server's start (Unix seconds: Weft writes no RDB snapshots).
    func infoFields(lastSaveTime: Int64) -> [(String, String)] {
        let loading = self.loading
        var fields: [(String, String)] = [
            ("loading", loading ? "1" : "0"),
            ("async_loading", "0"),
        ]
        if loading {
            let started = self.loadingStarted.load(ordering: .relaxed)
            let permille = self.loadedPermille.load(ordering: .relaxed)
            fields += [
                ("loading_start_time", String(started)),
                ("loading_loaded_perc", InfoText.fixed(Double(permille) / 10)),
                ("loading_eta_seconds", "1"),
            ]
        }
        let statistics = self.log?.statistics ?? LogWriter.Statistics()
        let ratio = statistics.storedPayloadBytes > 0
            ? Double(statistics.payloadBytes) / Double(statistics.storedPayloadBytes) : 1
        let current = self.configuration.enabled ? self.currentSize() : 0
        let failed = self.writeErrno.load(ordering: .relaxed) != 0
        fields += [
            ("rdb_changes_since_last_save", "0"),
            ("rdb_bgsave_in_progress", "0"),
            ("rdb_last_save_time", String(lastSaveTime)),
            ("rdb_last_bgsave_status", "ok"),
            ("aof_enabled", self.configuration.enabled ? "1" : "0"),
            ("aof_rewrite_in_progress", self.rewriteInProgress ? "1" : "0"),
            ("aof_rewrite_scheduled", "0"),
            ("aof_last_rewrite_time_sec", String(self.lastRewriteSeconds.load(ordering: .relaxed))),
            ("aof_current_rewrite_time_sec", "-1"),
            ("aof_last_bgrewrite_status", self.lastRewriteFailed.load(ordering: .relaxed) ? "err" : "ok"),
            ("aof_rewrites", String(self.rewrites.load(ordering: .relaxed))),
            ("aof_rewrites_consecutive_failures", String(self.rewriteFailuresInARow.load(ordering: .relaxed))),
            ("aof_last_write_status", failed ? "err" : "ok"),
        ]
        if self.configuration.enabled {
            fields += [
                ("aof_current_size", String(current)),
                ("aof_base_size", String(self.baseSize.load(ordering: .relaxed))),
                ("aof_pending_rewrite", "0"),
                ("aof_buffer_length", String(self.log?.backlogBytes ?? 0)),
                ("aof_pending_bio_fsync", "0"),
                ("aof_delayed_fsync", "0"),
                ("weft_log_fsync_policy", (self.log?.policy ?? self.configuration.policy).rawValue),
                ("weft_log_segments_size", String(self.segmentsSize())),
                ("weft_checkpoint_size", String(self.checkpointSize())),
                ("weft_log_fsyncs", String(statistics.syncs)),
                ("weft_log_bytes_written", String(statistics.bytesWritten)),
                ("weft_log_records_written", String(statistics.recordsWritten)),
                ("weft_log_compression_ratio", InfoText.fixed(ratio)),
                ("weft_log_durable_epoch", String(self.log?.durableEpoch ?? 0)),
                ("weft_log_append_failures", String(self.engine.logFailures)),
                ("weft_log_backlog_waits", String(statistics.backlogWaits)),
                ("weft_log_backlog_wait_seconds", InfoText.fixed(statistics.backlogWaitSeconds)),
            ]
            if let report = self.restored.withLock({ $0 }) {
                fields += [
                    ("weft_restored_keys_from_checkpoint", String(report.checkpointKeys)),
                    ("weft_restored_records", String(report.records)),
                    ("weft_restore_seconds", InfoText.fixed(report.seconds)),
                ]
            }
        }
        return fields
    }

    /// The directives CONFIG GET reports.
    func configurationValues() -> [(name: String, value: String)] {
        [
            ("appendonly", self.configuration.enabled ? "yes" : "no"),
            ("appendfsync", (self.log?.policy ?? self.configuration.policy).rawValue),
            ("appenddirname", self.configuration.directoryName),
            ("appendfilename", self.configuration.fileName),
            ("aof-load-truncated", self.configuration.loadTruncated ? "yes" : "no"),
            ("aof-load-corrupt", self.configuration.loadCorrupt ? "yes" : "no"),
            ("auto-aof-rewrite-percentage", String(self.rewritePercentage.load(ordering: .relaxed))),
            ("auto-aof-rewrite-min-size", String(self.rewriteMinSize.load(ordering: .relaxed))),
            ("aof-backlog-limit", String(self.configuration.backlogLimit)),
        ]
    }
}
