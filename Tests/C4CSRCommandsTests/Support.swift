import Foundation
import Testing

/// The built `c4csr` binary (next to the test bundle), or `$C4CSR_BINARY`.
let c4csrBinary: String = {
    if let p = ProcessInfo.processInfo.environment["C4CSR_BINARY"] { return p }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // On Linux the test binary is <build>/debug/c4csrPackageTests.xctest; on macOS it is inside a bundle.
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("c4csr").path), dir.path != "/" {
        dir.deleteLastPathComponent()
    }
    return dir.appendingPathComponent("c4csr").path
}()

struct RunResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs the binary with `arguments`, bounded by `timeout` seconds; output goes through
/// files so that large outputs cannot dead-lock on a full pipe.
@discardableResult
func run(
    _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], timeout: TimeInterval = 60, asNobody: Bool = false,
    binary: String = c4csrBinary
) throws -> RunResult {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err"), inp = dir.appendingPathComponent("in")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    FileManager.default.createFile(atPath: err.path, contents: nil)
    FileManager.default.createFile(atPath: inp.path, contents: Data((stdin ?? "").utf8))
    let p = Process()
    if asNobody {
        // Another user than the files' owner (the tests run as root in CI).
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        p.arguments = ["--reuid", "65534", "--regid", "65534", "--clear-groups", binary] + arguments
    } else {
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
    }
    var env = ProcessInfo.processInfo.environment
    env["C4CSR_DATA_DIR"] = nil
    env["C4CSR_PEERS_DIR"] = nil
    env["C4CSR_CONFIG"] = ""  // never the machine's /etc/c4csr
    for (k, v) in environment { env[k] = v }
    p.environment = env
    p.standardOutput = try FileHandle(forWritingTo: out)
    p.standardError = try FileHandle(forWritingTo: err)
    p.standardInput = try FileHandle(forReadingFrom: inp)
    try p.run()
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    if p.isRunning {
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        Issue.record("c4csr \(arguments.joined(separator: " ")) did not finish within \(timeout) s")
    }
    p.waitUntilExit()
    return RunResult(
        status: p.terminationStatus, stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
        stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
}

func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("c4csr-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url)
}

func jsonObject(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

func jsonArray(_ text: String) throws -> [[String: Any]] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
}

/// A test's time limit in minutes: `minutes` for the bounded run in CI, or the value of
/// C4CSR_TIME_LIMIT_MINUTES for the long runs (thousands of seeds, hundreds of kills),
/// which would otherwise be stopped by the CI-sized limit.
func timeLimitMinutes(_ minutes: Int) -> Int {
    ProcessInfo.processInfo.environment["C4CSR_TIME_LIMIT_MINUTES"].flatMap(Int.init).map { max($0, minutes) } ?? minutes
}

/// Runs a shell command under `script`'s pseudo-terminal (standard output, error and
/// input are a terminal, as for a person); its exit status and everything it printed.
func runOnTerminal(_ command: String) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    p.arguments = ["-qec", command, "/dev/null"]
    let out = Pipe()
    p.standardOutput = out
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
