#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension LogWriter {
    /// Frames every buffered record whose epoch is at most `through` into blocks, writes them after any blocks a
    /// failed flush left, and syncs when asked; then publishes the durable point (contract items 2 to 4).
    ///
    /// The flusher thread and `waitUntilDurable` call it; so do tools, tests and shutdown. Flushes are serialized.
    ///
    /// - Parameters:
    ///   - fsync: sync the segment (and the directory after a new segment) before returning.
    ///   - through: the highest closed epoch; `.max` takes every buffered record.
    /// - Returns: the durable point after this flush.
    /// - Throws: `LogError.io` when a write, sync or cut fails (the records stay queued for the next flush);
    ///   `LogError.writerClosed` after `close()`.
    /// - Complexity: O(n log n) in the records taken, plus the I/O.
    @discardableResult
    package func flush(fsync: Bool, through: UInt64 = .max) throws(LogError) -> DurablePoint {
        try self.withIO { (io) throws(LogError) -> DurablePoint in
            try self.flush(&io, fsync: fsync, through: through)
        }
    }

    /// The flusher thread's flush. It takes the I/O lock in a loop, so before each flush it lets in the other
    /// threads that wait for the lock (a checkpoint's flush and rotation, shutdown, INFO's statistics), giving them
    /// up to a millisecond.
    ///
    /// Without that, a mutex's waiter can starve: the flusher unlocks and locks again within microseconds, long
    /// before the woken waiter runs, and under `.always` with steady commits the flusher goes from one flush
    /// straight into the next. With a slow disk a rotation waited through dozens of flushes.
    func flushOnFlusher(fsync: Bool, through: UInt64) throws(LogError) {
        var turns = 0
        while self.ioCallers.load(ordering: .acquiring) > 0 && turns < 20 {
            usleep(50)
            turns += 1
        }
        try self.io.withLock { (io) throws(LogError) in
            _ = try self.flush(&io, fsync: fsync, through: through)
        }
    }

    /// Runs `body` under the I/O lock, on any thread but the flusher's: it counts itself in `ioCallers` first, so
    /// that the flusher lets it in (see `flushOnFlusher`).
    func withIO<R, E: Error>(_ body: (inout WriterIO) throws(E) -> R) throws(E) -> R {
        self.ioCallers.add(1, ordering: .sequentiallyConsistent)
        defer { self.ioCallers.subtract(1, ordering: .releasing) }
        return try self.io.withLock(body)
    }

    /// `flush`'s work and bookkeeping, under the I/O lock.
    private func flush(_ io: inout WriterIO, fsync: Bool, through: UInt64) throws(LogError) -> DurablePoint {
        io.statistics.flushes += 1
        do throws(LogError) {
            let reached = try self.flushLocked(&io, fsync: fsync, through: through)
            return self.publish(reached)
        } catch {
            io.statistics.failedFlushes += 1
            self.progress.withLockBroadcasting { progress in
                progress.attempts += 1
                progress.lastFailure = error
            }
            throw error
        }
    }

    /// The work of `flush`, under the I/O lock.
    ///
    /// - Returns: the point this flush made durable, or nil if it wrote without syncing (under `.always` and
    ///   `.everysec`, written is not durable).
    private func flushLocked(
        _ io: inout WriterIO,
        fsync: Bool,
        through bound: UInt64
    ) throws(LogError) -> DurablePoint? {
        guard !io.closed else { throw .writerClosed }
        try self.repair(&io)
        self.frameLanes(through: bound, into: &io)
        let policy = self.policy
        try self.writeBlocks(&io, policy: policy)
        if fsync {
            try self.sync(&io)
        } else if policy != .no {
            return nil
        } else {
            // Blocks written under another policy, before a switch to `.no`, are done too (handed to the kernel).
            self.retire(&io)
        }
        var epoch = bound == .max ? io.doneEpoch : bound
        let held = self.lowestBufferedEpoch()
        if held != .max { epoch = min(epoch, held == 0 ? 0 : held - 1) }
        return DurablePoint(epoch: epoch, tid: io.doneTID)
    }

    /// Syncs and closes the current segment, so that the next write starts a new one; returns that segment's
    /// number. Every record written before the call lies in a lower segment (a checkpoint begun after it covers
    /// them).
    ///
    /// - Throws: `LogError.io` when the sync fails; `LogError.writerClosed`.
    package func rotate() throws(LogError) -> UInt64 {
        try self.withIO { (io) throws(LogError) -> UInt64 in
            guard !io.closed else { throw .writerClosed }
            if io.fd >= 0 {
                try self.sync(&io)
                POSIX.close(io.fd)
                io.fd = -1
            }
            return io.nextSegment
        }
    }

    /// Whether any lane holds records not yet taken by a flush.
    var hasBufferedRecords: Bool {
        self.lowestBufferedEpoch() != .max
    }

    /// Moves the published durable point forward to `reached` (never back), wakes waiters, and tells `onDurable`.
    /// Runs under the I/O lock, so publications and callbacks come in order.
    private func publish(_ reached: DurablePoint?) -> DurablePoint {
        let (point, advanced) = self.progress.withLockBroadcasting { progress in
            progress.attempts += 1
            progress.lastFailure = nil
            guard let reached,
                reached.epoch > progress.durable.epoch || reached.tid > progress.durable.tid
            else { return (progress.durable, false) }
            progress.durable = DurablePoint(
                epoch: max(progress.durable.epoch, reached.epoch),
                tid: max(progress.durable.tid, reached.tid)
            )
            self.durableEpochValue.store(progress.durable.epoch, ordering: .releasing)
            return (progress.durable, true)
        }
        if advanced { self.configuration.onDurable?(point) }
        return point
    }

    /// The smallest epoch any lane still holds (`.max` if none): the durable epoch must stay below it.
    private func lowestBufferedEpoch() -> UInt64 {
        var lowest = UInt64.max
        for lane in self.lanes {
            lowest = min(lowest, lane.buffer.withLock { $0.entries.isEmpty ? .max : $0.minEpoch })
        }
        return lowest
    }

    /// Takes the lanes' records through `bound`, orders them by epoch, TID and arrival, and frames them into blocks
    /// appended to `io.output`.
    private func frameLanes(through bound: UInt64, into io: inout WriterIO) {
        var taken: [LaneBuffer] = []
        for lane in self.lanes {
            let batch = lane.buffer.withLock { $0.take(through: bound) }
            if !batch.entries.isEmpty { taken.append(batch) }
        }
        guard !taken.isEmpty else { return }
        // The backlog trades the records' bytes for their blocks' in one step, once the blocks are framed.
        let outputBefore = io.output.count
        defer {
            let records = taken.reduce(0) { $0 + $1.bytes.count }
            self.backlog.add(io.output.count - outputBefore - records, ordering: .relaxed)
        }
        var order: [(epoch: UInt64, tid: UInt64, lane: Int, entry: Int)] = []
        order.reserveCapacity(taken.reduce(0) { $0 + $1.entries.count })
        for (laneIndex, batch) in taken.enumerated() {
            for (entryIndex, entry) in batch.entries.enumerated() {
                order.append((entry.epoch, entry.tid, laneIndex, entryIndex))
            }
        }
        order.sort { $0 < $1 }
        var encoder = io.encoder
        encoder.reset(epoch: order[0].epoch)
        for item in order {
            let entry = taken[item.lane].entries[item.entry]
            let size = LogFormat.encodedSize(ofRecordLength: entry.count)
            if !encoder.isEmpty,
                entry.epoch != encoder.epoch || encoder.payload.count + size > self.configuration.maxBlockPayload
            {
                self.emit(encoder, into: &io)
                encoder.reset(epoch: entry.epoch)
            }
            if encoder.isEmpty { encoder.reset(epoch: entry.epoch) }
            taken[item.lane].bytes.withUnsafeBytes { bytes in
                encoder.append(
                    tid: entry.tid,
                    record: UnsafeRawBufferPointer(rebasing: bytes[entry.start..<(entry.start + entry.count)])
                )
            }
        }
        self.emit(encoder, into: &io)
        encoder.reset(epoch: 0)
        io.encoder = encoder
    }

    private func emit(_ encoder: BlockEncoder, into io: inout WriterIO) {
        let start = io.output.count
        let header = encoder.encode(compress: self.configuration.compression, into: &io.output)
        io.statistics.payloadBytes += Int(header.uncompressedLength)
        io.statistics.storedPayloadBytes += Int(header.storedLength)
        io.blocks.append(
            WriterIO.PendingBlock(
                start: start,
                length: header.blockSize,
                epoch: header.epoch,
                lastTID: header.lastTID,
                records: Int(header.recordCount)
            )
        )
    }

    /// Writes the blocks not yet written, a segment's worth per `write(2)`, starting new segments as needed.
    private func writeBlocks(_ io: inout WriterIO, policy: FsyncPolicy) throws(LogError) {
        let limit = Int64(self.configuration.segmentSize)
        while io.written < io.blocks.count {
            if io.fd < 0 {
                try self.openSegment(&io)
            } else if io.segmentBytes > 0, io.segmentBytes + Int64(io.blocks[io.written].length) > limit {
                try self.sync(&io)
                POSIX.close(io.fd)
                io.fd = -1
                try self.openSegment(&io)
            }
            // Read after the rotation: its sync retires blocks and moves the rest to the front of `output`.
            let first = io.blocks[io.written]
            var end = io.written + 1
            var length = first.length
            while end < io.blocks.count, io.segmentBytes + Int64(length + io.blocks[end].length) <= limit {
                length += io.blocks[end].length
                end += 1
            }
            let (fd, path, start) = (io.fd, io.path, first.start)
            let failure = io.output.withUnsafeBytes { bytes -> LogError? in
                do throws(LogError) {
                    try POSIX.writeAll(
                        fd,
                        UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)]),
                        path: path,
                        faults: self.configuration._faults
                    )
                    return nil
                } catch {
                    return error
                }
            }
            if let failure {
                self.cut(&io, to: io.segmentBytes)
                throw failure
            }
            io.segmentBytes += Int64(length)
            io.needsSync = true
            io.statistics.blocksWritten += end - io.written
            io.statistics.bytesWritten += length
            io.statistics.recordsWritten += io.blocks[io.written..<end].reduce(0) { $0 + $1.records }
            io.written = end
            if policy == .no { self.retire(&io) }
        }
    }

    /// Syncs the directory (after a new segment) and the current segment, then retires the written blocks. When
    /// the segment's sync fails, cuts the unsynced blocks off so that the next flush writes them again (the
    /// kernel may have dropped their pages).
    private func sync(_ io: inout WriterIO) throws(LogError) {
        guard io.fd >= 0 else { return }
        if io.directoryNeedsSync {
            try POSIX.syncDirectory(io.directoryFD, path: self.directory)
            io.directoryNeedsSync = false
        }
        if io.needsSync {
            do throws(LogError) {
                try POSIX.syncData(io.fd, path: io.path, faults: self.configuration._faults)
            } catch {
                let held = io.blocks[0..<io.written].reduce(Int64(0)) { $0 + Int64($1.length) }
                self.cut(&io, to: io.segmentBytes - held)
                io.written = 0
                throw error
            }
            io.needsSync = false
            io.statistics.syncs += 1
        }
        self.retire(&io)
    }

    /// Drops the written blocks from the queue: they are durable now.
    private func retire(_ io: inout WriterIO) {
        guard io.written > 0 else { return }
        for block in io.blocks[0..<io.written] {
            io.doneEpoch = max(io.doneEpoch, block.epoch)
            io.doneTID = max(io.doneTID, block.lastTID)
        }
        let retired = io.written == io.blocks.count ? io.output.count : io.blocks[io.written].start
        self.backlog.subtract(retired, ordering: .relaxed)
        if io.written == io.blocks.count {
            io.output.removeAll(keepingCapacity: true)
            io.blocks.removeAll(keepingCapacity: true)
        } else {
            let bytes = io.blocks[io.written].start
            io.output.removeFirst(bytes)
            io.blocks.removeFirst(io.written)
            for index in io.blocks.indices { io.blocks[index].start -= bytes }
        }
        io.written = 0
    }

    /// Cuts the current segment back to `offset` after a failed write or sync; if the cut fails too, the next flush
    /// retries it first (`repair`).
    private func cut(_ io: inout WriterIO, to offset: Int64) {
        io.segmentBytes = offset
        do {
            try POSIX.truncate(io.fd, to: offset, path: io.path, faults: self.configuration._faults)
            io.repairOffset = nil
        } catch {
            io.repairOffset = offset
        }
    }

    /// Retries a cut that failed before.
    private func repair(_ io: inout WriterIO) throws(LogError) {
        guard let offset = io.repairOffset, io.fd >= 0 else { return }
        try POSIX.truncate(io.fd, to: offset, path: io.path, faults: self.configuration._faults)
        io.repairOffset = nil
    }

    /// Creates the next segment file (never an existing one).
    private func openSegment(_ io: inout WriterIO) throws(LogError) {
        let path = SegmentDirectory.path(directory: self.directory, number: io.nextSegment)
        io.fd = try POSIX.open(path, flags: O_WRONLY | O_CREAT | O_EXCL)
        io.path = path
        io.nextSegment &+= 1
        io.segmentBytes = 0
        io.needsSync = false
        io.directoryNeedsSync = true
        io.statistics.segmentsCreated += 1
    }
}
