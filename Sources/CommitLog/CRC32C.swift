/// CRC-32C (Castagnoli), the checksum of every log block header and payload.
///
/// Table-driven, slicing by one byte; the log checks blocks far less often than it writes them, and a later issue
/// may swap in the SSE4.2 instruction.
package enum CRC32C {
    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
        }
        return crc
    }

    /// The checksum of `bytes`, continuing from `crc` (0 to start).
    ///
    /// - Complexity: O(n).
    package static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var value = ~crc
        CRC32C.table.withUnsafeBufferPointer { table in
            for byte in bytes {
                value = table[Int((value ^ UInt32(byte)) & 0xff)] ^ (value >> 8)
            }
        }
        return ~value
    }

    /// The checksum of `bytes`.
    package static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { CRC32C.checksum($0) }
    }
}
