// weft-bench: a load generator for Weft and Redis. `bench/load/tx.sh` runs it against both servers.
//
// Workloads (`--workload`), each over `--connections` connections spread over one event loop per core:
//   transfer        MULTI / DECRBY acct:a x / INCRBY acct:b x / EXEC between two different accounts
//   transfer-watch  WATCH acct:a acct:b, GET acct:a, then that transaction if the balance covers x, else UNWATCH;
//                   a nil EXEC (the WATCH fired) is retried until it commits
//   mixed           90% GET / 10% SET of --value-size bytes over --keys keys
//   counter         INCR on --hot-keys keys
//   fill            only the set-up of mixed: --keys keys of --value-size bytes
// Accounts and keys are drawn uniformly or by Zipf (`--dist`, `--zipf`). The transfer workloads first set every
// account to 1000 with MSET and check the sum, and at the end check that the sum has not changed (and, with WATCH,
// that no balance went negative); counter checks that the counters grew by the number of acknowledged INCRs.
//
// It prints one line per figure, `name value unit`, names starting with `--prefix`:
//   PREFIX ops/s                  operations completed in the window / its length (a transfer is one operation;
//                                 transfer-watch counts committed transfers only)
//   PREFIX.p50|p99|p999|max us    latency of an operation (a transfer-watch's from its first WATCH to its commit)
//   PREFIX.retries count          client-visible retries: EXECs that answered nil
//   PREFIX.errors count           operations with an error reply or an unexpected reply
// then `invariant ok: ...`. A failed check, an error or a lost connection prints `FAILED: ...` and exits 1.
import Foundation
import Histogram
import NIOCore
import NIOPosix

let options = Options(arguments: CommandLine.arguments)
let prefix = options.figurePrefix

/// Prints one figure line.
func report(_ name: String, _ value: Double, _ unit: String, decimals: Int = 0) {
    print("\(name) \(String(format: "%.\(decimals)f", value)) \(unit)")
}

/// Prints `FAILED: message` on both streams and exits 1.
func fail(_ message: String) -> Never {
    print("FAILED: \(message)")
    fflush(nil)
    FileHandle.standardError.write(Data("weft-bench: FAILED: \(message)\n".utf8))
    exit(1)
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: options.eventLoops)
let keyCount: Int
switch options.workload {
case .transfer, .transferWatch: keyCount = options.accounts
case .mixed, .fill: keyCount = options.keys
case .counter: keyCount = options.hotKeys
}
let plan = LoadPlan(
    options: options,
    chooser: KeyChooser(count: keyCount, distribution: options.distribution, exponent: options.zipfExponent)
)

let client: SyncClient
do {
    client = try SyncClient(options: options, loop: group.next())
} catch {
    fail("cannot connect to \(options.host):\(options.port): \(error)")
}

// MARK: Set-up

/// What the checks at the end compare with: the accounts' sum, or the counters' sum before the run.
var expectedSum = 0
do {
    switch options.workload {
    case .transfer, .transferWatch:
        if !options.skipSetup {
            try Setup.writeIntegers(client, prefix: "acct:", count: options.accounts, value: options.initialBalance)
        }
        let start = try Setup.sumIntegers(client, prefix: "acct:", count: options.accounts)
        expectedSum = options.skipSetup ? start.sum : options.accounts * options.initialBalance
        guard start.missing == 0 && start.sum == expectedSum else {
            fail("after the set-up the accounts sum to \(start.sum) (\(start.missing) missing), not \(expectedSum)")
        }
    case .counter:
        if !options.skipSetup {
            try Setup.writeIntegers(client, prefix: "counter:", count: options.hotKeys, value: 0)
        }
        let start = try Setup.sumIntegers(client, prefix: "counter:", count: options.hotKeys)
        guard start.missing == 0 else { fail("\(start.missing) counters are missing after the set-up") }
        expectedSum = start.sum
    case .mixed:
        if !options.skipSetup {
            try Setup.fillKeys(client, count: options.keys, plan: plan, seed: options.seed)
        }
    case .fill:
        let began = LoadConnection.now()
        try Setup.fillKeys(client, count: options.keys, plan: plan, seed: options.seed)
        let seconds = Double(LoadConnection.now() - began) / 1e9
        report("\(prefix).keys", Double(options.keys), "keys")
        report("\(prefix).seconds", seconds, "s", decimals: 3)
        report("\(prefix).rate", Double(options.keys) / max(seconds, 1e-9), "keys/s")
    }
} catch {
    fail("set-up: \(error)")
}

// MARK: Load

var total = ConnectionResult()
if options.duration > 0 && options.workload != .fill {
    var connections: [(handler: LoadConnection, loop: any EventLoop)] = []
    var results: [EventLoopFuture<ConnectionResult>] = []
    for index in 0..<options.connections {
        let loop = group.next()
        let promise = loop.makePromise(of: ConnectionResult.self)
        let seed = options.seed &* 0x9E37_79B9 &+ UInt64(index) &+ 1
        let handler = LoadConnection(plan: plan, seed: seed, promise: promise)
        do {
            _ = try connect(to: options, on: loop, handler: handler)
        } catch {
            fail("cannot open load connection \(index + 1) of \(options.connections): \(error)")
        }
        connections.append((handler, loop))
        results.append(promise.futureResult)
    }
    let windowStart = LoadConnection.now()
    let windowEnd = windowStart + UInt64(options.duration * 1e9)
    for (handler, loop) in connections {
        loop.execute { handler.start(windowEnd: windowEnd) }
    }
    for result in results {
        do {
            total.merge(try result.wait())
        } catch {
            fail("\(error)")
        }
    }
    let histogram = total.histogram
    /// Nanoseconds at a percentile, in microseconds.
    func micros(_ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1000 }
    report(prefix, Double(total.ops) / options.duration, "ops/s")
    report("\(prefix).p50", micros(50), "us", decimals: 1)
    report("\(prefix).p99", micros(99), "us", decimals: 1)
    report("\(prefix).p999", micros(99.9), "us", decimals: 1)
    report("\(prefix).max", Double(histogram.max) / 1000, "us", decimals: 1)
    report("\(prefix).retries", Double(total.retries), "count")
    report("\(prefix).errors", Double(total.errors), "count")
    switch options.workload {
    case .transferWatch:
        let committed = max(Double(histogram.totalCount), 1)
        report("\(prefix).retries_per_op", Double(total.retries) / committed, "ratio", decimals: 4)
        report("\(prefix).declined", Double(total.declined), "count")
    case .mixed:
        report("\(prefix).misses", Double(total.misses), "count")
    case .transfer, .counter, .fill:
        break
    }
}

// MARK: Checks

do {
    switch options.workload {
    case .transfer, .transferWatch:
        let end = try Setup.sumIntegers(client, prefix: "acct:", count: options.accounts)
        guard end.missing == 0 && end.sum == expectedSum else {
            fail(
                "invariant: the \(options.accounts) accounts sum to \(end.sum) (\(end.missing) missing), "
                    + "not \(expectedSum)"
            )
        }
        if options.workload == .transferWatch && end.negative > 0 {
            fail("invariant: \(end.negative) balances are negative, although every transfer checked its balance")
        }
        print("invariant ok: \(options.accounts) accounts sum to \(end.sum)")
    case .counter:
        let end = try Setup.sumIntegers(client, prefix: "counter:", count: options.hotKeys)
        guard end.missing == 0 && end.sum == expectedSum + total.increments else {
            fail(
                "invariant: the counters grew by \(end.sum - expectedSum), but \(total.increments) INCRs were "
                    + "acknowledged"
            )
        }
        print("invariant ok: the counters grew by the \(total.increments) acknowledged INCRs")
    case .mixed, .fill:
        break
    }
} catch {
    fail("checks: \(error)")
}
if total.errors > 0 {
    fail("\(total.errors) operations failed; the first: \(total.firstError ?? "?")")
}
client.close()
try? group.syncShutdownGracefully()
