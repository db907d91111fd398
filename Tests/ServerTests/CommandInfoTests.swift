import CommandDispatch
import Testing

/// `CommandInfoTable` comes from redis-server 7.0.15's COMMAND INFO; these checks keep it true of what Weft's own
/// specs say and do, so that COMMAND INFO (and GETKEYS, which reads its key specs) cannot describe a command other
/// than the one the dispatcher runs.
@Suite("COMMAND INFO's table against Weft's command specs")
struct CommandInfoTests {
    @Test("every command and subcommand has an entry with the same arity and key positions")
    func arityAndKeys() {
        for spec in CommandTable.standard.allSpecs {
            guard let entry = CommandInfoTable.byName[spec.name] else {
                Issue.record("\(spec.name) has no COMMAND INFO entry")
                continue
            }
            #expect(entry.arity == spec.arity, "\(spec.name)")
            #expect(entry.keys == (spec.firstKey, spec.lastKey, spec.keyStep), "\(spec.name)")
            for (name, arity) in spec.subcommands ?? [:] {
                let full = "\(spec.name)|\(name)"
                // CLIENT SETINFO is Redis 7.2's; 7.0's table has no entry for it.
                guard let sub = CommandInfoTable.byName[full] else {
                    #expect(full == "client|setinfo", "\(full) has no COMMAND INFO entry")
                    continue
                }
                #expect(sub.arity == arity, "\(full)")
            }
        }
    }

    @Test("the table's write, readonly and fast flags are the specs' own")
    func flags() {
        for spec in CommandTable.standard.allSpecs where spec.subcommands == nil {
            guard let entry = CommandInfoTable.byName[spec.name] else { continue }
            #expect(entry.flags.contains("write") == spec.flags.contains(.write), "\(spec.name): write")
            #expect(entry.flags.contains("readonly") == spec.flags.contains(.readonly), "\(spec.name): readonly")
            #expect(entry.flags.contains("fast") == spec.flags.contains(.fast), "\(spec.name): fast")
        }
    }

    @Test("a command with key positions has key specs that find them, and one without has none")
    func keySpecs() {
        for spec in CommandTable.standard.allSpecs where spec.subcommands == nil {
            guard let entry = CommandInfoTable.byName[spec.name] else { continue }
            #expect((spec.firstKey == 0) == entry.keySpecs.isEmpty, "\(spec.name)")
            guard case .index(let first)? = entry.keySpecs.first?.begin else { continue }
            #expect(first == spec.firstKey, "\(spec.name): the first key spec begins at the first key")
        }
    }
}

/// LCS's checks before it allocates its table, at sizes no test could allocate: Redis's errors, in Redis's order, and
/// no arithmetic trap (a table of 2^61 cells or more once overflowed a 64-bit byte count and killed the server).
@Suite("LCS's table limits")
struct LCSLimitTests {
    @Test("too long, overflowing, over the limit, and fitting")
    func limits() {
        let tooLong = Int(UInt32.max) - 1
        #expect(StringCommands.lcsTableProblem(tooLong, 1, limit: 1 << 29)?.message == "String too long for LCS")
        #expect(StringCommands.lcsTableProblem(1, tooLong, limit: 1 << 29)?.message == "String too long for LCS")
        #expect(
            StringCommands.lcsTableProblem(tooLong - 1, tooLong - 1, limit: Int.max)?.message
                == "Insufficient memory, failed allocating transient memory for LCS"
        )
        #expect(
            StringCommands.lcsTableProblem(1_518_500_299, 1_518_500_299, limit: 2_000_000_000)?.message
                == "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
        )
        // (1000 + 1) * (249 + 1) * 4 bytes: exactly 1,001,000.
        #expect(StringCommands.lcsTableProblem(1000, 249, limit: 1_001_000) == nil)
        #expect(StringCommands.lcsTableProblem(1000, 250, limit: 1_001_000) != nil)
        #expect(StringCommands.lcsTableProblem(0, 0, limit: 4) == nil)
    }
}
