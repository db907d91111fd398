import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The header of a chunk in raw memory; `StringChunks.size` bytes follow it.
package struct _ChunkHeader: ~Copyable {
    /// How many segments point at this chunk.
    package let references: Atomic<Int>
}

/// The header of a segment in raw memory; `StringChunks.segmentChunks` chunk pointers follow it.
package struct _SegmentHeader: ~Copyable {
    /// How many values' tables point at this segment.
    package let references: Atomic<Int>
}

/// Chunked strings: how APPEND, SETRANGE, SETBIT and BITFIELD change a large string without copying all of it.
///
/// A value is immutable once published, so a write makes a new value. For a flat string that costs a copy of the
/// whole string per write, which Redis (changing its string in place) does not pay: 20,000 APPENDs of 100 bytes
/// would copy 20 GB. A chunked value holds fixed-size chunks instead, in two levels: the value's table points at
/// segments of `segmentChunks` chunk pointers each. A write makes a new table, a new segment for each segment
/// whose chunks it changes (or whose chunk count it changes), and a new chunk for each chunk it changes; it shares
/// every other segment, and in its new segments every other chunk, with the value it replaces. A segment counts
/// the tables that point at it, a chunk the segments. So a write to a string of n chunks touches about n / 32 + 32
/// counts, not n: each count is a cache line that the writer's core takes from the core that last wrote it (the
/// previous writer, or reclamation freeing the old version), and on many cores one count per chunk made a write
/// to a 20 MB string take a cache miss per 16 KiB. Only writers and reclamation touch the counts, never readers: a
/// reader pinned in its epoch keeps the old value, and so its segments and chunks, alive.
///
/// A chunk or segment is never written once a published value reaches it. A write that changes bytes in a chunk,
/// or grows the last (partial) chunk, gets a fresh copy of that chunk and of its segment.
package enum StringChunks {
    /// Bytes of string in one chunk.
    package static let size = 16 * 1024

    /// A write that leaves a string at least this long makes it chunked; shorter ones stay flat.
    package static let threshold = 64 * 1024

    /// Bytes one chunk allocation takes (its header and its bytes).
    package static let allocationSize = MemoryLayout<_ChunkHeader>.stride + size

    /// Chunk pointers in one segment: about the square root of the chunk count of a string of a few MB, which
    /// keeps both a write's shared segments and its new segment's shared chunks few.
    package static let segmentChunks = 32

    /// Bytes one segment allocation takes (its header and its chunk pointers).
    package static let segmentAllocationSize =
        MemoryLayout<_SegmentHeader>.stride + segmentChunks * MemoryLayout<UnsafeMutableRawPointer>.stride

    /// Chunks holding a string of `count` bytes.
    @inline(__always) package static func chunkCount(_ count: Int) -> Int {
        (count + size - 1) / size
    }

    /// Segments holding `chunks` chunks.
    @inline(__always) package static func segmentCount(chunks: Int) -> Int {
        (chunks + segmentChunks - 1) / segmentChunks
    }

    /// Chunks in segment `segment` of a string of `chunks` chunks.
    @inline(__always) static func chunks(inSegment segment: Int, of chunks: Int) -> Int {
        min(segmentChunks, chunks - segment * segmentChunks)
    }

    /// The value's table: one pointer per segment, after the value's header.
    @inline(__always) static func table(_ value: Value) -> UnsafeMutablePointer<UnsafeMutableRawPointer> {
        (UnsafeMutableRawPointer(value.pointer) + MemoryLayout<_ValueHeader>.stride)
            .assumingMemoryBound(to: UnsafeMutableRawPointer.self)
    }

    /// A segment's chunk pointers, after its header.
    @inline(__always) static func slots(_ segment: UnsafeMutableRawPointer) -> UnsafeMutablePointer<
        UnsafeMutableRawPointer
    > {
        (segment + MemoryLayout<_SegmentHeader>.stride).assumingMemoryBound(to: UnsafeMutableRawPointer.self)
    }

    /// Chunk `index` of a chunked value.
    @inline(__always) static func chunk(_ value: Value, _ index: Int) -> UnsafeMutableRawPointer {
        slots(table(value)[index / segmentChunks])[index % segmentChunks]
    }

    /// The bytes of chunk `index` of a chunked value (the last one may be partly past the string's end).
    @inline(__always) static func data(_ value: Value, _ index: Int) -> UnsafeMutableRawPointer {
        chunk(value, index) + MemoryLayout<_ChunkHeader>.stride
    }

    @inline(__always) static func header(_ chunk: UnsafeMutableRawPointer) -> UnsafeMutablePointer<_ChunkHeader> {
        chunk.assumingMemoryBound(to: _ChunkHeader.self)
    }

    @inline(__always) static func segmentHeader(
        _ segment: UnsafeMutableRawPointer
    ) -> UnsafeMutablePointer<_SegmentHeader> {
        segment.assumingMemoryBound(to: _SegmentHeader.self)
    }

    static func allocateChunk() -> UnsafeMutableRawPointer {
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: allocationSize, alignment: 16)
        chunk.bindMemory(to: _ChunkHeader.self, capacity: 1).initialize(to: _ChunkHeader(references: Atomic(1)))
        return chunk
    }

    static func allocateSegment() -> UnsafeMutableRawPointer {
        let segment = UnsafeMutableRawPointer.allocate(byteCount: segmentAllocationSize, alignment: 16)
        segment.bindMemory(to: _SegmentHeader.self, capacity: 1).initialize(
            to: _SegmentHeader(references: Atomic(1))
        )
        return segment
    }

    /// Drops the value's reference to each of its segments; a segment no other value holds drops its reference
    /// to each of its chunks, and chunks no other segment holds are freed with it.
    ///
    /// - Returns: the bytes freed (the table, the segments and the chunks).
    static func release(_ value: Value) -> Int {
        let chunks = chunkCount(value.count)
        let segments = segmentCount(chunks: chunks)
        let table = StringChunks.table(value)
        var freed = segments * MemoryLayout<UnsafeMutableRawPointer>.stride
        for segmentIndex in 0..<segments {
            let segment = table[segmentIndex]
            guard
                segmentHeader(segment).pointee.references.subtract(1, ordering: .acquiringAndReleasing).newValue
                    == 0
            else { continue }
            let slots = StringChunks.slots(segment)
            for slot in 0..<StringChunks.chunks(inSegment: segmentIndex, of: chunks) {
                let chunk = slots[slot]
                if header(chunk).pointee.references.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                    _ = header(chunk).move()
                    chunk.deallocate()
                    freed += allocationSize
                }
            }
            _ = segmentHeader(segment).move()
            segment.deallocate()
            freed += segmentAllocationSize
        }
        return freed
    }
}

extension Value {
    // MARK: Reading either layout

    /// Calls `body` with the whole string in contiguous memory: in place for a flat value, in a temporary copy for
    /// a chunked one (O(n), as the reads that need all of it are).
    package func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        guard self.isChunked else { return try body(self.bytes) }
        return try self.withBytes(in: 0..<self.count, body)
    }

    /// Calls `body` with bytes `range` (within the string) in contiguous memory: in place when they lie in one
    /// chunk (or the value is flat), else in a temporary copy of the range.
    package func withBytes<R, E: Error>(
        in range: Range<Int>,
        _ body: (UnsafeRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        precondition(range.lowerBound >= 0 && range.upperBound <= self.count, "range outside the string")
        guard self.isChunked else { return try body(UnsafeRawBufferPointer(rebasing: self.bytes[range])) }
        if range.isEmpty { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        let first = range.lowerBound / StringChunks.size
        if (range.upperBound - 1) / StringChunks.size == first {
            let start = StringChunks.data(self, first) + (range.lowerBound - first * StringChunks.size)
            return try body(UnsafeRawBufferPointer(start: start, count: range.count))
        }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: range.count, alignment: 16)
        defer { copy.deallocate() }
        self.copyBytes(range, to: copy)
        return try body(UnsafeRawBufferPointer(start: copy, count: range.count))
    }

    /// Calls `body` with bytes `range` (within the string) as contiguous pieces, in order, without copying.
    package func forEachSpan(in range: Range<Int>, _ body: (UnsafeRawBufferPointer) -> Void) {
        precondition(range.lowerBound >= 0 && range.upperBound <= self.count, "range outside the string")
        guard !range.isEmpty else { return }
        guard self.isChunked else {
            body(UnsafeRawBufferPointer(rebasing: self.bytes[range]))
            return
        }
        var position = range.lowerBound
        while position < range.upperBound {
            let index = position / StringChunks.size
            let within = position - index * StringChunks.size
            let length = min(StringChunks.size - within, range.upperBound - position)
            body(UnsafeRawBufferPointer(start: StringChunks.data(self, index) + within, count: length))
            position += length
        }
    }

    /// Copies bytes `range` (within the string) to `destination`.
    package func copyBytes(_ range: Range<Int>, to destination: UnsafeMutableRawPointer) {
        var out = destination
        self.forEachSpan(in: range) { span in
            out.copyMemory(from: span.baseAddress!, byteCount: span.count)
            out += span.count
        }
    }

    /// The byte at `index` (within the string).
    @inline(__always) package func byte(at index: Int) -> UInt8 {
        precondition(index >= 0 && index < self.count, "index outside the string")
        guard self.isChunked else { return self.bytes[index] }
        let chunk = index / StringChunks.size
        return StringChunks.data(self, chunk).load(fromByteOffset: index - chunk * StringChunks.size, as: UInt8.self)
    }

    // MARK: Making changed copies

    /// Makes the string that `base` (nil: an empty string) becomes when bytes `changed` are rewritten by `fill`,
    /// `count` bytes long (cut, or grown with zero bytes past `base`'s end), and `fill` gets bytes
    /// `changed` as they are then, to change in place. The result is chunked when `count` reaches
    /// `StringChunks.threshold`, sharing with a chunked `base` every chunk that holds the same bytes.
    ///
    /// - Returns: the value, and the bytes newly allocated for it (shared segments and chunks not counted).
    /// - Complexity: O(`changed` + chunk size + `count` / chunk size) when `base` is chunked (reference counts
    ///   touched: about `count` / (chunk size × `segmentChunks`) + `segmentChunks`); O(`count`) otherwise.
    package static func makeChanged(
        from base: Value?,
        count: Int,
        changed: Range<Int>,
        encoding: StringEncoding,
        _ fill: (UnsafeMutableRawBufferPointer) -> Void
    ) -> (value: Value, allocated: Int) {
        let baseCount = base?.count ?? 0
        precondition(changed.lowerBound >= 0 && changed.upperBound <= count, "bad change")
        if count < StringChunks.threshold {
            let value = Value.makeString(count: count, encoding: encoding) { out in
                let kept = min(baseCount, count)
                if kept > 0 { base!.copyBytes(0..<kept, to: out.baseAddress!) }
                if count > kept {
                    (out.baseAddress! + kept).initializeMemory(as: UInt8.self, repeating: 0, count: count - kept)
                }
                if !changed.isEmpty { fill(UnsafeMutableRawBufferPointer(rebasing: out[changed])) }
            }
            return (value, value.allocatedBytes)
        }
        // The changed bytes, made first in a scratch buffer, then laid into fresh chunks with the rest.
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: changed.count, alignment: 16)
        defer { scratch.deallocate() }
        if !changed.isEmpty {
            let kept = min(max(baseCount - changed.lowerBound, 0), changed.count)
            if kept > 0 { base!.copyBytes(changed.lowerBound..<changed.lowerBound + kept, to: scratch.baseAddress!) }
            if changed.count > kept {
                (scratch.baseAddress! + kept).initializeMemory(
                    as: UInt8.self,
                    repeating: 0,
                    count: changed.count - kept
                )
            }
            fill(scratch)
        }
        let chunks = StringChunks.chunkCount(count)
        let segments = StringChunks.segmentCount(chunks: chunks)
        let tableBytes = segments * MemoryLayout<UnsafeMutableRawPointer>.stride
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: MemoryLayout<_ValueHeader>.stride + tableBytes,
            alignment: 8
        )
        let header = raw.bindMemory(to: _ValueHeader.self, capacity: 1)
        header.initialize(to: _ValueHeader(kind: .string, encoding: encoding, layout: .chunked, count: UInt32(count)))
        let value = Value(pointer: header)
        let table = StringChunks.table(value)
        var allocated = MemoryLayout<_ValueHeader>.stride + tableBytes
        let sharing = base.map { $0.isChunked } ?? false
        let baseChunks = StringChunks.chunkCount(baseCount)
        // Whether chunk `index` of `base` holds exactly the bytes this one's chunk `index` holds, none changed.
        func shared(_ index: Int) -> Bool {
            let start = index * StringChunks.size
            let end = min(start + StringChunks.size, count)
            return sharing && end <= baseCount && min(start + StringChunks.size, baseCount) == end
                && (changed.isEmpty || changed.upperBound <= start || changed.lowerBound >= end)
        }
        for segmentIndex in 0..<segments {
            let first = segmentIndex * StringChunks.segmentChunks
            let inSegment = StringChunks.chunks(inSegment: segmentIndex, of: chunks)
            // A segment of `base` with the same chunks, every one of them shared, is shared whole.
            if sharing, segmentIndex < StringChunks.segmentCount(chunks: baseChunks),
                StringChunks.chunks(inSegment: segmentIndex, of: baseChunks) == inSegment,
                (first..<first + inSegment).allSatisfy(shared)
            {
                let segment = StringChunks.table(base!)[segmentIndex]
                StringChunks.segmentHeader(segment).pointee.references.add(1, ordering: .relaxed)
                table[segmentIndex] = segment
                continue
            }
            let segment = StringChunks.allocateSegment()
            allocated += StringChunks.segmentAllocationSize
            table[segmentIndex] = segment
            let slots = StringChunks.slots(segment)
            for index in first..<first + inSegment {
                if shared(index) {
                    let chunk = StringChunks.chunk(base!, index)
                    StringChunks.header(chunk).pointee.references.add(1, ordering: .relaxed)
                    slots[index - first] = chunk
                    continue
                }
                let start = index * StringChunks.size
                let end = min(start + StringChunks.size, count)
                let chunk = StringChunks.allocateChunk()
                allocated += StringChunks.allocationSize
                slots[index - first] = chunk
                let data = chunk + MemoryLayout<_ChunkHeader>.stride
                // Base bytes, then zeros, then the changed bytes over them.
                let kept = max(min(baseCount, end) - start, 0)
                if kept > 0 { base!.copyBytes(start..<start + kept, to: data) }
                if end - start > kept {
                    (data + kept).initializeMemory(as: UInt8.self, repeating: 0, count: end - start - kept)
                }
                let lower = max(changed.lowerBound, start)
                let overlap = lower..<max(min(changed.upperBound, end), lower)
                if !overlap.isEmpty {
                    (data + (overlap.lowerBound - start)).copyMemory(
                        from: scratch.baseAddress! + (overlap.lowerBound - changed.lowerBound),
                        byteCount: overlap.count
                    )
                }
            }
        }
        return (value, allocated)
    }

    /// A copy of `value` for another key (COPY): flat values are copied, a chunked one shares its chunks.
    ///
    /// - Returns: the copy, and the bytes newly allocated for it.
    package static func makeCopy(of value: Value, encoding: StringEncoding) -> (value: Value, allocated: Int) {
        guard value.isChunked else {
            let copy = Value.makeString(copying: value.bytes, encoding: encoding)
            return (copy, copy.allocatedBytes)
        }
        return Value.makeChanged(from: value, count: value.count, changed: 0..<0, encoding: encoding) { _ in }
    }
}
