#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The kind of a value: what Redis's `TYPE` reports.
///
/// Only strings exist today. Hashes, lists, sets and sorted sets will be further kinds whose payload is a
/// persistent structure owned by the value (released when the value is reclaimed), so the header already carries
/// the kind.
package enum ValueKind: UInt8, Sendable {
    case string = 1
}

/// How a string value was made, which is what Redis's OBJECT ENCODING reports on: Redis keeps a string as an
/// integer, an embedded string or a raw one depending on the command that wrote it, not only on its content.
package enum StringEncoding: UInt8, Sendable {
    /// Chosen from the content, as Redis's `tryObjectEncoding` does after SET and most writes: `int` for an
    /// integer of at most 20 characters, `embstr` up to 44 bytes, else `raw`.
    case fromContent = 0
    /// Built in place (APPEND to an existing string, SETRANGE): always `raw`.
    case raw = 1
    /// Formatted as text (INCRBYFLOAT): `embstr` up to 44 bytes, else `raw`, never `int`.
    case text = 2
    /// Copied from a value made from its content (COPY): the same encoding, but never one of Redis's shared
    /// integer objects (OBJECT REFCOUNT 1).
    case copied = 3
}

/// How a value's bytes lie in memory.
package enum ValueLayout: UInt8, Sendable {
    /// The bytes follow the header in the same allocation.
    case flat = 0
    /// A table of segment pointers follows the header; the segments point at the chunks that hold the bytes (see
    /// `StringChunks`).
    case chunked = 1
}

/// The header of a value in raw memory; the payload (the bytes, or a segment table) follows it.
package struct _ValueHeader {
    package var kind: ValueKind
    package var encoding: StringEncoding
    package var layout: ValueLayout
    /// Length of the string in bytes (Redis caps a string at 512 MB).
    package var count: UInt32
}

/// An immutable value: a handle to raw memory that is never written after it is published.
///
/// Most strings are flat: header and bytes in one allocation. A string that APPEND, SETRANGE, SETBIT or BITFIELD
/// grows past `StringChunks.threshold` is chunked, so that the next such write copies the chunks it changes, their
/// segments and the table, and shares the rest with the version it replaces (see `StringChunks`). Readers go through
/// `withBytes`, `forEachSpan`, `copyBytes` and `byte(at:)`, which take both layouts.
///
/// A `Value` is created by a transaction (`Transaction.makeString`), published by its commit, and reclaimed by
/// epochs once replaced or deleted, so a reader that holds one while its worker is pinned needs no reference count.
/// A value that never got published (its transaction aborted) is freed at once.
package struct Value: Hashable, @unchecked Sendable {
    @usableFromInline package let pointer: UnsafeMutablePointer<_ValueHeader>

    @inline(__always) package init(pointer: UnsafeMutablePointer<_ValueHeader>) {
        self.pointer = pointer
    }

    @inline(__always) package init?(bits: UInt) {
        guard let raw = UnsafeMutableRawPointer(bitPattern: bits) else { return nil }
        self.pointer = raw.assumingMemoryBound(to: _ValueHeader.self)
    }

    @inline(__always) package var bits: UInt { UInt(bitPattern: self.pointer) }

    /// Bytes allocated for a string value of `count` bytes.
    @inline(__always) package static func allocationSize(count: Int) -> Int {
        MemoryLayout<_ValueHeader>.stride + count
    }

    /// Allocates an uninitialised string value of `count` bytes and lets `fill` write its payload.
    package static func makeString(
        count: Int,
        encoding: StringEncoding = .fromContent,
        _ fill: (UnsafeMutableRawBufferPointer) throws -> Void
    ) rethrows -> Value {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: Value.allocationSize(count: count), alignment: 8)
        let header = raw.bindMemory(to: _ValueHeader.self, capacity: 1)
        precondition(count <= Int(UInt32.max), "value too large")
        header.initialize(to: _ValueHeader(kind: .string, encoding: encoding, layout: .flat, count: UInt32(count)))
        let payload = UnsafeMutableRawBufferPointer(start: raw + MemoryLayout<_ValueHeader>.stride, count: count)
        do {
            try fill(payload)
        } catch {
            raw.deallocate()
            throw error
        }
        return Value(pointer: header)
    }

    /// Allocates a string value holding a copy of `bytes`.
    package static func makeString(
        copying bytes: UnsafeRawBufferPointer,
        encoding: StringEncoding = .fromContent
    ) -> Value {
        Value.makeString(count: bytes.count, encoding: encoding) { payload in
            if bytes.count > 0 {
                payload.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            }
        }
    }

    /// Frees the value, and the segments and chunks no other value shares. Called by reclamation, or by the transaction that
    /// made it if it was never published.
    ///
    /// - Returns: the bytes freed, for memory accounting.
    @discardableResult
    package func deallocate() -> Int {
        var freed = MemoryLayout<_ValueHeader>.stride
        if self.isChunked {
            freed += StringChunks.release(self)
        } else {
            freed += self.count
        }
        UnsafeMutableRawPointer(self.pointer).deallocate()
        return freed
    }

    @inline(__always) package var kind: ValueKind { self.pointer.pointee.kind }

    /// How the string was made (see ``StringEncoding``).
    @inline(__always) package var encoding: StringEncoding { self.pointer.pointee.encoding }

    /// The payload length in bytes.
    @inline(__always) package var count: Int { Int(self.pointer.pointee.count) }

    /// True when the bytes are in chunks (see `StringChunks`).
    @inline(__always) package var isChunked: Bool { self.pointer.pointee.layout == .chunked }

    /// Bytes this value occupies on the heap (header and payload, and every segment and chunk, shared or not):
    /// what MEMORY USAGE reports.
    package var allocatedBytes: Int {
        guard self.isChunked else { return Value.allocationSize(count: self.count) }
        let chunks = StringChunks.chunkCount(self.count)
        let segments = StringChunks.segmentCount(chunks: chunks)
        let perSegment = MemoryLayout<UnsafeMutableRawPointer>.stride + StringChunks.segmentAllocationSize
        return MemoryLayout<_ValueHeader>.stride + segments * perSegment + chunks * StringChunks.allocationSize
    }

    /// The bytes of a flat value; valid while the value is (that is, while the reading worker stays pinned).
    /// Only the engine reads them directly; everyone else goes through `withBytes` and its kin.
    @inline(__always) var bytes: UnsafeRawBufferPointer {
        assert(!self.isChunked, "a chunked value has no flat bytes")
        return UnsafeRawBufferPointer(
            start: UnsafeRawPointer(self.pointer) + MemoryLayout<_ValueHeader>.stride,
            count: Int(self.pointer.pointee.count)
        )
    }

    /// The bytes of a flat value in place, nil for a chunked one: the fast path of readers that take either.
    @inline(__always) package var flatBytes: UnsafeRawBufferPointer? {
        self.isChunked ? nil : self.bytes
    }

    /// A copy of the string (for tests and tools; the hot path reads `withBytes`).
    package var byteArray: [UInt8] { self.withBytes { Array($0) } }
}
