/// The version of Interno: the executables print it with `--version`.
public enum InternoVersion {
    /// Semantic version of this build.
    public static let string = "0.1.0"
}
