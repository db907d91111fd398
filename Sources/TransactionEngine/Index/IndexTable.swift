import CWeftSupport
import Synchronization

/// One open-addressing table of a shard: a power-of-two array of slots, probed linearly.
///
/// A slot is one word: 0 is empty, 1 is a tombstone, anything else is a cell pointer with the key's 16-bit tag in
/// the top bits. Readers load slots without a lock; only the shard's owner (under the shard lock) stores into them.
/// A table never fills: the shard builds a bigger one first. A replaced table is retired through epochs, so a reader
/// still probing it stays safe, and sees every cell that existed when it loaded it.
package struct IndexTable: @unchecked Sendable {
    package let base: UnsafeMutableRawPointer

    package static let empty: UInt = 0
    package static let tombstone: UInt = 1
    @usableFromInline static let headerSize = 16
    @usableFromInline static let pointerMask: UInt = (1 << 48) - 1

    @inline(__always) package init(base: UnsafeMutableRawPointer) {
        self.base = base
    }

    @inline(__always) package init?(bits: UInt) {
        guard let base = UnsafeMutableRawPointer(bitPattern: bits) else { return nil }
        self.base = base
    }

    @inline(__always) package var bits: UInt { UInt(bitPattern: self.base) }

    /// Bytes allocated for a table of `capacity` slots.
    package static func allocationSize(capacity: Int) -> Int {
        IndexTable.headerSize + capacity * MemoryLayout<Atomic<UInt>>.stride
    }

    /// A new table with `capacity` empty slots (a power of two).
    package static func allocate(capacity: Int) -> IndexTable {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "table capacity must be a power of two")
        let base = UnsafeMutableRawPointer.allocate(
            byteCount: IndexTable.allocationSize(capacity: capacity),
            alignment: 64
        )
        base.storeBytes(of: capacity, as: Int.self)
        let slots = (base + IndexTable.headerSize).bindMemory(to: Atomic<UInt>.self, capacity: capacity)
        for i in 0..<capacity {
            (slots + i).initialize(to: Atomic(IndexTable.empty))
        }
        return IndexTable(base: base)
    }

    package func deallocate() {
        self.base.deallocate()
    }

    @inline(__always) package var capacity: Int { self.base.load(as: Int.self) }

    @inline(__always) package var slots: UnsafeMutablePointer<Atomic<UInt>> {
        (self.base + IndexTable.headerSize).assumingMemoryBound(to: Atomic<UInt>.self)
    }

    @inline(__always) package static func tag(_ hash: UInt64) -> UInt {
        UInt(truncatingIfNeeded: (hash >> 40) & 0xFFFF) << 48
    }

    @inline(__always) package static func slotValue(cell: Cell) -> UInt {
        IndexTable.tag(cell.hash) | cell.bits
    }

    @inline(__always) package static func cell(inSlot slot: UInt) -> Cell? {
        guard slot > IndexTable.tombstone else { return nil }
        return Cell(bits: slot & IndexTable.pointerMask)
    }

    /// Starts loading the slot where a probe for `hash` begins (see `Worker.prefetchDeclared`).
    @inline(__always) package func prefetchHome(_ hash: UInt64) {
        weft_prefetch(self.slots + (Int(truncatingIfNeeded: hash) & (self.capacity - 1)))
    }

    /// The cell in the home slot of `hash` when the slot's 16-bit tag matches: a guess for prefetching, not a
    /// lookup (the key is not compared, and the cell may be dead). Reads the slot, so call it after
    /// `prefetchHome` has had time to bring it in; the caller must be pinned.
    @inline(__always) func homeCellHint(_ hash: UInt64) -> UnsafeMutablePointer<_CellHeader>? {
        // Acquiring, as `find` does: `prefetchHomeValue` reads the cell's fields, which its inserter wrote before
        // publishing it.
        let home = Int(truncatingIfNeeded: hash) & (self.capacity - 1)
        let slot = (self.slots + home).pointee.load(ordering: .acquiring)
        guard slot > IndexTable.tombstone && slot & ~IndexTable.pointerMask == IndexTable.tag(hash) else {
            return nil
        }
        return UnsafeMutablePointer(bitPattern: slot & IndexTable.pointerMask)
    }

    /// Starts loading the cell in the home slot of `hash` when the slot's tag matches (see `homeCellHint`). The
    /// cell may be gone by the time it is used: this only loads memory, which stays allocated while the caller is
    /// pinned.
    @inline(__always) package func prefetchHomeCell(_ hash: UInt64) {
        if let cell = self.homeCellHint(hash) {
            // A cell's header and a short key span 64 bytes that seldom start a cache line: load both lines.
            weft_prefetch(cell)
            weft_prefetch(UnsafeRawPointer(cell) + 63)
        }
    }

    /// Starts loading the value of the cell in the home slot of `hash` (see `homeCellHint`). Reads the cell, so
    /// call it after `prefetchHomeCell` has had time to bring it in.
    @inline(__always) func prefetchHomeValue(_ hash: UInt64) {
        if let cell = self.homeCellHint(hash), cell.pointee.hash == hash,
            let value = UnsafeRawPointer(bitPattern: cell.pointee.value.load(ordering: .relaxed))
        {
            weft_prefetch(value)
        }
    }

    /// Finds the cell of `key`, without a lock.
    ///
    /// - Complexity: O(1) expected.
    @inline(__always) package func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Cell? {
        let mask = self.capacity - 1
        let tag = IndexTable.tag(hash)
        let slots = self.slots
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = (slots + i).pointee.load(ordering: .acquiring)
            if slot == IndexTable.empty { return nil }
            if slot != IndexTable.tombstone && slot & ~IndexTable.pointerMask == tag {
                let cell = Cell(bits: slot & IndexTable.pointerMask)!
                if cell.hash == hash && cell.keyEquals(key) {
                    return cell
                }
            }
            i = (i + 1) & mask
        }
    }

    /// Places `cell` in the first free or tombstone slot of its probe sequence. The caller holds the shard lock and
    /// has checked that the key is not present.
    ///
    /// - Returns: true if a tombstone was reused.
    @discardableResult
    package func place(_ cell: Cell) -> Bool {
        let mask = self.capacity - 1
        let slots = self.slots
        var i = Int(truncatingIfNeeded: cell.hash) & mask
        while true {
            let slot = (slots + i).pointee.load(ordering: .relaxed)
            if slot == IndexTable.empty || slot == IndexTable.tombstone {
                (slots + i).pointee.store(IndexTable.slotValue(cell: cell), ordering: .releasing)
                return slot == IndexTable.tombstone
            }
            i = (i + 1) & mask
        }
    }

    /// Replaces the slot holding `cell` by a tombstone. The caller holds the shard lock.
    ///
    /// - Returns: false if the cell is not in this table.
    package func unlink(_ cell: Cell) -> Bool {
        let mask = self.capacity - 1
        let slots = self.slots
        let wanted = IndexTable.slotValue(cell: cell)
        var i = Int(truncatingIfNeeded: cell.hash) & mask
        while true {
            let slot = (slots + i).pointee.load(ordering: .relaxed)
            if slot == IndexTable.empty { return false }
            if slot == wanted {
                (slots + i).pointee.store(IndexTable.tombstone, ordering: .releasing)
                return true
            }
            i = (i + 1) & mask
        }
    }

    /// Calls `body` for each cell in the table (weakly consistent when the table changes meanwhile).
    @inline(__always) package func forEachCell(_ body: (Cell) throws -> Void) rethrows {
        let slots = self.slots
        for i in 0..<self.capacity {
            if let cell = IndexTable.cell(inSlot: (slots + i).pointee.load(ordering: .acquiring)) {
                try body(cell)
            }
        }
    }
}
