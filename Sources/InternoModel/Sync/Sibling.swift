/// One of possibly several concurrent values of a field, with the write that made it.
public struct Sibling: Hashable, Sendable {
    /// The write that made this value.
    public var dot: Dot
    /// The value written.
    public var value: FieldValue
    /// Who wrote it.
    public var author: String
    /// When, by the writer's clock.
    public var at: Timestamp

    /// A sibling made by the write `dot`.
    public init(dot: Dot, value: FieldValue, author: String, at: Timestamp) {
        self.dot = dot
        self.value = value
        self.author = author
        self.at = at
    }
}
