import CWeftSupport

/// Something unlinked from shared memory, waiting for every worker that might still read it to move on.
package enum RetiredItem: Sendable {
    case value(Value)
    case cell(Cell)
    case table(IndexTable)
    case database(Database)

    /// Starts loading the item's first cache line, which `free` reads (its size) and so does the allocator (the
    /// chunk header just before it): `Worker.collect` prefetches a run of items before freeing them, so that the
    /// misses on long-retired memory overlap.
    @inline(__always) func prefetch() {
        switch self {
        case .value(let value): weft_prefetch(value.pointer)
        case .cell(let cell): weft_prefetch(cell.pointer)
        case .table, .database: break
        }
    }

    /// Frees the item. Returns the bytes freed, for memory accounting.
    func free() -> Int {
        switch self {
        case .value(let value):
            return value.deallocate()
        case .cell(let cell):
            let bytes = Cell.allocationSize(keyCount: cell.key.count)
            cell.deallocate()
            return bytes
        case .table(let table):
            let bytes = IndexTable.allocationSize(capacity: table.capacity)
            table.deallocate()
            return bytes
        case .database(let database):
            return database.deallocateAll()
        }
    }
}

/// A retired item with the global epoch at which it was unlinked. It is freed once the global epoch is two past
/// that: by then every worker that was pinned when it was unlinked has unpinned.
package struct Retired: Sendable {
    let epoch: UInt64
    let item: RetiredItem
}
