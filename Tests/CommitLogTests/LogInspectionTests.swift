import CommitLog
import Foundation
import Testing

@Suite("weft-log's checks: verify and repair")
struct LogInspectionTests {
    @Test("verify reports a clean log; a torn tail is reported, backed up and cut by repair")
    func verifyAndRepairTornTail() throws {
        try withTemporaryDirectory { directory in
            let records = makeRecords(count: 400)
            try writeLog(directory, records, configuration: smallConfiguration())
            let clean = try LogInspection.verify(directory: directory)
            #expect(clean.records == 400 && clean.end == .clean)
            #expect(clean.firstTID == 1 && clean.lastTID == 400)
            #expect(clean.segments > 1 && clean.blocks > 1)
            #expect(try LogInspection.repair(directory: directory, backup: directory + "-backup") == nil)

            let last = try segmentFiles(directory).last!
            let bytes = try fileBytes(last.path)
            try writeFile(last.path, bytes.dropLast(7))
            let torn = try LogInspection.verify(directory: directory)
            guard case .tornTail = torn.end else {
                Issue.record("expected a torn tail, got \(torn.end)")
                return
            }
            #expect(torn.records < 400)
            let backup = directory + "-backup"
            defer { try? FileManager.default.removeItem(atPath: backup) }
            let dropped = try #require(try LogInspection.repair(directory: directory, backup: backup))
            #expect(dropped.byteCount > 0)
            let repaired = try LogInspection.verify(directory: directory)
            #expect(repaired.end == .clean && repaired.records == torn.records)
            let name = last.path.split(separator: "/").last.map(String.init)!
            #expect(try fileBytes(backup + "/" + name) == Array(bytes.dropLast(7)))
        }
    }

    @Test("corruption before the tail fails verify and repair, unless truncation is allowed")
    func corruptionNeedsPermission() throws {
        try withTemporaryDirectory { directory in
            try writeLog(directory, makeRecords(count: 400), configuration: smallConfiguration(compression: false))
            let first = try segmentFiles(directory).first!
            var bytes = try fileBytes(first.path)
            bytes[LogFormat.headerSize + 3] ^= 0x40
            try writeFile(first.path, bytes)
            #expect(throws: LogError.self) { try LogInspection.verify(directory: directory) }
            let backup = directory + "-backup"
            defer { try? FileManager.default.removeItem(atPath: backup) }
            #expect(throws: LogError.self) { try LogInspection.repair(directory: directory, backup: backup) }
            #expect(try fileBytes(first.path) == bytes)
            let report = try LogInspection.verify(directory: directory, allowTruncation: true)
            guard case .truncated = report.end else {
                Issue.record("expected truncation, got \(report.end)")
                return
            }
            #expect(try LogInspection.repair(directory: directory, backup: backup, allowTruncation: true) != nil)
            #expect(try LogInspection.verify(directory: directory).end == .clean)
        }
    }
}
