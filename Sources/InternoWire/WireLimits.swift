import InternoModel

/// The numbers both ends agree on (Protocol/README.md, "Limits").
public enum WireLimits {
    /// The protocol version this build speaks.
    public static let protocolVersion: UInt32 = 1
    /// The largest frame body, in bytes: 16 MiB.
    public static let maximumFrameBytes = 16 * 1024 * 1024
    /// The most change sets in one Push.
    public static let maximumPushSets = 2_000
    /// The most changes the server sends in one Changes (a set is never split, so one set may go over).
    public static let maximumPullChanges = 5_000
    /// The most records one VerifyResult lists (Protocol/README.md, 5.9): 8 MB of digests.
    public static let maximumVerifyRecords = 200_000
    /// The most records one Fetch names.
    public static let maximumFetchRecords = 1_000
    /// The longest text of any field, in bytes, well under a frame; the schema checks it too.
    public static let maximumTextBytes = Schema.maximumTextBytes
    /// The longest author of a change, in bytes; the schema checks it too.
    public static let maximumAuthorBytes = Schema.maximumAuthorBytes
}
