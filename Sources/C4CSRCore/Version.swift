/// This build's version (`c4csr --version`, the `c4csr_build_info` metric).
public enum C4CSRVersion {
    public static let string = "0.1.0"
}
