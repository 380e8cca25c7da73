import Foundation
import Testing

@testable import InternoModel

/// `Protocol/schema.json` says what ``Schema`` is, field by field, and the tables of
/// `Protocol/README.md` say what schema.json says: a change to one without the others fails.
///
/// `INTERNO_WRITE_SPEC=1` (what `Tools/generate-spec` sets) first rewrites schema.json from the
/// model, keeping its `checkOrder`, then the generated parts of the README from schema.json.
@Suite("The spec matches the schema (Protocol/schema.json)", .serialized)
struct SpecConformanceTests {
    static let writing = ProcessInfo.processInfo.environment["INTERNO_WRITE_SPEC"] == "1"

    /// Reads schema.json, after rewriting it from the model when writing.
    static func document() throws -> SpecDocument {
        if writing {
            let existing = try SpecFiles.load(SpecDocument.self, "schema.json")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(SpecDocument.model(checkOrder: existing.checkOrder))
            try (data + Data("\n".utf8)).write(to: SpecFiles.url("schema.json"))
        }
        return try SpecFiles.load(SpecDocument.self, "schema.json")
    }

    @Test func everyKindAndFieldIsAsTheModelSays() throws {
        let file = try Self.document()
        let model = SpecDocument.model(checkOrder: file.checkOrder)
        #expect(file.format == model.format)
        #expect(file.schemaVersion == model.schemaVersion)
        #expect(file.kinds.map(\.kind) == model.kinds.map(\.kind))
        for kind in model.kinds {
            guard let described = file.kinds.first(where: { $0.kind == kind.kind }) else { continue }
            #expect(described.parties == kind.parties, "parties of \(kind.kind)")
            #expect(described.fields.map(\.name) == kind.fields.map(\.name), "fields of \(kind.kind)")
            for field in kind.fields {
                guard let written = described.fields.first(where: { $0.name == field.name }) else { continue }
                #expect(written.type == field.type, "\(kind.kind).\(field.name): type")
                #expect(written.value == field.value, "\(kind.kind).\(field.name): Value member")
                #expect(written.policy == field.policy, "\(kind.kind).\(field.name): policy")
                #expect(written.required == field.required, "\(kind.kind).\(field.name): required")
                #expect(written.fixed == field.fixed, "\(kind.kind).\(field.name): fixed")
                #expect(written.nullable == field.nullable, "\(kind.kind).\(field.name): nullable")
                #expect(written.writers == field.writers, "\(kind.kind).\(field.name): writers")
                #expect(written.condition == field.condition, "\(kind.kind).\(field.name): condition")
                #expect(written.label == field.label, "\(kind.kind).\(field.name): label")
            }
        }
    }

    @Test func theLifecycleItsStepsAndWhatTheyWriteAreAsTheModelSays() throws {
        let file = try Self.document()
        let model = SpecDocument.model(checkOrder: file.checkOrder)
        #expect(file.lifecycles.count == model.lifecycles.count)
        for (written, lifecycle) in zip(file.lifecycles, model.lifecycles) {
            #expect(written.name == lifecycle.name)
            #expect(written.states == lifecycle.states)
            #expect(written.initial == lifecycle.initial)
            #expect(written.open == lifecycle.open)
            #expect(written.steps.map(\.verb) == lifecycle.steps.map(\.verb))
            for step in lifecycle.steps {
                #expect(written.steps.first { $0.verb == step.verb } == step, "step \(step.verb)")
            }
        }
        #expect(file.standardTerms == model.standardTerms)
    }

    @Test func textTimeAndRefusalRulesAreAsTheModelSays() throws {
        let file = try Self.document()
        let model = SpecDocument.model(checkOrder: file.checkOrder)
        #expect(file.text == model.text)
        #expect(file.text.forbiddenControls == ["U+0000..U+0008", "U+000B..U+001F", "U+007F..U+009F"])
        #expect(file.changes == model.changes)
        #expect(file.refusalCodes == model.refusalCodes)
        // The order of checks numbers them from 1 and names only codes that exist.
        #expect(file.checkOrder.map(\.step) == Array(1...file.checkOrder.count))
        let codes = Set(model.refusalCodes.map(\.code))
        #expect(file.checkOrder.allSatisfy { !$0.codes.isEmpty && Set($0.codes).isSubset(of: codes) })
        // And nothing else differs (a property added to one and not the other).
        let same = file == model
        #expect(same, "schema.json differs from the model: run Tools/generate-spec")
    }

    /// The tables of the README between `<!-- BEGIN schema.json: NAME -->` and its END marker
    /// are exactly what schema.json renders to.
    @Test func theReadmesTablesAreRenderedFromSchemaJSON() throws {
        let document = try Self.document()
        let url = SpecFiles.url("README.md")
        var readme = try String(contentsOf: url, encoding: .utf8)
        for (name, rendered) in document.markdown.sorted(by: { $0.key < $1.key }) {
            let begin = "<!-- BEGIN schema.json: \(name) -->\n"
            let end = "\n<!-- END schema.json: \(name) -->"
            guard let start = readme.range(of: begin),
                let stop = readme.range(of: end, range: start.upperBound..<readme.endIndex)
            else {
                Issue.record("Protocol/README.md has no generated part '\(name)'")
                continue
            }
            if Self.writing {
                readme.replaceSubrange(start.upperBound..<stop.lowerBound, with: rendered)
            } else {
                let written = readme[start.upperBound..<stop.lowerBound].split(
                    separator: "\n", omittingEmptySubsequences: false)
                let wanted = rendered.split(separator: "\n", omittingEmptySubsequences: false)
                let line =
                    zip(written, wanted).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    ?? min(written.count, wanted.count)
                #expect(
                    written == wanted,
                    "README part '\(name)' differs from schema.json at its line \(line + 1): run Tools/generate-spec")
            }
        }
        if Self.writing { try readme.write(to: url, atomically: true, encoding: .utf8) }
    }

    /// §7.1 lists every refusal code, by number and name, as schema.json does.
    @Test func theRefusalCodeTableListsEveryCode() throws {
        let document = try Self.document()
        let readme = try String(contentsOf: SpecFiles.url("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "### 7.1 Refusal codes"))
        let rows = readme[section.upperBound...].split(separator: "\n").drop { !$0.hasPrefix("| code") }.dropFirst(2)
            .prefix { $0.hasPrefix("|") }
        let listed = rows.map { row in
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return SpecDocument.RefusalCode(code: Int(cells[0]) ?? -1, name: cells[1])
        }
        #expect(listed == document.refusalCodes)
    }
}
