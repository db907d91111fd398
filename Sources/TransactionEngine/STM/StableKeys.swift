/// Something whose bytes can be copied out: a key as the caller holds it (an array, a network buffer).
package protocol KeySource {
    /// Calls `body` with the bytes, valid inside it.
    func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: KeySource where Element == UInt8 {
    package func withKeyBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try self.withUnsafeBytes(body)
    }
}

/// Copies `sources` into one allocation and calls `body` with a `KeyBytes` for each, valid until it returns: what a
/// multi-key transaction needs for its declared keys, which must stay put while it runs.
package func withStableKeys<S: Sequence, R>(
    _ sources: S,
    _ body: ([KeyBytes]) throws -> R
) rethrows -> R where S.Element: KeySource {
    let keys = Array(sources)
    let total = keys.reduce(0) { sum, key in sum + key.withKeyBytes { $0.count } }
    let storage = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 8)
    defer { storage.deallocate() }
    var stable: [KeyBytes] = []
    stable.reserveCapacity(keys.count)
    var offset = 0
    for key in keys {
        key.withKeyBytes { bytes in
            if !bytes.isEmpty {
                (storage + offset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            }
            stable.append(KeyBytes(start: storage + offset, count: bytes.count))
            offset += bytes.count
        }
    }
    return try body(stable)
}
