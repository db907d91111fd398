import NIOCore

/// The set-up before a run and the checks after it, over one `SyncClient`, in pipelined batches of MSET or MGET.
enum Setup {
    /// The set-up or a check found the server's data or replies wrong.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// What MGET found for a range of integer keys.
    struct Sum {
        var sum = 0
        /// Keys holding a negative number.
        var negative = 0
        /// Keys that were missing or held no integer.
        var missing = 0
    }

    /// Batches written at once.
    static let batchesPerWrite = 16

    /// Sets `prefix0` ... `prefix<count-1>` to `value` (accounts, counters).
    ///
    /// - Throws: `Failure` if an MSET is refused.
    static func writeIntegers(_ client: SyncClient, prefix: StaticString, count: Int, value: Int) throws {
        try Self.inBatches(client, count: count, batchSize: 1000) { buffer, range in
            buffer.writeCommandHeader(1 + 2 * range.count)
            buffer.writeBulk("MSET")
            for index in range {
                buffer.writeBulk(prefix: prefix, number: index)
                buffer.writeBulk(number: value)
            }
        } check: { reply, _ in
            guard reply.isSimple("OK") else { throw Failure(description: "MSET answered \(reply.summary)") }
        }
    }

    /// Sums the integers at `prefix0` ... `prefix<count-1>`.
    ///
    /// - Throws: `Failure` if an MGET is refused.
    static func sumIntegers(_ client: SyncClient, prefix: StaticString, count: Int) throws -> Sum {
        var total = Sum()
        try Self.inBatches(client, count: count, batchSize: 1000) { buffer, range in
            buffer.writeCommandHeader(1 + range.count)
            buffer.writeBulk("MGET")
            for index in range { buffer.writeBulk(prefix: prefix, number: index) }
        } check: { reply, range in
            guard case .array(let items) = reply, items.count == range.count else {
                throw Failure(description: "MGET of \(range.count) keys answered \(reply.summary)")
            }
            for item in items {
                guard let value = item.bulkInteger else {
                    total.missing += 1
                    continue
                }
                total.sum += value
                if value < 0 { total.negative += 1 }
            }
        }
        return total
    }

    /// Sets `key:0` ... `key:<count-1>` to values of `plan.valueSize` random bytes.
    ///
    /// - Throws: `Failure` if an MSET is refused.
    static func fillKeys(_ client: SyncClient, count: Int, plan: LoadPlan, seed: UInt64) throws {
        var random = SplitMix64(state: seed)
        let batchSize = max(1, min(1000, 65_536 / (plan.valueSize + 24)))
        try Self.inBatches(client, count: count, batchSize: batchSize) { buffer, range in
            buffer.writeCommandHeader(1 + 2 * range.count)
            buffer.writeBulk("MSET")
            for index in range {
                buffer.writeBulk(prefix: "key:", number: index)
                let offset = random.below(LoadPlan.valueOffsets)
                buffer.writeBulk(bytes: plan.values.getSlice(at: offset, length: plan.valueSize)!)
            }
        } check: { reply, _ in
            guard reply.isSimple("OK") else { throw Failure(description: "MSET answered \(reply.summary)") }
        }
    }

    /// Runs one command per batch of `batchSize` indices out of 0..<count, `batchesPerWrite` commands per write,
    /// and hands each reply to `check` with its batch's range.
    private static func inBatches(
        _ client: SyncClient,
        count: Int,
        batchSize: Int,
        write: (inout ByteBuffer, Range<Int>) -> Void,
        check: (Reply, Range<Int>) throws -> Void
    ) throws {
        var start = 0
        while start < count {
            var ranges: [Range<Int>] = []
            var next = start
            while ranges.count < Self.batchesPerWrite && next < count {
                let end = min(next + batchSize, count)
                ranges.append(next..<end)
                next = end
            }
            let replies = try client.call(replies: ranges.count) { buffer in
                for range in ranges { write(&buffer, range) }
            }
            for (reply, range) in zip(replies, ranges) { try check(reply, range) }
            start = next
        }
    }
}
