import Foundation
import Synchronization
import TransactionEngine

/// A clock that tests move by hand, so that expiry is exact and repeatable.
package final class ManualClock: EngineClock, @unchecked Sendable {
    private let milliseconds: Atomic<Int64>

    package init(_ start: Int64 = 1_700_000_000_000) {
        self.milliseconds = Atomic(start)
    }

    package func nowMilliseconds() -> Int64 {
        self.milliseconds.load(ordering: .relaxed)
    }

    package func advance(by delta: Int64) {
        self.milliseconds.add(delta, ordering: .relaxed)
    }
}

/// An engine configuration for tests: fixed hash seed, optional manual clock.
package func testConfiguration(
    clock: (any EngineClock)? = nil,
    optimisticAttempts: Int = 3
) -> TransactionEngine.Configuration {
    var configuration = TransactionEngine.Configuration()
    configuration.hashSeed = 0x5eed
    configuration.optimisticAttempts = optimisticAttempts
    if let clock { configuration.clock = clock }
    return configuration
}

/// Bytes of a string, for keys and values.
package func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Calls `body` with stable raw buffers for `keys`, valid until it returns (what `run(database:keys:)` needs).
package func withKeyBytes<R>(_ keys: [[UInt8]], _ body: ([KeyBytes]) throws -> R) rethrows -> R {
    try withStableKeys(keys, body)
}

extension Transaction {
    /// The key's live value as bytes.
    package func get(_ key: [UInt8]) -> [UInt8]? {
        key.withUnsafeBytes { self.get($0)?.value.byteArray }
    }

    /// The key's live value as a string.
    package func getString(_ key: String) -> String? {
        self.get(bytes(key)).map { String(decoding: $0, as: UTF8.self) }
    }

    package func set(_ key: [UInt8], _ value: [UInt8], expiry: Expiry = .none) {
        key.withUnsafeBytes { k in value.withUnsafeBytes { v in self.setString(k, v, expiry: expiry) } }
    }

    package func set(_ key: String, _ value: String, expiry: Expiry = .none) {
        self.set(bytes(key), bytes(value), expiry: expiry)
    }

    @discardableResult
    package func delete(_ key: [UInt8]) -> Bool {
        key.withUnsafeBytes { self.delete($0) }
    }

    /// Writes `bytes` at `offset` of the key's string (grown with zeros as needed; a missing key is empty) through
    /// `changeString`, keeping its expiry: what SETRANGE and APPEND do. Returns the new length.
    @discardableResult
    package func change(_ key: [UInt8], at offset: Int, _ bytes: [UInt8]) -> Int {
        key.withUnsafeBytes { raw in
            let current = self.get(raw)?.value
            let count = max(current?.count ?? 0, offset + bytes.count)
            self.changeString(
                raw,
                current: current,
                count: count,
                changed: offset..<offset + bytes.count,
                expiry: .keep,
                encoding: .raw
            ) { out in
                bytes.withUnsafeBytes { out.copyMemory(from: $0) }
            }
            return count
        }
    }

    /// Appends `bytes` to the key's string through `changeString`. Returns the new length.
    @discardableResult
    package func append(_ key: [UInt8], _ bytes: [UInt8]) -> Int {
        let length = key.withUnsafeBytes { self.get($0)?.value.count ?? 0 }
        return self.change(key, at: length, bytes)
    }

    package func entry(_ key: [UInt8]) -> (value: [UInt8], expiresAt: Int64)? {
        key.withUnsafeBytes { raw in self.get(raw).map { ($0.value.byteArray, $0.expiresAt) } }
    }
}

extension Worker {
    /// Sets one key in a single-key transaction.
    @discardableResult
    package func set(_ key: [UInt8], _ value: [UInt8], database: Int = 0, expiry: Expiry = .none) -> UInt64? {
        key.withUnsafeBytes { raw in
            self.run(database: database, key: raw) { tx in tx.set(key, value, expiry: expiry) }.tid
        }
    }

    package func set(_ key: String, _ value: String, database: Int = 0, expiry: Expiry = .none) {
        self.set(bytes(key), bytes(value), database: database, expiry: expiry)
    }

    /// Reads one key through the lock-free path.
    package func get(_ key: [UInt8], database: Int = 0) -> [UInt8]? {
        key.withUnsafeBytes { raw in self.get(database: database, key: raw) { $0?.value.byteArray } }
    }

    package func getString(_ key: String, database: Int = 0) -> String? {
        self.get(bytes(key), database: database).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Deletes one key in a single-key transaction.
    @discardableResult
    package func delete(_ key: [UInt8], database: Int = 0) -> Bool {
        key.withUnsafeBytes { raw in self.run(database: database, key: raw) { tx in tx.delete(raw) }.result }
    }

    /// Runs an optimistic transaction over `keys`.
    @discardableResult
    package func run<R>(
        database: Int = 0,
        keys: [[UInt8]],
        mode: TransactionMode = .optimistic,
        _ body: (Transaction) -> R
    ) -> R {
        withKeyBytes(keys) { raw in self.run(database: database, keys: raw, mode: mode, body).result }
    }

    package func watch(_ key: [UInt8], database: Int = 0) -> WatchToken {
        key.withUnsafeBytes { self.watch(database: database, key: $0) }
    }
}

/// A small, fast, seedable random generator (SplitMix64), so that failures reproduce.
package struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init(seed: UInt64) {
        self.state = seed
    }

    package mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Scales an iteration count: `WEFT_SLOW_TESTS=1` runs more, the thread sanitizer (`WEFT_TSAN=1`) runs fewer.
package func scaled(_ count: Int) -> Int {
    let environment = ProcessInfo.processInfo.environment
    if environment["WEFT_SLOW_TESTS"] == "1" { return count * 20 }
    if environment["WEFT_TSAN"] == "1" { return max(1, count / 8) }
    return count
}

/// Scales a time limit as `scaled(_:)` scales an iteration count: 20 times longer under `WEFT_SLOW_TESTS=1` (20 times
/// the iterations), 4 times under the thread sanitizer (`WEFT_TSAN=1`), where every step is several times slower.
package func scaled(_ limit: Duration) -> Duration {
    let environment = ProcessInfo.processInfo.environment
    if environment["WEFT_SLOW_TESTS"] == "1" { return limit * 20 }
    if environment["WEFT_TSAN"] == "1" { return limit * 4 }
    return limit
}
