/// Redis's `client-output-buffer-limit`: per client class, a hard limit, a soft limit and its seconds.
///
/// Only the `normal` class applies today (pub/sub and replicas arrive later): a client whose unsent replies pass the
/// hard limit is closed at once, and one whose replies stay over the soft limit for its seconds is closed by the
/// housekeeper. 0 means no limit, as Redis's default for normal clients.
package struct OutputBufferLimits: Sendable, Equatable {
    package struct Limit: Sendable, Equatable {
        package var hard: Int
        package var soft: Int
        package var seconds: Int
    }

    package var normal = Limit(hard: 0, soft: 0, seconds: 0)
    package var replica = Limit(hard: 256 << 20, soft: 64 << 20, seconds: 60)
    package var pubsub = Limit(hard: 32 << 20, soft: 8 << 20, seconds: 60)

    package init() {}

    /// The value as CONFIG GET shows it.
    package var description: String {
        "normal \(self.normal.hard) \(self.normal.soft) \(self.normal.seconds) "
            + "slave \(self.replica.hard) \(self.replica.soft) \(self.replica.seconds) "
            + "pubsub \(self.pubsub.hard) \(self.pubsub.soft) \(self.pubsub.seconds)"
    }

    /// Why `applying` refused its words: Redis's message.
    package struct Invalid: Error, Equatable {
        package let message: String
    }

    /// Applies `<class> <hard> <soft> <seconds>` groups, all or none, checked in the order and with the messages of
    /// Redis's `setConfigClientOutputBufferLimitOption` (no groups at all change nothing).
    package func applying(_ words: [String]) throws(Invalid) -> OutputBufferLimits {
        guard words.count % 4 == 0 else {
            throw Invalid(message: "Wrong number of arguments in buffer limit configuration.")
        }
        var result = self
        for start in stride(from: 0, to: words.count, by: 4) {
            let kind = words[start].lowercased()
            guard ["normal", "replica", "slave", "pubsub"].contains(kind) else {
                throw Invalid(message: "Invalid client class specified in buffer limit configuration.")
            }
            guard let hard = OutputBufferLimits.memory(words[start + 1]),
                let soft = OutputBufferLimits.memory(words[start + 2]),
                let seconds = Int(words[start + 3]), seconds >= 0
            else {
                throw Invalid(message: "Error in hard, soft or soft_seconds setting in buffer limit configuration.")
            }
            let limit = Limit(hard: hard, soft: soft, seconds: seconds)
            switch kind {
            case "normal": result.normal = limit
            case "pubsub": result.pubsub = limit
            default: result.replica = limit
            }
        }
        return result
    }

    /// Redis's memtoll: a number with an optional unit (k = 1000, kb = 1024, m, mb, g, gb).
    package static func memory(_ text: String) -> Int? {
        let lower = text.lowercased()
        let units: [(String, Int)] = [
            ("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("g", 1_000_000_000), ("m", 1_000_000), ("k", 1000),
            ("b", 1),
        ]
        for (suffix, multiplier) in units where lower.hasSuffix(suffix) {
            guard let number = Int(lower.dropLast(suffix.count)), number >= 0 else { return nil }
            let (value, overflow) = number.multipliedReportingOverflow(by: multiplier)
            return overflow ? nil : value
        }
        guard let number = Int(lower), number >= 0 else { return nil }
        return number
    }
}
