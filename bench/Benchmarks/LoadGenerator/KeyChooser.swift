import Foundation

/// SplitMix64: a small, fast, seedable generator; each connection has its own, so runs repeat for a given seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A double in [0, 1).
    mutating func unit() -> Double {
        Double(self.next() >> 11) / Double(UInt64(1) << 53)
    }

    /// An integer in 0..<bound.
    mutating func below(_ bound: Int) -> Int {
        Int(self.next() % UInt64(bound))
    }
}

/// Draws key indices in 0..<count, uniformly or by Zipf(s).
///
/// Zipf draws invert a cumulative table built once (count doubles, shared read-only by every connection), then
/// scatter the rank over the key space with a multiplicative permutation, so that the hottest keys are not
/// neighbours (`acct:0`, `acct:1`, ...) by construction.
final class KeyChooser: Sendable {
    let count: Int
    /// The cumulative, normalised Zipf weights; empty for a uniform draw.
    private let cumulative: [Double]
    /// A multiplier coprime to `count`, for the scatter.
    private let scatter: Int

    /// - Parameters:
    ///   - count: the number of keys.
    ///   - distribution: uniform or Zipf.
    ///   - exponent: Zipf's s (0.99 is YCSB's).
    /// - Complexity: O(count) for Zipf, O(1) for uniform.
    init(count: Int, distribution: Options.Distribution, exponent: Double) {
        self.count = count
        switch distribution {
        case .uniform:
            self.cumulative = []
        case .zipf:
            var table = [Double](repeating: 0, count: count)
            var total = 0.0
            for rank in 0..<count {
                total += 1.0 / pow(Double(rank + 1), exponent)
                table[rank] = total
            }
            for rank in 0..<count { table[rank] /= total }
            self.cumulative = table
        }
        var multiplier = 2_654_435_761 % max(count, 1)
        while count > 1 && Self.gcd(multiplier, count) != 1 { multiplier += 1 }
        self.scatter = max(multiplier, 1)
    }

    /// The probability that one draw picks the hottest key (1/count for a uniform draw).
    var hottestShare: Double {
        self.cumulative.first ?? 1.0 / Double(self.count)
    }

    /// One key index.
    func next(_ random: inout SplitMix64) -> Int {
        if self.cumulative.isEmpty { return random.below(self.count) }
        let u = random.unit()
        var low = 0
        var high = self.count - 1
        while low < high {
            let middle = (low + high) / 2
            if self.cumulative[middle] < u { low = middle + 1 } else { high = middle }
        }
        return (low * self.scatter) % self.count
    }

    /// Two different key indices (needs count >= 2).
    func pair(_ random: inout SplitMix64) -> (Int, Int) {
        let first = self.next(&random)
        var second = self.next(&random)
        while second == first { second = self.next(&random) }
        return (first, second)
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int {
        b == 0 ? a : Self.gcd(b, a % b)
    }
}
