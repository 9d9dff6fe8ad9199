import Foundation

/// The user this process runs as, for messages: "alice (uid 1000)".
public enum Account {
    public static var current: String { describe(uid: getuid()) }

    static func describe(uid: uid_t) -> String {
        guard let pw = getpwuid(uid), let name = pw.pointee.pw_name else { return "uid \(uid)" }
        return "\(String(cString: name)) (uid \(uid))"
    }
}

/// Why a file cannot be read by this process, as a sentence that names the file (or the
/// directory that blocks the way), its owner and mode, and the user we run as: "no city
/// here" or "the key is missing" would send an administrator looking for a file that
/// is there all along.
public enum FileAccess {
    /// `nil` when `path` can be read (and written, with `write`), or does not exist and nothing blocks the way to it;
    /// otherwise what stands in the way.
    public static func readProblem(_ path: String, write: Bool = false) -> String? {
        if access(path, write ? R_OK | W_OK : R_OK) == 0 { return nil }
        if errno == EACCES, let problem = blocked(path, verb: write ? "write" : "read") { return problem }
        // Missing, or hidden behind a directory this user may not enter.
        var url = URL(fileURLWithPath: path).standardizedFileURL
        var ancestors = [String]()
        while url.path != "/" {
            url.deleteLastPathComponent()
            ancestors.append(url.path)
        }
        for dir in ancestors.reversed() where access(dir, X_OK) != 0 && errno == EACCES {
            return blocked(dir, verb: "enter") ?? "cannot enter \(dir) as user \(Account.current)"
        }
        return nil
    }

    /// "cannot read P as user alice (uid 1000): it belongs to c4csr (uid 998), mode 0600;
    /// run c4csr as c4csr …".
    static func blocked(_ path: String, verb: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let owner = (attributes[.ownerAccountID] as? NSNumber).map({ uid_t($0.uint32Value) }),
              let permissions = attributes[.posixPermissions] as? Int else { return nil }
        let mode = String(permissions & 0o7777, radix: 8)
        var s = "cannot \(verb) \(path) as user \(Account.current): it belongs to \(Account.describe(uid: owner)), mode \(String(repeating: "0", count: max(0, 4 - mode.count)) + mode)"
        if owner != getuid(), let pw = getpwuid(owner), let name = pw.pointee.pw_name {
            let user = String(cString: name)
            s += "; run c4csr as that user (sudo -u \(user) c4csr …), or give the files to the user that runs c4csr (chown -R)"
        }
        return s
    }
}
