import RESPCodec
import TransactionEngine

/// DUMP and RESTORE (redis `src/cluster.c` `dumpCommand`, `restoreCommand`), with the payload of `DumpPayload`.
///
/// RESTORE writes through the engine like SET: it is logged, survives a restart, fails a WATCH on its key and runs
/// inside EXEC. Weft keeps no access times or frequencies, so IDLETIME and FREQ are checked and then ignored.
enum DumpCommands {
    static let all: [CommandSpec] = [
        CommandSpec("dump", arity: 2, flags: [.readonly], keys: (1, 1, 1)) { context, reply in
            let payload = context.read(1) { entry in
                entry.map { entry in entry.value.withBytes { DumpPayload.encode(string: $0) } }
            }
            if let payload {
                payload.withUnsafeBytes { reply.bulk($0) }
            } else {
                reply.null()
            }
        },
        CommandSpec("restore", arity: -4, flags: [.write], keys: (1, 1, 1)) { context, reply throws(CommandError) in
            try DumpCommands.restore(context)
            reply.simple("OK")
        },
    ]

    static let busyKey = CommandError(code: "BUSYKEY", "Target key name already exists.")

    /// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency], checked in
    /// `restoreCommand`'s order: the options (IDLETIME and FREQ exclude each other), then the key (without REPLACE it
    /// must be missing), then the TTL, then the payload.
    ///
    /// A TTL of 0 sets no expiry. An expiry already past (a relative TTL overflowing wraps into the past, as in
    /// Redis) creates nothing, and with REPLACE deletes the key; the reply is still OK.
    static func restore(_ context: CommandContext) throws(CommandError) {
        var replace = false
        var absolute = false
        var idleTime: Int64 = -1
        var frequency: Int64 = -1
        var index = 4
        let count = context.arguments.count
        while index < count {
            let hasNext = index + 1 < count
            if context.argument(index, is: "REPLACE") {
                replace = true
            } else if context.argument(index, is: "ABSTTL") {
                absolute = true
            } else if hasNext, frequency == -1, context.argument(index, is: "IDLETIME") {
                idleTime = try context.integer(index + 1)
                guard idleTime >= 0 else { throw CommandError("Invalid IDLETIME value, must be >= 0") }
                index += 1
            } else if hasNext, idleTime == -1, context.argument(index, is: "FREQ") {
                frequency = try context.integer(index + 1)
                guard frequency >= 0 && frequency <= 255 else {
                    throw CommandError("Invalid FREQ value, must be >= 0 and <= 255")
                }
                index += 1
            } else {
                throw .syntax
            }
            index += 1
        }
        // The TTL and the payload are checked before the transaction, but their errors come after the key's.
        let payload = context.arguments.bytes(3)
        let checked: Result<(ttl: Int64, value: DumpPayload.StringValue), CommandError>
        if let ttl = RedisInteger.parse(context.arguments.bytes(2)) {
            if ttl < 0 {
                checked = .failure(CommandError("Invalid TTL value, must be >= 0"))
            } else {
                do throws(DumpPayload.Failure) {
                    // A value holds at most 4 GiB, whatever proto-max-bulk-len allows.
                    let limit = Int(min(context.stringLimit, Int64(UInt32.max)))
                    checked = .success((ttl, try DumpPayload.decodeString(payload, limit: limit)))
                } catch {
                    checked = .failure(error.error)
                }
            }
        } else {
            checked = .failure(.notInteger)
        }
        let outcome: Result<Void, CommandError> = context.write(1) { tx, key in
            if !replace && tx.exists(key) { return .failure(DumpCommands.busyKey) }
            let ttl: Int64
            let value: DumpPayload.StringValue
            switch checked {
            case .failure(let error): return .failure(error)
            case .success(let checked): (ttl, value) = checked
            }
            var expiry = Expiry.none
            if ttl != 0 {
                let now = tx.now
                // C's `ttl += mstime()`, which wraps.
                let at = absolute ? ttl : ttl &+ now
                guard at > now else {
                    if replace { tx.delete(key) }
                    return .success(())
                }
                expiry = .at(at)
            }
            DumpCommands.withBytes(of: value, in: payload) { bytes in
                tx.setString(key, bytes, expiry: expiry, encoding: .fromContent)
            }
            return .success(())
        }
        try outcome.get()
    }

    /// Calls `body` with the bytes of a string read from `payload`.
    static func withBytes<R>(
        of value: DumpPayload.StringValue,
        in payload: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer) -> R
    ) -> R {
        switch value {
        case .slice(let range): return body(UnsafeRawBufferPointer(rebasing: payload[range]))
        case .bytes(let bytes): return bytes.withUnsafeBytes(body)
        case .integer(let number):
            var digits = String(number)
            return digits.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
    }
}
