import Foundation

/// Files written with their final mode from the start, so a private key is never readable by
/// others, and synced before the call returns.
public enum SecureFile {
    /// Creates (or truncates) `path` with `mode`, writes `data`, and syncs it.
    public static func write(_ data: Data, to path: String, mode: mode_t) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
        guard descriptor >= 0 else { throw StoreError.io("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        // An existing file keeps its old mode through O_CREAT: set it explicitly.
        guard fchmod(descriptor, mode) == 0 else { throw StoreError.io("cannot set the mode of \(path)") }
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                guard written > 0 else {
                    throw StoreError.io("cannot write \(path): \(String(cString: strerror(errno)))")
                }
                offset += written
            }
        }
        guard fsync(descriptor) == 0 else { throw StoreError.io("cannot sync \(path)") }
    }
}
