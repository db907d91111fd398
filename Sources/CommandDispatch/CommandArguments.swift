import NIOCore
import RESPCodec

/// A command's arguments, its name first: byte ranges in memory that stays put while the command runs (the
/// connection's read buffer for pipelined requests, or a temporary copy for the others).
///
/// Nothing here is reference counted: a command that reads its arguments through `bytes(_:)` pays no retain or
/// release for them, where an array of `ByteBuffer` slices paid a pair per argument. Valid only during the call
/// it was passed to; what outlives it takes copies (MULTI's `QueuedCommand`, the slow log's entry).
package struct CommandArguments: RandomAccessCollection {
    /// The memory that `spans`' indices count from.
    package let base: UnsafeRawPointer
    /// One span per argument.
    package let spans: UnsafeBufferPointer<ArgumentSpan>

    package init(base: UnsafeRawPointer, spans: UnsafeBufferPointer<ArgumentSpan>) {
        self.base = base
        self.spans = spans
    }

    package var startIndex: Int { 0 }
    package var endIndex: Int { self.spans.count }

    /// The bytes of argument `index`, valid while the command runs.
    @inline(__always) package func bytes(_ index: Int) -> UnsafeRawBufferPointer {
        // As an array's subscript would: an index past the arguments traps instead of reading other memory.
        precondition(index >= 0 && index < self.spans.count, "argument index out of range")
        let span = self.spans[index]
        // Address arithmetic, not pointer arithmetic: a span may lie in another allocation than `base` (`with`).
        let start = UnsafeRawPointer(bitPattern: Int(bitPattern: self.base) &+ span.index)
        return UnsafeRawBufferPointer(start: start, count: span.count)
    }

    /// A copy of argument `index` (for what is not per command: option parsing, errors, replies that echo it).
    package subscript(index: Int) -> ByteBuffer {
        ByteBuffer(bytes: self.bytes(index))
    }

    /// Calls `body` with `buffers` as arguments (requests that did not arrive whole): arguments of 64 KiB and more,
    /// up to eight of them, are used in place; the others are copied into one temporary allocation, on the stack
    /// when small. So a large value is not copied once more before the command copies it into the keyspace.
    package static func with<R>(_ buffers: [ByteBuffer], _ body: (CommandArguments) throws -> R) rethrows -> R {
        var inPlace: [Int] = []
        var copied = 0
        for (index, buffer) in buffers.enumerated() {
            if buffer.readableBytes >= CommandArguments.inPlaceSize && inPlace.count < 8 {
                inPlace.append(index)
            } else {
                copied += buffer.readableBytes
            }
        }
        return try withUnsafeTemporaryAllocation(of: ArgumentSpan.self, capacity: Swift.max(buffers.count, 1)) { spans in
            try withUnsafeTemporaryAllocation(byteCount: Swift.max(copied, 1), alignment: 1) { storage in
                let base = UnsafeRawPointer(storage.baseAddress!)
                var offset = 0
                var next = 0
                for (index, buffer) in buffers.enumerated() {
                    if next < inPlace.count && inPlace[next] == index {
                        // Filled in below, while the buffer is borrowed.
                        spans.initializeElement(at: index, to: ArgumentSpan(index: 0, count: 0))
                        next += 1
                        continue
                    }
                    buffer.withUnsafeReadableBytes { bytes in
                        if let source = bytes.baseAddress, bytes.count > 0 {
                            (storage.baseAddress! + offset).copyMemory(from: source, byteCount: bytes.count)
                        }
                    }
                    spans.initializeElement(at: index, to: ArgumentSpan(index: offset, count: buffer.readableBytes))
                    offset += buffer.readableBytes
                }
                defer { spans.baseAddress!.deinitialize(count: buffers.count) }
                // Borrows the in-place arguments one inside the other, then runs `body` inside them all.
                func borrowing(_ position: Int) throws -> R {
                    guard position < inPlace.count else {
                        return try body(
                            CommandArguments(base: base, spans: UnsafeBufferPointer(rebasing: spans[..<buffers.count]))
                        )
                    }
                    let index = inPlace[position]
                    return try buffers[index].withUnsafeReadableBytes { bytes in
                        let distance = Int(bitPattern: bytes.baseAddress!) &- Int(bitPattern: base)
                        spans[index] = ArgumentSpan(index: distance, count: bytes.count)
                        return try borrowing(position + 1)
                    }
                }
                return try borrowing(0)
            }
        }
    }

    /// From this size an argument of `with` is used in place rather than copied.
    static let inPlaceSize = 64 * 1024
}

/// A command queued by MULTI, kept until EXEC: its arguments' bytes back to back in one array and their spans in
/// another, which EXEC reads in place.
package struct QueuedCommand: Sendable {
    private let storage: [UInt8]
    private let spans: [ArgumentSpan]

    /// A copy of `arguments`.
    package init(_ arguments: CommandArguments) {
        var total = 0
        for span in arguments.spans { total += span.count }
        var storage: [UInt8] = []
        storage.reserveCapacity(total)
        var spans: [ArgumentSpan] = []
        spans.reserveCapacity(arguments.count)
        for index in arguments.indices {
            let bytes = arguments.bytes(index)
            spans.append(ArgumentSpan(index: storage.count, count: bytes.count))
            storage.append(contentsOf: bytes)
        }
        self.storage = storage
        self.spans = spans
    }

    /// The number of arguments, the name included.
    package var count: Int { self.spans.count }

    /// Calls `body` with the arguments, located in place.
    package func withArguments<R>(_ body: (CommandArguments) throws -> R) rethrows -> R {
        try self.storage.withUnsafeBytes { bytes in
            try self.spans.withUnsafeBufferPointer { spans in
                // An empty array may have no address; then every argument is empty and none is read.
                let base = bytes.baseAddress ?? UnsafeRawPointer(spans.baseAddress!)
                return try body(CommandArguments(base: base, spans: spans))
            }
        }
    }

    /// Calls `body` with the bytes of argument `index`.
    package func withBytes<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try self.storage.withUnsafeBytes { bytes in
            let span = self.spans[index]
            return try body(UnsafeRawBufferPointer(rebasing: bytes[span.index..<(span.index + span.count)]))
        }
    }
}
