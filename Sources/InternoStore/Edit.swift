import Foundation
import InternoModel

/// One record's fields to write locally; the store supplies the dot, context, author and time.
public struct Edit: Sendable, Hashable {
    /// The kind of record.
    public var kind: RecordKind
    /// The record; a new id creates it.
    public var recordID: UUID
    /// The fields to write.
    public var fields: [FieldName: FieldValue]

    /// Writes `fields` of the `kind` record `recordID`.
    public init(_ kind: RecordKind, _ recordID: UUID, _ fields: [FieldName: FieldValue]) {
        self.kind = kind
        self.recordID = recordID
        self.fields = fields
    }
}
