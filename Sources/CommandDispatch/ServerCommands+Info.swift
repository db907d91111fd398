import NIOCore
import RESPCodec
import TransactionEngine

extension ServerCommands {
    /// INFO [section ...]: Redis 7's sections, in Redis's order and with its `# Section` headers, plus Weft's
    /// `transactions`. Sections are chosen as Redis's genInfoSectionDict chooses them: none named means the default
    /// ones; `default`, `all` and `everything` add their sets; other names (any case) add themselves; unknown names
    /// add nothing.
    static func info(_ context: CommandContext) -> String {
        let selection = InfoSelection((1..<context.arguments.count).map { context.string($0).lowercased() })
        let wanted: (String) -> Bool = { selection.names.contains($0) }
        var sections: [String: (name: String, fields: [(String, String)])] = [:]
        let needsEngine = wanted("memory") || wanted("transactions") || wanted("keyspace")
        let stats = needsEngine ? context.worker.statistics() : EngineStatistics()
        if let server = context.server {
            for section in server.infoSections(engine: stats, wanted: wanted) {
                sections[section.name.lowercased()] = section
            }
            if wanted("commandstats") {
                sections["commandstats"] = ("Commandstats", server.statistics.commandStatsFields())
            }
            if wanted("errorstats") {
                sections["errorstats"] = ("Errorstats", server.statistics.errorStatsFields())
            }
        } else if wanted("memory") {
            sections["memory"] = (
                "Memory",
                [("used_memory", String(stats.usedMemory)), ("used_memory_human", InfoText.human(stats.usedMemory))]
            )
        }
        // Weft loads no modules: Redis prints the header with nothing under it.
        sections["modules"] = ("Modules", [])
        sections["transactions"] = (
            "Transactions",
            [
                ("tx_commits", String(stats.commits)),
                ("tx_aborts", String(stats.aborts)),
                ("tx_retries", String(stats.retries)),
                ("tx_fallbacks_to_locking", String(stats.fallbacks)),
                ("tx_exclusive_runs", String(stats.exclusiveRuns)),
                ("tx_watch_failures", String(stats.watchFailures)),
                (
                    "tx_instantaneous_conflicts_per_sec",
                    context.server.map { String(Int($0.statistics.instantaneousAbortsPerSecond().rounded())) } ?? "0"
                ),
            ]
        )
        if wanted("keyspace") {
            var keyspace: [(String, String)] = []
            // Inside EXEC, the transaction's own earlier writes count too (as DBSIZE's do).
            for (index, committed) in stats.keysPerDatabase.enumerated() {
                let keys = committed + (context.transaction?.pendingKeyCountChange(database: index) ?? 0)
                guard keys > 0 else { continue }
                let expires =
                    context.worker.expiresCount(database: index)
                    + (context.transaction?.pendingExpiresCountChange(database: index) ?? 0)
                keyspace.append(("db\(index)", "keys=\(keys),expires=\(expires),avg_ttl=0"))
            }
            sections["keyspace"] = ("Keyspace", keyspace)
        }
        var text = ""
        for key in InfoSelection.order where wanted(key) {
            guard let section = sections[key] else { continue }
            if !text.isEmpty { text += "\r\n" }
            text += "# \(section.name)\r\n"
            for (name, value) in section.fields {
                text += "\(name):\(value)\r\n"
            }
        }
        return text
    }
}

/// The INFO sections a request names.
struct InfoSelection {
    /// Every section Weft prints, in Redis's order (Weft's `transactions` before the keyspace, which Redis puts last).
    static let order = [
        "server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "commandstats",
        "errorstats", "cluster", "transactions", "keyspace",
    ]
    /// `INFO` and `INFO default`: all but commandstats (and Redis's latencystats, which Weft does not keep).
    static let defaults: Set<String> = Set(InfoSelection.order).subtracting(["commandstats"])
    /// `INFO all` and `INFO everything` (Weft has no module sections to tell them apart).
    static let all: Set<String> = Set(InfoSelection.order)

    /// Lowercase section names.
    var names: Set<String> = []

    init(_ requested: [String]) {
        if requested.isEmpty {
            self.names = InfoSelection.defaults
            return
        }
        for name in requested {
            switch name {
            case "all", "everything": self.names.formUnion(InfoSelection.all)
            case "default": self.names.formUnion(InfoSelection.defaults)
            default: self.names.insert(name)
            }
        }
    }
}

/// Numbers as INFO prints them.
package enum InfoText {
    /// Bytes as Redis's bytesToHuman writes them (512B, 1.50K, 2.00M, 3.00G, 1.00T).
    package static func human(_ bytes: Int) -> String {
        let value = Double(bytes)
        if bytes < 1024 { return "\(bytes)B" }
        if bytes < 1 << 20 { return InfoText.fixed(value / 1024) + "K" }
        if bytes < 1 << 30 { return InfoText.fixed(value / Double(1 << 20)) + "M" }
        if bytes < 1 << 40 { return InfoText.fixed(value / Double(1 << 30)) + "G" }
        return InfoText.fixed(value / Double(1 << 40)) + "T"
    }

    /// A number with two decimals, as Redis prints `%.2f`.
    package static func fixed(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = abs(hundredths % 100)
        let sign = hundredths < 0 && hundredths / 100 == 0 ? "-" : ""
        return "\(sign)\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Seconds with six decimals, as Redis prints CPU times (`%ld.%06ld`).
    package static func seconds(_ seconds: Int, microseconds: Int) -> String {
        let micros = String(microseconds)
        return "\(seconds)." + String(repeating: "0", count: max(0, 6 - micros.count)) + micros
    }
}
