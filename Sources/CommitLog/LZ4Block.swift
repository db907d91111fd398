import CLZ4

/// LZ4 block compression (Debian's liblz4), the payload format of log blocks.
package enum LZ4Block {
    /// Why a block could not be compressed or decompressed.
    package enum Failure: Error, Equatable {
        case inputTooLarge(Int)
        case corrupt
        case wrongLength(expected: Int, actual: Int)
    }

    /// Compresses `input` into a new array.
    package static func compress(_ input: UnsafeRawBufferPointer) throws(Failure) -> [UInt8] {
        guard input.count <= Int(LZ4_MAX_INPUT_SIZE) else { throw .inputTooLarge(input.count) }
        let bound = Int(LZ4_compressBound(Int32(input.count)))
        var output = [UInt8](repeating: 0, count: max(bound, 1))
        let written = output.withUnsafeMutableBytes { out -> Int32 in
            guard let source = input.baseAddress else { return 0 }
            return LZ4_compress_default(
                source.assumingMemoryBound(to: CChar.self),
                out.baseAddress!.assumingMemoryBound(to: CChar.self),
                Int32(input.count),
                Int32(out.count)
            )
        }
        output.removeLast(output.count - Int(written))
        return output
    }

    /// Decompresses `input`, which must expand to exactly `originalCount` bytes.
    package static func decompress(_ input: UnsafeRawBufferPointer, originalCount: Int) throws(Failure) -> [UInt8] {
        if originalCount == 0 {
            guard input.count <= 1 else { throw .corrupt }
            return []
        }
        guard originalCount <= Int(LZ4_MAX_INPUT_SIZE), let source = input.baseAddress else { throw .corrupt }
        var output = [UInt8](repeating: 0, count: originalCount)
        let read = output.withUnsafeMutableBytes { out -> Int32 in
            LZ4_decompress_safe(
                source.assumingMemoryBound(to: CChar.self),
                out.baseAddress!.assumingMemoryBound(to: CChar.self),
                Int32(input.count),
                Int32(originalCount)
            )
        }
        guard read >= 0 else { throw .corrupt }
        guard Int(read) == originalCount else { throw .wrongLength(expected: originalCount, actual: Int(read)) }
        return output
    }
}
