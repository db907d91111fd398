import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The header of a chunk in raw memory; `StringChunks.size` bytes follow it.
package struct _ChunkHeader: ~Copyable {
    /// How many values' chunk tables point at this chunk.
    package let references: Atomic<Int>
}

/// Chunked strings: how APPEND, SETRANGE, SETBIT and BITFIELD change a large string without copying all of it.
///
/// A value is immutable once published, so a write makes a new value. For a flat string that costs a copy of the
/// whole string per write, which Redis (changing its string in place) does not pay: 20,000 APPENDs of 100 bytes
/// would copy 20 GB. A chunked value holds a table of pointers to fixed-size chunks instead; a write copies the
/// table and the chunks it changes, and shares the others with the value it replaces, each chunk counting the
/// tables that point at it. Only writers and reclamation touch the counts, never readers: a reader pinned in its
/// epoch keeps the old value, and so its chunks, alive.
///
/// A chunk is never written once a published table points at it. A write that changes bytes in a chunk, or grows
/// the last (partial) chunk, gets a fresh copy of that chunk.
package enum StringChunks {
    /// Bytes of string in one chunk.
    package static let size = 16 * 1024

    /// A write that leaves a string at least this long makes it chunked; shorter ones stay flat.
    package static let threshold = 64 * 1024

    /// Bytes one chunk allocation takes (its header and its bytes).
    package static let allocationSize = MemoryLayout<_ChunkHeader>.stride + size

    /// Chunks holding a string of `count` bytes.
    @inline(__always) package static func chunkCount(_ count: Int) -> Int {
        (count + size - 1) / size
    }

    @inline(__always) static func table(_ value: Value) -> UnsafeMutablePointer<UnsafeMutableRawPointer> {
        (UnsafeMutableRawPointer(value.pointer) + MemoryLayout<_ValueHeader>.stride)
            .assumingMemoryBound(to: UnsafeMutableRawPointer.self)
    }

    /// The bytes of chunk `index` of a chunked value (the last one may be partly past the string's end).
    @inline(__always) static func data(_ value: Value, _ index: Int) -> UnsafeMutableRawPointer {
        StringChunks.table(value)[index] + MemoryLayout<_ChunkHeader>.stride
    }

    @inline(__always) static func header(_ chunk: UnsafeMutableRawPointer) -> UnsafeMutablePointer<_ChunkHeader> {
        chunk.assumingMemoryBound(to: _ChunkHeader.self)
    }

    static func allocateChunk() -> UnsafeMutableRawPointer {
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: allocationSize, alignment: 16)
        chunk.bindMemory(to: _ChunkHeader.self, capacity: 1).initialize(to: _ChunkHeader(references: Atomic(1)))
        return chunk
    }

    /// Drops the value's reference to each of its chunks, freeing those no other value holds.
    ///
    /// - Returns: the bytes freed (the table and the chunks).
    static func release(_ value: Value) -> Int {
        let chunks = chunkCount(value.count)
        let table = StringChunks.table(value)
        var freed = chunks * MemoryLayout<UnsafeMutableRawPointer>.stride
        for index in 0..<chunks {
            let chunk = table[index]
            if header(chunk).pointee.references.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                _ = header(chunk).move()
                chunk.deallocate()
                freed += allocationSize
            }
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
    /// - Returns: the value, and the bytes newly allocated for it (shared chunks not counted).
    /// - Complexity: O(`changed` + chunk size + `count` / chunk size) when `base` is chunked; O(`count`) otherwise.
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
        let tableBytes = chunks * MemoryLayout<UnsafeMutableRawPointer>.stride
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
        for index in 0..<chunks {
            let start = index * StringChunks.size
            let end = min(start + StringChunks.size, count)
            // A chunk of `base` holding exactly these bytes, none of them changed, is shared.
            if sharing, end <= baseCount, min(start + StringChunks.size, baseCount) == end,
                changed.isEmpty || changed.upperBound <= start || changed.lowerBound >= end
            {
                let chunk = StringChunks.table(base!)[index]
                StringChunks.header(chunk).pointee.references.add(1, ordering: .relaxed)
                table[index] = chunk
                continue
            }
            let chunk = StringChunks.allocateChunk()
            allocated += StringChunks.allocationSize
            table[index] = chunk
            let data = chunk + MemoryLayout<_ChunkHeader>.stride
            // Base bytes, then zeros, then the changed bytes over them.
            let kept = max(min(baseCount, end) - start, 0)
            if kept > 0 { base!.copyBytes(start..<start + kept, to: data) }
            if end - start > kept {
                (data + kept).initializeMemory(as: UInt8.self, repeating: 0, count: end - start - kept)
            }
            let overlap =
                max(changed.lowerBound, start)..<max(min(changed.upperBound, end), max(changed.lowerBound, start))
            if !overlap.isEmpty {
                (data + (overlap.lowerBound - start)).copyMemory(
                    from: scratch.baseAddress! + (overlap.lowerBound - changed.lowerBound),
                    byteCount: overlap.count
                )
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
