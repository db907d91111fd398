import Histogram
import NIOCore

/// What every load connection of a run shares: the workload, the key draw and the values to write. Immutable.
struct LoadPlan: Sendable {
    let workload: Options.Workload
    let chooser: KeyChooser
    /// Operations written at once by each connection (a batch); the next batch goes when all its replies are in.
    let pipeline: Int
    /// Transfers move 1...maxAmount.
    let maxAmount: Int
    /// The value size of `mixed`; GET replies of another size are errors.
    let valueSize: Int
    /// Random printable bytes; a SET writes `valueSize` of them from a random offset.
    let values: ByteBuffer
    /// The slack of `values` beyond one value: the number of distinct offsets.
    static let valueOffsets = 4096

    /// - Parameters:
    ///   - options: the run's options.
    ///   - chooser: the key draw (accounts, keys or hot keys, as the workload needs).
    init(options: Options, chooser: KeyChooser) {
        self.workload = options.workload
        self.chooser = chooser
        self.pipeline = options.pipeline
        self.maxAmount = options.maxAmount
        self.valueSize = options.valueSize
        var random = SplitMix64(state: options.seed ^ 0xA5A5_A5A5_A5A5_A5A5)
        self.values = Self.randomValue(length: options.valueSize + Self.valueOffsets, random: &random)
    }

    /// `length` random letters and digits, so that no server can compress or share them.
    static func randomValue(length: Int, random: inout SplitMix64) -> ByteBuffer {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(length)
        for _ in 0..<length {
            buffer.writeInteger(alphabet[random.below(alphabet.count)])
        }
        return buffer
    }

    /// A fresh histogram for latencies in nanoseconds, up to 100 s, three significant digits.
    static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(
            lowestDiscernibleValue: 1,
            highestTrackableValue: 100_000_000_000,
            numberOfSignificantValueDigits: .three
        )
    }
}

/// What one load connection measured. Summed over connections by `merge`.
struct ConnectionResult: Sendable {
    /// Latencies in nanoseconds of every completed operation (committed transfers only, for transfer-watch).
    var histogram = LoadPlan.makeHistogram()
    /// Operations completed within the measured window: the throughput's numerator.
    var ops = 0
    /// Operations completed at all (the window's ones and those in flight at its end).
    var completed = 0
    /// transfer-watch: EXECs that a WATCH aborted (nil replies), each retried.
    var retries = 0
    /// transfer-watch: transfers not made because the balance was short (UNWATCH instead).
    var declined = 0
    /// Operations with an error reply or an unexpected reply.
    var errors = 0
    /// mixed: GETs that found no value (the set-up wrote every key, so there should be none).
    var misses = 0
    /// counter: INCRs the server acknowledged with an integer.
    var increments = 0
    /// The first error seen, for the message.
    var firstError: String? = nil

    /// Adds `other` into this result.
    mutating func merge(_ other: ConnectionResult) {
        self.histogram.add(other.histogram)
        self.ops += other.ops
        self.completed += other.completed
        self.retries += other.retries
        self.declined += other.declined
        self.errors += other.errors
        self.misses += other.misses
        self.increments += other.increments
        if self.firstError == nil { self.firstError = other.firstError }
    }
}
