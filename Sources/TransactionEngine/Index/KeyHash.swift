/// The 64-bit hash of a key: a folded-multiply hash in the style of wyhash, seeded per engine.
///
/// The top 8 bits choose the shard, the next 16 are the tag stored beside each slot, the low bits choose the slot.
package enum KeyHash {
    @usableFromInline static let p0: UInt64 = 0xa076_1d64_78bd_642f
    @usableFromInline static let p1: UInt64 = 0xe703_7ed1_a0b4_28db
    @usableFromInline static let p2: UInt64 = 0x8ebc_6af0_9c88_c6e3

    @inline(__always) @usableFromInline static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    @inline(__always) @usableFromInline static func load64(_ p: UnsafeRawPointer) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
    }

    @inline(__always) @usableFromInline static func load32(_ p: UnsafeRawPointer) -> UInt64 {
        UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
    }

    /// Hashes `key` with `seed`.
    ///
    /// - Complexity: O(n) in the key's length.
    @inline(__always) package static func hash(_ key: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let count = key.count
        var h = seed ^ KeyHash.p0
        guard let base = key.baseAddress, count > 0 else {
            return KeyHash.mix(h ^ KeyHash.p1, KeyHash.p2)
        }
        var a: UInt64
        var b: UInt64
        if count <= 16 {
            if count >= 4 {
                let last = count - 4
                let mid = (count >> 3) << 2
                a = (KeyHash.load32(base) << 32) | KeyHash.load32(base + mid)
                b = (KeyHash.load32(base + last) << 32) | KeyHash.load32(base + last - mid)
            } else {
                let p = base.assumingMemoryBound(to: UInt8.self)
                a = (UInt64(p[0]) << 16) | (UInt64(p[count >> 1]) << 8) | UInt64(p[count - 1])
                b = 0
            }
        } else {
            var offset = 0
            var remaining = count
            while remaining > 16 {
                h = KeyHash.mix(
                    KeyHash.load64(base + offset) ^ KeyHash.p1,
                    KeyHash.load64(base + offset + 8) ^ h
                )
                offset += 16
                remaining -= 16
            }
            a = KeyHash.load64(base + count - 16)
            b = KeyHash.load64(base + count - 8)
        }
        return KeyHash.mix(KeyHash.p1 ^ UInt64(count), KeyHash.mix(a ^ KeyHash.p1, b ^ h))
    }
}
