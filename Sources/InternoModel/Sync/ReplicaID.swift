import Foundation

/// The stable identity of one replica: an enrolled site, or the server.
public struct ReplicaID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The UUID that names the replica everywhere: in dots, certificates and the registry.
    public let uuid: UUID

    /// Wraps an existing UUID.
    public init(_ uuid: UUID) {
        self.uuid = uuid
    }

    /// A fresh, random replica id.
    public static func random() -> ReplicaID {
        ReplicaID(UUID())
    }

    /// Parses the canonical 36-character form; `nil` if `string` is not a UUID.
    public init?(uuidString string: String) {
        guard let uuid = UUID(text: string) else { return nil }
        self.uuid = uuid
    }

    public var description: String { uuid.text }

    /// Byte order, so that every replica sorts ids the same way.
    public static func < (lhs: ReplicaID, rhs: ReplicaID) -> Bool {
        lhs.uuid.lexicographicallyPrecedes(rhs.uuid)
    }
}

extension UUID {
    /// The 16 bytes of the UUID, in order.
    public var bytes: [UInt8] {
        withUnsafeBytes(of: uuid) { Array($0) }
    }

    /// Builds a UUID from exactly 16 bytes; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &raw) { buffer in
            // One copy from contiguous bytes (Data, arrays), as every id read from the wire is.
            let copied: Void? = bytes.withContiguousStorageIfAvailable {
                buffer.copyMemory(from: UnsafeRawBufferPointer($0))
            }
            if copied == nil { buffer.copyBytes(from: bytes) }
        }
        self.init(uuid: raw)
    }

    /// Compares two UUIDs byte by byte: a total order every platform agrees on.
    public func lexicographicallyPrecedes(_ other: UUID) -> Bool {
        withUnsafeBytes(of: uuid) { lhs in
            withUnsafeBytes(of: other.uuid) { rhs in
                lhs.lexicographicallyPrecedes(rhs)
            }
        }
    }
}
