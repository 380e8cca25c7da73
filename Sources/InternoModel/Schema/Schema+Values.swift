import Foundation

extension Schema {
    /// Checks that `value` is acceptable for `field` of `kind`: type, range, length, enum
    /// membership, and the canonical form of structured text. Throws a refusal that names the
    /// rule and what would be accepted.
    public static func validate(_ value: FieldValue, for field: FieldSpec, of kind: RecordKind) throws(Refusal) {
        let subject = "the \(field.label) of a \(kind.rawValue)"
        func refuse(_ expectation: String) -> Refusal {
            Refusal(.invalidValue, "\(subject) must be \(expectation); got \(quoted(value))")
        }
        if value == .null {
            guard field.nullable else { throw Refusal(.invalidValue, "\(subject) cannot be cleared") }
            return
        }
        switch field.type {
        case .text(let minLength, let maxLength):
            guard let text = value.text else { throw refuse("text") }
            let length = text.count
            guard length >= minLength, length <= maxLength else {
                throw refuse(
                    minLength == 0 ? "at most \(maxLength) characters" : "\(minLength) to \(maxLength) characters")
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
            guard let text = value.text, members.contains(text) else {
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
            guard hours.description == text else { throw refuse("in canonical form, '\(hours)'") }
        case .dateList:
            guard let text = value.text else { throw refuse("a list of dates") }
            let dates: [CalendarDate]
            do { dates = try CalendarDate.parseList(text) } catch {
                throw Refusal(.invalidValue, "\(subject) is not valid: \(error.message)")
            }
            let canonical = dates.map(\.description).joined(separator: ", ")
            guard canonical == text else { throw refuse("in canonical form, '\(canonical)'") }
        case .priorityTargets:
            guard let text = value.text else { throw refuse("targets per priority") }
            let targets: PriorityTargets
            do { targets = try PriorityTargets(parsing: text) } catch {
                throw Refusal(.invalidValue, "\(subject) is not valid: \(error.message)")
            }
            guard targets.description == text else { throw refuse("in canonical form, '\(targets)'") }
        case .state(let lifecycle):
            guard let text = value.text, lifecycle.states.contains(text) else {
                throw refuse("one of \(lifecycle.states.joined(separator: ", "))")
            }
        case .fingerprint:
            guard let text = value.text, text.count == 16, text.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw refuse("a terms fingerprint of 16 lowercase hex digits")
            }
        }
    }

    /// `true` for a code: an uppercase ASCII letter, then uppercase letters or digits.
    public static func isCode(_ text: String, maxLength: Int) -> Bool {
        guard let first = text.unicodeScalars.first, text.unicodeScalars.count <= maxLength else { return false }
        func upper(_ scalar: Unicode.Scalar) -> Bool { ("A"..."Z").contains(scalar) }
        return upper(first) && text.unicodeScalars.allSatisfy { upper($0) || ("0"..."9").contains($0) }
    }

    private static func isForbiddenControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar != "\n" && scalar != "\t" && (scalar.value < 0x20 || scalar.value == 0x7F)
    }

    static func quoted(_ value: FieldValue) -> String {
        switch value {
        case .text(let text): "'\(text.count > 60 ? String(text.prefix(57)) + "..." : text)'"
        case .null: "nothing"
        default: "\(value) (\(value.typeName))"
        }
    }
}
