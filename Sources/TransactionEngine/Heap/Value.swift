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

/// The header of a value in raw memory; the payload follows it.
package struct _ValueHeader {
    package var kind: ValueKind
    package var encoding: StringEncoding
    /// Payload length in bytes (Redis caps a string at 512 MB).
    package var count: UInt32
}

/// An immutable value: a handle to raw memory that is never written after it is published.
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
        header.initialize(to: _ValueHeader(kind: .string, encoding: encoding, count: UInt32(count)))
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

    /// Frees the value. Called by reclamation, or by the transaction that made it if it was never published.
    package func deallocate() {
        UnsafeMutableRawPointer(self.pointer).deallocate()
    }

    @inline(__always) package var kind: ValueKind { self.pointer.pointee.kind }

    /// How the string was made (see ``StringEncoding``).
    @inline(__always) package var encoding: StringEncoding { self.pointer.pointee.encoding }

    /// The payload length in bytes.
    @inline(__always) package var count: Int { Int(self.pointer.pointee.count) }

    /// Bytes this value occupies on the heap (header and payload).
    @inline(__always) package var allocatedBytes: Int { Value.allocationSize(count: self.count) }

    /// The payload; valid while the value is (that is, while the reading worker stays pinned).
    @inline(__always) package var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(
            start: UnsafeRawPointer(self.pointer) + MemoryLayout<_ValueHeader>.stride,
            count: Int(self.pointer.pointee.count)
        )
    }

    /// A copy of the payload (for tests and tools; the hot path reads `bytes`).
    package var byteArray: [UInt8] { Array(self.bytes) }

    /// True when the payload equals `other` byte for byte.
    package func bytesEqual(_ other: UnsafeRawBufferPointer) -> Bool {
        let mine = self.bytes
        guard mine.count == other.count else { return false }
        if mine.count == 0 { return true }
        return memcmp(mine.baseAddress!, other.baseAddress!, mine.count) == 0
    }
}
