import Foundation

/// What one `weft-bench` run does, from its command line.
///
/// Every option has a default, so that `weft-bench --workload transfer` is a complete run against
/// 127.0.0.1:6379. Unknown options and bad values stop the program with status 2 and a message.
struct Options: Sendable {
    /// The workloads `--workload` names.
    enum Workload: String, Sendable, CaseIterable {
        /// MULTI / DECRBY acct:a x / INCRBY acct:b x / EXEC.
        case transfer
        /// WATCH acct:a acct:b, GET acct:a, then the transfer if the balance covers it (else UNWATCH); a nil EXEC is
        /// retried until it commits.
        case transferWatch = "transfer-watch"
        /// 90% GET / 10% SET over `--keys` keys.
        case mixed
        /// INCR on `--hot-keys` keys.
        case counter
        /// Only the set-up: SETs `--keys` keys of `--value-size` bytes (the memory figure loads this way).
        case fill
    }

    /// How keys and accounts are drawn.
    enum Distribution: String, Sendable {
        case uniform
        case zipf
    }

    var host = "127.0.0.1"
    var port = 6379
    var connections = 50
    var pipeline = 1
    var duration = 5.0
    var workload = Workload.transfer
    var accounts = 10_000
    var distribution = Distribution.uniform
    var zipfExponent = 0.99
    var valueSize = 100
    var keys = 100_000
    var hotKeys = 4
    var seed: UInt64 = 1
    /// Event loops of the client; 0 means one per core.
    var threads = 0
    var prefix: String? = nil
    /// The balance every account starts with.
    var initialBalance = 1000
    /// The largest amount one transfer moves (amounts are drawn from 1...maxAmount).
    var maxAmount = 100
    /// Skips the set-up (the keys are already there); the checks at the end still run.
    var skipSetup = false

    /// The name prefix of the printed figures: `--prefix`, or `bench.<workload>.<distribution>`.
    var figurePrefix: String {
        self.prefix ?? "bench.\(self.workload.rawValue).\(self.distribution.rawValue)"
    }

    /// The number of client event loops.
    var eventLoops: Int {
        self.threads > 0 ? self.threads : ProcessInfo.processInfo.activeProcessorCount
    }

    static let usage = """
        usage: weft-bench [options]
          --host H            server address (127.0.0.1)
          --port P            server port (6379)
          --connections N     connections (50)
          --pipeline P        operations in flight per connection (1; transfer-watch needs 1)
          --duration S        seconds of load (5; 0 runs only the set-up and the checks)
          --workload W        transfer | transfer-watch | mixed | counter | fill (transfer)
          --accounts N        accounts of the transfer workloads (10000)
          --dist D            uniform | zipf (uniform)
          --zipf S            Zipf exponent (0.99)
          --value-size B      bytes per value of mixed and fill (100)
          --keys N            keys of mixed and fill (100000)
          --hot-keys K        keys of counter (4)
          --seed N            random seed (1)
          --threads N         client event loops (one per core)
          --prefix NAME       figure name prefix (bench.<workload>.<dist>)
          --no-setup          the keys are already there: skip the set-up
        """

    /// Parses `arguments` (the program name first).
    init(arguments: [String]) {
        var index = 1
        func fail(_ message: String) -> Never {
            FileHandle.standardError.write(Data("weft-bench: \(message)\n\(Options.usage)\n".utf8))
            exit(2)
        }
        while index < arguments.count {
            let name = arguments[index]
            if name == "--no-setup" {
                self.skipSetup = true
                index += 1
                continue
            }
            if name == "--help" || name == "-h" {
                print(Options.usage)
                exit(0)
            }
            guard index + 1 < arguments.count else { fail("\(name) needs a value") }
            let value = arguments[index + 1]
            func integer(_ range: ClosedRange<Int>) -> Int {
                guard let number = Int(value), range.contains(number) else {
                    fail("\(name) needs an integer in \(range.lowerBound)...\(range.upperBound), not '\(value)'")
                }
                return number
            }
            switch name {
            case "--host": self.host = value
            case "--port": self.port = integer(1...65535)
            case "--connections": self.connections = integer(1...100_000)
            case "--pipeline": self.pipeline = integer(1...100_000)
            case "--duration":
                guard let seconds = Double(value), seconds >= 0 else { fail("bad --duration '\(value)'") }
                self.duration = seconds
            case "--workload":
                guard let workload = Workload(rawValue: value) else { fail("unknown workload '\(value)'") }
                self.workload = workload
            case "--accounts": self.accounts = integer(2...100_000_000)
            case "--dist":
                guard let distribution = Distribution(rawValue: value) else { fail("unknown --dist '\(value)'") }
                self.distribution = distribution
            case "--zipf":
                guard let exponent = Double(value), exponent > 0 else { fail("bad --zipf '\(value)'") }
                self.zipfExponent = exponent
            case "--value-size": self.valueSize = integer(1...64 << 20)
            case "--keys": self.keys = integer(1...100_000_000)
            case "--hot-keys": self.hotKeys = integer(1...100_000_000)
            case "--seed":
                guard let seed = UInt64(value) else { fail("bad --seed '\(value)'") }
                self.seed = seed
            case "--threads": self.threads = integer(0...4096)
            case "--prefix": self.prefix = value
            case "--initial-balance": self.initialBalance = integer(0...1_000_000_000)
            case "--max-amount": self.maxAmount = integer(1...1_000_000_000)
            default: fail("unknown option \(name)")
            }
            index += 2
        }
        if self.workload == .transferWatch && self.pipeline != 1 {
            fail("transfer-watch decides each step on the last reply: it needs --pipeline 1")
        }
    }
}
