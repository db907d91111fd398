import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bits of a cell's 64-bit word.
///
/// `lock | absent | waiters | dead | TID(60 bits)`. The TID is the version of the cell: every install changes it.
/// A dead cell has been unlinked from the index; it stays locked forever and anyone who finds it looks the key up
/// again. Readers treat any change of the word as a change of the cell.
package enum CellWord {
    /// Set while a writer owns the cell.
    package static let lockBit: UInt64 = 1 << 63
    /// Set while the key has no value (a deleted key or a placeholder that a transaction inserted).
    package static let absentBit: UInt64 = 1 << 62
    /// Set while a blocked client waits on this cell (used by blocking commands).
    package static let waitersBit: UInt64 = 1 << 61
    /// Set once the cell has been removed from the index; it is never cleared.
    package static let deadBit: UInt64 = 1 << 60
    /// The transaction id of the last install.
    package static let tidMask: UInt64 = (1 << 60) - 1

    @inline(__always) package static func tid(_ word: UInt64) -> UInt64 { word & tidMask }
    @inline(__always) package static func isLocked(_ word: UInt64) -> Bool { word & lockBit != 0 }
    @inline(__always) package static func isAbsent(_ word: UInt64) -> Bool { word & absentBit != 0 }
    @inline(__always) package static func isDead(_ word: UInt64) -> Bool { word & deadBit != 0 }
}

/// The storage of one cell: the transactional variable of one key.
///
/// Cells live in raw memory (`Cell` is the handle) so that reading one costs no reference counting. The key bytes
/// follow the header in the same allocation and never change. `value` and `expiresAt` change only while the lock
/// bit is set, and every change installs a new TID, so a reader that sees the same unlocked word before and after
/// reading them has a consistent snapshot (a seqlock).
package struct _CellHeader: ~Copyable {
    /// Lock, absent, waiters and dead bits, and the TID.
    package let word: Atomic<UInt64>
    /// The bits of the current `Value` (0 while absent).
    package let value: Atomic<UInt>
    /// Absolute expiry in Unix milliseconds, 0 when the key does not expire.
    package let expiresAt: Atomic<Int64>
    /// Open WATCH tokens on this cell; a watched cell is never unlinked by the sweep.
    package let watchers: Atomic<UInt32>
    /// The key's length in bytes; the bytes follow the header (Redis caps a key at 512 MB).
    package let keyCount: UInt32
    /// The key's 64-bit hash.
    package let hash: UInt64
}

/// A handle to a cell: a plain pointer, free to copy, valid while the worker that found it stays pinned.
package struct Cell: Hashable, @unchecked Sendable {
    @usableFromInline package let pointer: UnsafeMutablePointer<_CellHeader>

    @inline(__always) package init(pointer: UnsafeMutablePointer<_CellHeader>) {
        self.pointer = pointer
    }

    @inline(__always) package init?(bits: UInt) {
        guard let raw = UnsafeMutableRawPointer(bitPattern: bits) else { return nil }
        self.pointer = raw.assumingMemoryBound(to: _CellHeader.self)
    }

    /// The pointer as an integer, used to order lock acquisition.
    @inline(__always) package var bits: UInt { UInt(bitPattern: self.pointer) }

    /// Bytes allocated for a cell with a key of `keyCount` bytes.
    @inline(__always) package static func allocationSize(keyCount: Int) -> Int {
        MemoryLayout<_CellHeader>.stride + keyCount
    }

    /// Allocates a cell for `key` with the given initial word.
    package static func allocate(key: UnsafeRawBufferPointer, hash: UInt64, word: UInt64) -> Cell {
        let size = Cell.allocationSize(keyCount: key.count)
        precondition(key.count <= Int(UInt32.max), "key too large")
        let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        let header = raw.bindMemory(to: _CellHeader.self, capacity: 1)
        header.initialize(
            to: _CellHeader(
                word: Atomic(word),
                value: Atomic(0),
                expiresAt: Atomic(0),
                watchers: Atomic(0),
                keyCount: UInt32(key.count),
                hash: hash
            )
        )
        if key.count > 0 {
            (raw + MemoryLayout<_CellHeader>.stride).copyMemory(from: key.baseAddress!, byteCount: key.count)
        }
        return Cell(pointer: header)
    }

    /// Frees the cell's memory (not its value). Called only by reclamation, once no reader can hold it.
    package func deallocate() {
        _ = self.pointer.move()
        UnsafeMutableRawPointer(self.pointer).deallocate()
    }

    @inline(__always) package var hash: UInt64 { self.pointer.pointee.hash }

    /// The key's bytes; valid while the cell is.
    @inline(__always) package var key: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(
            start: UnsafeRawPointer(self.pointer) + MemoryLayout<_CellHeader>.stride,
            count: Int(self.pointer.pointee.keyCount)
        )
    }

    /// True when the cell's key is `other`. Keys of up to 16 bytes (most keys) are compared as two overlapping
    /// words each, without a call to `memcmp`.
    @inline(__always) package func keyEquals(_ other: UnsafeRawBufferPointer) -> Bool {
        let mine = self.key
        let count = mine.count
        guard count == other.count else { return false }
        guard count > 0 else { return true }
        let a = mine.baseAddress!
        let b = other.baseAddress!
        if count >= 8 && count <= 16 {
            let tail = count - 8
            return a.loadUnaligned(as: UInt64.self) == b.loadUnaligned(as: UInt64.self)
                && a.loadUnaligned(fromByteOffset: tail, as: UInt64.self)
                    == b.loadUnaligned(fromByteOffset: tail, as: UInt64.self)
        }
        if count >= 4 && count < 8 {
            let tail = count - 4
            return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
                && a.loadUnaligned(fromByteOffset: tail, as: UInt32.self)
                    == b.loadUnaligned(fromByteOffset: tail, as: UInt32.self)
        }
        return memcmp(a, b, count) == 0
    }

    @inline(__always) package func loadWord() -> UInt64 {
        self.pointer.pointee.word.load(ordering: .acquiring)
    }

    /// Reads word, value and expiry consistently: waits while the cell is locked by someone else.
    ///
    /// Returns the word (which may be dead: the caller then looks the key up again).
    @inline(__always) package func snapshot() -> CellSnapshot {
        self.snapshot(spinLimit: Int.max)!
    }

    /// Like `snapshot()`, but gives up (returns nil) after `spinLimit` waits on a locked cell. A transaction that
    /// holds locks itself must not wait for another's without bound: the other may be waiting for it.
    @inline(__always) package func snapshot(spinLimit: Int) -> CellSnapshot? {
        var spins = 0
        while true {
            let first = self.pointer.pointee.word.load(ordering: .acquiring)
            if CellWord.isDead(first) {
                return CellSnapshot(word: first, value: 0, expiresAt: 0)
            }
            if CellWord.isLocked(first) {
                if spins >= spinLimit { return nil }
                Backoff.pause(&spins)
                continue
            }
            let value = self.pointer.pointee.value.load(ordering: .relaxed)
            let expiresAt = self.pointer.pointee.expiresAt.load(ordering: .relaxed)
            atomicMemoryFence(ordering: .acquiring)
            let second = self.pointer.pointee.word.load(ordering: .relaxed)
            if first == second {
                return CellSnapshot(word: first, value: value, expiresAt: expiresAt)
            }
        }
    }

    /// Takes the lock, waiting while another writer holds it.
    ///
    /// - Returns: the word before locking, or nil if the cell is dead (the caller looks the key up again).
    @inline(__always) package func lock() -> UInt64? {
        var spins = 0
        while true {
            let word = self.pointer.pointee.word.load(ordering: .relaxed)
            if CellWord.isDead(word) { return nil }
            if !CellWord.isLocked(word) {
                let (done, _) = self.pointer.pointee.word.compareExchange(
                    expected: word,
                    desired: word | CellWord.lockBit,
                    ordering: .acquiringAndReleasing
                )
                if done { return word }
            }
            Backoff.pause(&spins)
        }
    }

    /// Takes the lock only if it is free now.
    ///
    /// - Returns: the word before locking, or nil if the cell is locked or dead.
    @inline(__always) package func tryLock() -> UInt64? {
        let word = self.pointer.pointee.word.load(ordering: .relaxed)
        if CellWord.isLocked(word) || CellWord.isDead(word) { return nil }
        let (done, _) = self.pointer.pointee.word.compareExchange(
            expected: word,
            desired: word | CellWord.lockBit,
            ordering: .acquiringAndReleasing
        )
        return done ? word : nil
    }

    /// Releases the lock, publishing `word` (which must not have the lock bit).
    @inline(__always) package func unlock(word: UInt64) {
        self.pointer.pointee.word.store(word, ordering: .releasing)
    }

    /// Stores a new value and expiry; the caller holds the lock.
    @inline(__always) package func store(valueBits: UInt, expiresAt: Int64) {
        self.pointer.pointee.value.store(valueBits, ordering: .releasing)
        self.pointer.pointee.expiresAt.store(expiresAt, ordering: .releasing)
    }

    @inline(__always) package var valueBitsUnderLock: UInt {
        self.pointer.pointee.value.load(ordering: .relaxed)
    }

    @inline(__always) package var expiresAtUnderLock: Int64 {
        self.pointer.pointee.expiresAt.load(ordering: .relaxed)
    }
}

/// A consistent read of a cell.
package struct CellSnapshot {
    package var word: UInt64
    package var value: UInt
    package var expiresAt: Int64

    /// True when the key has a value that has not expired at `now` (`Expiry.hasPassed`; a negative `now` means
    /// "do not check").
    @inline(__always) package func isLive(now: Int64) -> Bool {
        if CellWord.isAbsent(self.word) || CellWord.isDead(self.word) { return false }
        return !Expiry.hasPassed(self.expiresAt, now: now)
    }

    /// True when the key has a value whose expiry has passed at `now` (present, but no longer live).
    @inline(__always) package func hasExpired(now: Int64) -> Bool {
        !CellWord.isAbsent(self.word) && !CellWord.isDead(self.word) && Expiry.hasPassed(self.expiresAt, now: now)
    }
}

/// Spin, then yield: used while a cell or the exclusive gate is held by someone else.
package enum Backoff {
    @inline(__always) package static func pause(_ spins: inout Int) {
        spins += 1
        if spins > 64 {
            sched_yield()
        }
    }
}
