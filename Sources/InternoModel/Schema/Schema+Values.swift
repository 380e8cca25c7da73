import Foundation

extension Schema {
    /// The most UTF-8 bytes of any text value: the wire's limit, checked here too so that a
    /// site never accepts locally a write it could never push.
    public static let maximumTextBytes = 65_536

    /// The most UTF-8 bytes of a change's author, for the same reason.
    public static let maximumAuthorBytes = 200

    /// Checks that `value` is acceptable for `field` of `kind`: type, range, length, enum
    /// membership, and the canonical form of structured text. Throws a refusal that names the
    /// rule and what would be accepted.
    ///
    /// Members and canonical forms are compared byte for byte (UTF-8), not by Swift's `==`,
    /// which would take a canonically equivalent text (U+037E for `;`) as the same.
    public static func validate(_ value: FieldValue, for field: FieldSpec, of kind: RecordKind) throws(Refusal) {
        // Named only in a refusal: every accepted field of every write would build it.
        var subject: String { "the \(field.label) of \(kind.withArticle)" }
        // A value of the right type out of its range says only the value ("got 6"); one of
        // another type says which type it was ("got 6 (a whole number)").
        let rightType =
            switch (field.type, value) {
            case (.integer, .integer), (.duration, .duration), (.time, .time), (.bool, .bool), (.reference, .id): true
            default: false
            }
        func refuse(_ expectation: String) -> Refusal {
            Refusal(.invalidValue, "\(subject) must be \(expectation); got \(quoted(value, typed: !rightType))")
        }
        if value == .null {
            guard field.nullable else { throw Refusal(.invalidValue, "\(subject) cannot be cleared") }
            return
        }
        if let text = value.text, text.utf8.count > maximumTextBytes {
            throw Refusal(
                .invalidValue,
                "\(subject) is \(text.utf8.count) bytes long; text may be at most \(maximumTextBytes) bytes")
        }
        switch field.type {
        case .text(let minLength, let maxLength):
            guard let text = value.text else { throw refuse("text") }
            // A text has at most as many characters as UTF-8 bytes, and one at least if it has a
            // byte: the characters (grapheme breaking) need counting only when that cannot tell.
            let bytes = text.utf8.count
            if bytes > maxLength || minLength > 1 || (minLength == 1 && bytes == 0) {
                let length = text.count
                guard length >= minLength, length <= maxLength else {
                    throw refuse(
                        minLength == 0 ? "at most \(maxLength) characters" : "\(minLength) to \(maxLength) characters")
                }
            }
            guard !text.unicodeScalars.contains(where: { isForbiddenControl($0) }) else {
                throw refuse("text without control characters (new lines and tabs are fine)")
            }
        case .code(let maxLength):
            guard let text = value.text, isCode(text, maxLength: maxLength) else {
                throw refuse(
                    "an uppercase letter then up to \(maxLength - 1) uppercase letters or digits, like IT or HR2")
            }
        case .enumeration(let members):
            guard let text = value.text, members.contains(where: { same($0, text) }) else {
                throw refuse("one of \(members.joined(separator: ", "))")
            }
        case .integer(let range):
            guard let number = value.integer, range.contains(number) else {
                throw refuse("a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
        case .duration(let range):
            guard let seconds = value.duration, range.contains(seconds) else {
                let low = DurationText.format(seconds: range.lowerBound)
                let high = DurationText.format(seconds: range.upperBound)
                throw refuse("a duration from \(low) to \(high), like 4h or 2d")
            }
        case .time:
            guard value.time != nil else { throw refuse("a time") }
        case .bool:
            guard value.bool != nil else { throw refuse("yes or no") }
        case .reference(let target):
            guard value.id != nil else { throw refuse("the id of a \(target.rawValue)") }
        case .timeZone:
            guard let text = value.text, TimeZone(identifier: text) != nil else {
                throw refuse("a time zone name like Europe/Lisbon or UTC")
            }
        case .weeklyHours:
            guard let text = value.text else { throw refuse("business hours like 'mon-fri 09:00-17:00'") }
            let hours: WeeklyHours
            do { hours = try WeeklyHours(parsing: text) } catch {
                throw Refusal(.invalidValue, "\(subject) is not valid: \(error.message)")
            }
            guard same(hours.description, text) else { throw refuse("in canonical form, '\(hours)'") }
        case .dateList:
            guard let text = value.text else { throw refuse("a list of dates") }
            let dates: [CalendarDate]
            do { dates = try CalendarDate.parseList(text) } catch {
                throw Refusal(.invalidValue, "\(subject) is not valid: \(error.message)")
            }
            let canonical = dates.map(\.description).joined(separator: ", ")
            guard same(canonical, text) else { throw refuse("in canonical form, '\(canonical)'") }
        case .priorityTargets(let bounds):
            guard let text = value.text else { throw refuse("targets per priority") }
            let targets: PriorityTargets
            do { targets = try PriorityTargets(parsing: text) } catch {
                throw Refusal(.invalidValue, "\(subject) is not valid: \(error.message)")
            }
            guard same(targets.description, text) else { throw refuse("in canonical form, '\(targets)'") }
            for (priority, target) in targets.targets.sorted(by: { $0.key < $1.key })
            where !bounds.contains(target.acknowledge) || !bounds.contains(target.deliver) {
                let low = DurationText.format(seconds: bounds.lowerBound)
                let high = DurationText.format(seconds: bounds.upperBound)
                throw refuse("targets from \(low) to \(high), like the time to acknowledge; \(priority)'s are not")
            }
        case .state(let lifecycle):
            guard let text = value.text, lifecycle.states.contains(where: { same($0, text) }) else {
                throw refuse("one of \(lifecycle.states.joined(separator: ", "))")
            }
        case .fingerprint:
            guard let text = value.text, text.utf8.count == 16,
                text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
            else {
                throw refuse("a terms fingerprint of 16 lowercase hex digits")
            }
        case .period:
            guard let text = value.text, isPeriod(text) else {
                throw refuse(
                    "a period: a year like 2026, a half like 2026-H2, a quarter like 2026-Q4 or a month like 2026-11")
            }
        case .invitations(let maxItems):
            let expectation =
                "from 1 to \(maxItems) department ids, each once, sorted, each alone or with =N people invited (N from 1 to 100000), joined by commas"
            guard let text = value.text, parseInvitations(text).map({ (1...maxItems).contains($0.count) }) == true
            else { throw refuse(expectation) }
        case .lines(let maxItems, let maxLength):
            let expectation =
                "up to \(maxItems) different lines of 1 to \(maxLength) characters, with no space at either end"
            guard let text = value.text else { throw refuse(expectation) }
            let items = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            guard items.count <= maxItems, Set(items).count == items.count,
                items.allSatisfy({ isLine($0, maxLength: maxLength) })
            else { throw refuse(expectation) }
        }
    }

    /// The departments of a canonical ``FieldType/invitations(maxItems:)`` text, with the
    /// people invited in each when given; `nil` when the text is not canonical.
    public static func parseInvitations(_ text: String) -> [(department: UUID, invited: Int?)]? {
        var result: [(department: UUID, invited: Int?)] = []
        var previous: String?
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let idText = String(parts[0])
            guard let id = UUID(text: idText), same(id.text, idText) else { return nil }
            if let previous, !(previous.utf8.lexicographicallyPrecedes(idText.utf8)) { return nil }
            previous = idText
            var invited: Int?
            if parts.count == 2 {
                let digits = parts[1]
                guard let number = Int(digits), (1...100_000).contains(number), same(String(number), String(digits))
                else { return nil }
                invited = number
            }
            result.append((id, invited))
        }
        return result.isEmpty ? nil : result
    }

    /// The canonical text of invitations, from departments and the people invited in each.
    public static func invitationsText(_ invitations: [(department: UUID, invited: Int?)]) -> String {
        invitations.sorted { $0.department.text.utf8.lexicographicallyPrecedes($1.department.text.utf8) }
            .map { $0.department.text + ($0.invited.map { "=\($0)" } ?? "") }.joined(separator: ",")
    }

    /// `true` for a period in canonical form: `YYYY`, `YYYY-H1`/`H2`, `YYYY-Q1`…`Q4` or
    /// `YYYY-MM`, the year from 2000 to 9999.
    public static func isPeriod(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 4, bytes[..<4].allSatisfy({ (0x30...0x39).contains($0) }), bytes[0] != 0x30,
            let year = Int(String(decoding: bytes[..<4], as: UTF8.self)), year >= 2000
        else { return false }
        let rest = String(decoding: bytes[4...], as: UTF8.self)
        if rest.isEmpty { return true }
        if ["-H1", "-H2", "-Q1", "-Q2", "-Q3", "-Q4"].contains(where: { same($0, rest) }) { return true }
        guard rest.utf8.count == 3, rest.utf8.first == 0x2D, let month = Int(rest.dropFirst()),
            rest.utf8.dropFirst().allSatisfy({ (0x30...0x39).contains($0) })
        else { return false }
        return (1...12).contains(month)
    }

    /// `true` for one item of a ``FieldType/lines(maxItems:maxLength:)`` field: 1...`maxLength`
    /// characters, no control character (tabs and line feeds included), no space at either end.
    static func isLine(_ item: String, maxLength: Int) -> Bool {
        guard (1...maxLength).contains(item.count), let first = item.unicodeScalars.first,
            let last = item.unicodeScalars.last
        else { return false }
        return !first.properties.isWhitespace && !last.properties.isWhitespace
            && !item.unicodeScalars.contains(where: { isForbiddenControl($0) || $0 == "\n" || $0 == "\t" })
    }

    /// The canonical text of a list of lines as people type them: each item trimmed, empty
    /// ones dropped, repeats dropped (the first kept); whether it is then acceptable is
    /// ``validate(_:for:of:)``'s to say.
    public static func canonicalLines(_ items: [String]) -> String {
        var seen: Set<String> = []
        var kept: [String] = []
        for item in items {
            let trimmed = item.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, seen.insert(trimmed).inserted else { continue }
            kept.append(trimmed)
        }
        return kept.joined(separator: "\n")
    }

    /// `true` for a code: an uppercase ASCII letter, then uppercase letters or digits.
    public static func isCode(_ text: String, maxLength: Int) -> Bool {
        guard let first = text.unicodeScalars.first, text.unicodeScalars.count <= maxLength else { return false }
        func upper(_ scalar: Unicode.Scalar) -> Bool { ("A"..."Z").contains(scalar) }
        return upper(first) && text.unicodeScalars.allSatisfy { upper($0) || ("0"..."9").contains($0) }
    }

    /// `true` for a control character (Unicode general category Cc: U+0000–U+001F and
    /// U+007F–U+009F) other than tab and line feed. C1 controls are refused like C0 ones: a
    /// terminal may act on U+009B as on ESC [. Line and paragraph separators (U+2028, U+2029)
    /// and format characters are not controls and are accepted.
    public static func isForbiddenControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar != "\n" && scalar != "\t" && (scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value))
    }

    /// `true` when `a` and `b` are the same bytes.
    static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8)
    }

    /// `value` for a message; with its type when `typed`, as when it is not of the type expected.
    static func quoted(_ value: FieldValue, typed: Bool = true) -> String {
        switch value {
        case .text(let text): "'\(text.count > 60 ? String(text.prefix(57)) + "..." : text)'"
        case .null: "nothing"
        case .duration(let seconds) where !typed: DurationText.format(seconds: seconds)
        default: typed ? "\(value) (\(value.typeName))" : "\(value)"
        }
    }
}
