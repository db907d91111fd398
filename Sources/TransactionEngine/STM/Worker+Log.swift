import CommitLog

/// Handing committed transactions to the commit log.
extension Worker {
    /// Appends the committed transaction's record to the log, tagged with `tid` and the epoch in its high bits.
    ///
    /// Called by the attempt loop right after a commit, while the worker is still pinned: the record's epoch is at
    /// least the pinned one, so the epoch cannot be closed (`TransactionEngine.closedEpoch`) before the record is
    /// in its lane. A record the log refuses is counted; the commit stands.
    @inline(__always) func logCommit(tid: UInt64) {
        guard let log = self.log, self.record.count > 0 else { return }
        let epoch = tid >> TransactionEngine.tidSequenceBits
        do {
            try log.append(record: self.record.bytes, tid: tid, epoch: epoch, lane: self.slotIndex)
        } catch {
            self.engine.logAppendFailures.add(1, ordering: .relaxed)
            return
        }
        if epoch > self.committedEpoch { self.committedEpoch = epoch }
    }

    /// Makes this worker append its commits to `log` from now on. Call it on the worker's own thread, before it
    /// commits anything that must be logged: the server does so on each event loop once recovery has finished.
    package func useLog(_ log: LogWriter?) {
        self.log = log
    }

    /// The highest epoch of a record this worker appended since the last call (0 if none), and resets it.
    ///
    /// The server calls it after running a batch of a client's commands: under `appendfsync always` the replies
    /// wait until the log is durable through this epoch.
    package func takeCommittedEpoch() -> UInt64 {
        defer { self.committedEpoch = 0 }
        return self.committedEpoch
    }
}
