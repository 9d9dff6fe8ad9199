import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `--no-pager`, for the commands whose text can run to many screens.
struct PagerOptions: ParsableArguments {
    @Flag(name: .customLong("no-pager"), help: "Do not page long text on a terminal (C4CSR_PAGER or PAGER, else less).")
    var noPager = false
}

/// Long text on a terminal goes through a pager, as git's does: `C4CSR_PAGER`, else
/// `PAGER`, else `less` (with `LESS=FRX` unless set: it quits at once when the text fits
/// one screen and keeps the terminal's contents). Never when standard output is not a
/// terminal, with `--no-pager`, `--json`, or a pager of `cat` or "".
enum Pager {
    nonisolated(unsafe) private static var child: pid_t?

    /// Starts the pager and points standard output (and standard error, if it is the
    /// terminal too) at it. Call `finish` before the process exits.
    static func start(_ options: PagerOptions, json: Bool = false) {
        guard !options.noPager, !json, child == nil, isatty(STDOUT_FILENO) == 1 else { return }
        let environment = ProcessInfo.processInfo.environment
        let command = (environment["C4CSR_PAGER"] ?? environment["PAGER"] ?? "less").trimmingCharacters(in: .whitespaces)
        guard !command.isEmpty, command != "cat" else { return }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        // Neither end may leak into the pager: it would never see the end of its input.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO)
        var env = environment
        if env["LESS"] == nil { env["LESS"] = "FRX" }
        if env["LV"] == nil { env["LV"] = "-c" }
        let words: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, envp)
        close(fds[0])
        guard spawned == 0 else {
            close(fds[1])
            return
        }
        child = pid
        let stderrToo = isatty(STDERR_FILENO) == 1
        dup2(fds[1], STDOUT_FILENO)
        if stderrToo { dup2(fds[1], STDERR_FILENO) }
        close(fds[1])
    }

    /// Ends the pager's input and waits until the reader quits it.
    static func finish() {
        guard let pid = child else { return }
        child = nil
        close(STDOUT_FILENO)
        close(STDERR_FILENO)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
    }
}
