import CommitLog
import Synchronization

/// The server's statistics for INFO stats, commandstats and errorstats, SLOWLOG and CONFIG RESETSTAT: every event
/// loop's `CommandStatistics`, the slow log, the server-wide counters and the instantaneous rates.
///
/// Contract: readers sum the loops' counters and subtract the baseline recorded by the last `reset()`; the loops'
/// counters themselves only grow. `sample()` runs every 100 ms on one loop and keeps Redis's instantaneous metrics:
/// the rate over each of the last 16 periods, averaged.
package final class ServerStatistics: Sendable {
    /// One per event loop, in the server's loop order.
    package let loops: [CommandStatistics]
    package let slowLog: SlowLog
    /// The name of each command row.
    private let names: [String]
    private let rows: Int
    private let counterCount: Int
    /// The raw sums at the last reset.
    private let baseline: Locked<[UInt64]>
    private let sampler: Locked<Sampler>
    /// Keys removed by the expiry sweep (expired_keys).
    package let expiredKeys = Atomic<Int>(0)
    /// Connections accepted (total_connections_received), and refused for maxclients (rejected_connections).
    package let connectionsReceived = Atomic<Int>(0)
    package let rejectedConnections = Atomic<Int>(0)
    /// The largest used_memory seen (used_memory_peak); CONFIG RESETSTAT keeps it, as Redis's does.
    package let peakMemory = Atomic<Int>(0)

    /// Statistics for `loops` event loops running the commands of `table`.
    package init(table: CommandTable = .standard, loops: Int, slowLog: SlowLog = SlowLog()) {
        self.names = table.statisticsNames
        self.rows = self.names.count
        self.slowLog = slowLog
        self.loops = (0..<loops).map { _ in CommandStatistics(rows: table.statisticsNames.count, slowLog: slowLog) }
        self.counterCount = self.rows * CommandStatistics.countersPerRow + CommandStatistics.Total.allCases.count
        self.baseline = Locked([UInt64](repeating: 0, count: self.counterCount))
        self.sampler = Locked(Sampler())
    }

    // MARK: Reading

    /// Every counter summed over the loops, without the baseline.
    private func rawSums() -> [UInt64] {
        var sums = [UInt64](repeating: 0, count: self.counterCount)
        for loop in self.loops {
            for index in 0..<self.counterCount {
                sums[index] &+= loop.load(index)
            }
        }
        return sums
    }

    /// Every counter since the last reset.
    private func sums() -> [UInt64] {
        var sums = self.rawSums()
        self.baseline.withLock { baseline in
            for index in 0..<sums.count {
                sums[index] = sums[index] >= baseline[index] ? sums[index] - baseline[index] : 0
            }
        }
        return sums
    }

    private func total(_ total: CommandStatistics.Total, in sums: [UInt64]) -> UInt64 {
        sums[self.rows * CommandStatistics.countersPerRow + total.rawValue]
    }

    private func commands(in sums: [UInt64]) -> UInt64 {
        var calls: UInt64 = 0
        for row in 0..<self.rows {
            calls &+= sums[row * CommandStatistics.countersPerRow]
        }
        return calls
    }

    /// The totals INFO stats shows, since the last reset.
    package struct Totals: Sendable {
        /// Commands that ran (total_commands_processed): every row's calls.
        package var commandsProcessed: UInt64 = 0
        /// Bytes read from and written to clients (total_net_input_bytes, total_net_output_bytes).
        package var netInputBytes: UInt64 = 0
        package var netOutputBytes: UInt64 = 0
        /// Reads from clients, and replies to them (total_reads_processed, total_writes_processed).
        package var readsProcessed: UInt64 = 0
        package var writesProcessed: UInt64 = 0
        /// Keys found and not found by reads (keyspace_hits, keyspace_misses).
        package var keyspaceHits: UInt64 = 0
        package var keyspaceMisses: UInt64 = 0
        /// Error replies of any code (total_error_replies).
        package var errorReplies: UInt64 = 0
    }

    /// The totals since the last reset.
    package func totals() -> Totals {
        let sums = self.sums()
        var totals = Totals()
        totals.commandsProcessed = self.commands(in: sums)
        totals.netInputBytes = self.total(.netInputBytes, in: sums)
        totals.netOutputBytes = self.total(.netOutputBytes, in: sums)
        totals.readsProcessed = self.total(.readsProcessed, in: sums)
        totals.writesProcessed = self.total(.writesProcessed, in: sums)
        totals.keyspaceHits = self.total(.keyspaceHits, in: sums)
        totals.keyspaceMisses = self.total(.keyspaceMisses, in: sums)
        totals.errorReplies = self.total(.errorReplies, in: sums)
        return totals
    }

    /// INFO commandstats: `cmdstat_<name>` with `calls=N,usec=N,usec_per_call=N.NN,rejected_calls=N,failed_calls=N`
    /// for every row that was called, rejected or failed, by name.
    package func commandStatsFields() -> [(String, String)] {
        let sums = self.sums()
        var fields: [(String, String)] = []
        for row in 0..<self.rows {
            let base = row * CommandStatistics.countersPerRow
            let calls = sums[base]
            let nanoseconds = sums[base + 1]
            let rejected = sums[base + 2]
            let failed = sums[base + 3]
            guard calls > 0 || rejected > 0 || failed > 0 else { continue }
            let perCall = calls == 0 ? 0 : Double(nanoseconds) / 1000 / Double(calls)
            fields.append(
                (
                    "cmdstat_\(self.names[row])",
                    "calls=\(calls),usec=\(nanoseconds / 1000),usec_per_call=\(InfoText.fixed(perCall)),"
                        + "rejected_calls=\(rejected),failed_calls=\(failed)"
                )
            )
        }
        return fields.sorted { $0.0 < $1.0 }
    }

    /// INFO errorstats: `errorstat_<CODE>:count=N`, by code.
    package func errorStatsFields() -> [(String, String)] {
        var counts: [String: UInt64] = [:]
        for loop in self.loops {
            loop.errorCodes.withLock { codes in
                for (code, count) in codes { counts[code, default: 0] += count }
            }
        }
        return counts.sorted { $0.key < $1.key }.map { ("errorstat_\($0.key)", "count=\($0.value)") }
    }

    // MARK: Instantaneous metrics

    /// Redis's `inst_metric`: for each metric, the rate over each of the last 16 periods.
    private struct Sampler {
        static let samples = 16
        var lastMilliseconds: Int64 = 0
        /// Commands, input bytes, output bytes and engine aborts at the last sample.
        var lastCounts: [UInt64] = [0, 0, 0, 0]
        /// Per metric, per second, one per period.
        var rates: [[Double]] = Array(repeating: Array(repeating: 0, count: Sampler.samples), count: 4)
        var index = 0
    }

    /// Takes one sample of the commands, network bytes and the engine's aborts (every 100 ms, from one loop's
    /// timer).
    package func sample(nowMilliseconds: Int64, engineAborts: UInt64 = 0) {
        let sums = self.rawSums()
        let counts = [
            self.commands(in: sums), self.total(.netInputBytes, in: sums), self.total(.netOutputBytes, in: sums),
            engineAborts,
        ]
        self.sampler.withLock { sampler in
            let elapsed = nowMilliseconds - sampler.lastMilliseconds
            if sampler.lastMilliseconds > 0 && elapsed > 0 {
                for metric in 0..<counts.count {
                    let delta = counts[metric] &- sampler.lastCounts[metric]
                    sampler.rates[metric][sampler.index] = Double(delta) * 1000 / Double(elapsed)
                }
                sampler.index = (sampler.index + 1) % Sampler.samples
            }
            sampler.lastMilliseconds = nowMilliseconds
            sampler.lastCounts = counts
        }
    }

    /// instantaneous_ops_per_sec, instantaneous_input_kbps and instantaneous_output_kbps.
    package func instantaneous() -> (opsPerSecond: Int, inputKbps: Double, outputKbps: Double) {
        self.sampler.withLock { sampler in
            func average(_ metric: Int) -> Double {
                sampler.rates[metric].reduce(0, +) / Double(Sampler.samples)
            }
            return (Int(average(0)), average(1) / 1024, average(2) / 1024)
        }
    }

    /// The engine's conflicts (aborted attempts) per second, averaged like Redis's instantaneous metrics.
    package func instantaneousAbortsPerSecond() -> Double {
        self.sampler.withLock { sampler in sampler.rates[3].reduce(0, +) / Double(Sampler.samples) }
    }

    // MARK: Reset

    /// CONFIG RESETSTAT's part: commandstats, errorstats and the stats counters start again from zero (Redis's
    /// resetCommandTableStats, resetErrorTableStats and resetServerStats). The slow log and the memory peak stay.
    package func reset() {
        let raw = self.rawSums()
        self.baseline.withLock { $0 = raw }
        for loop in self.loops {
            loop.errorCodes.withLock { $0.removeAll() }
        }
        self.expiredKeys.store(0, ordering: .relaxed)
        self.connectionsReceived.store(0, ordering: .relaxed)
        self.rejectedConnections.store(0, ordering: .relaxed)
        self.sampler.withLock { sampler in
            let last = sampler.lastMilliseconds
            // The engine's abort counter is not reset: keep its last sample, so the next rate stays a rate.
            let aborts = sampler.lastCounts[3]
            sampler = Sampler()
            sampler.lastMilliseconds = last
            sampler.lastCounts = [
                self.commands(in: raw), self.total(.netInputBytes, in: raw), self.total(.netOutputBytes, in: raw),
                aborts,
            ]
        }
    }
}
