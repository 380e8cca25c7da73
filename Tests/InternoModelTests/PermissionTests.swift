import Foundation
import Testing

@testable import InternoModel

/// One test per row of the permission table of DESIGN §6.
@Suite("Who may write what (DESIGN §6)")
struct PermissionTests {
    // MARK: department: admin only

    @Test func theAdminWritesDepartmentsAndNoDepartmentDoes() throws {
        var world = World()
        let it = world.departments["IT"]!
        try world.write(.department, it, ["name": .text("Information Technology")], as: .admin)
        #expect(world.value(it, "name") == .text("Information Technology"))
        expectRefusal(.notPermitted, "IT may not write department IT", "server administrator") {
            try world.write(.department, it, ["name": .text("Hijacked")], by: "IT")
        }
        expectRefusal(.immutable, "code") { try world.write(.department, it, ["code": .text("ITX")], as: .admin) }
    }

    // MARK: standard

    @Test(arguments: ["HR", "IT"])
    func eitherPartyProposesAndEditsWhileProposed(proposer: String) throws {
        var world = World()
        let id = try world.newStandard(by: proposer)
        try world.write(.standard, id, ["ackTarget": .duration(7200)], by: proposer == "HR" ? "IT" : "HR")
        #expect(world.value(id, "ackTarget") == .duration(7200))
        expectRefusal(.notPermitted, "FAC may not set the service", "HR", "IT") {
            try world.write(.standard, id, ["service": .text("x")], by: "FAC")
        }
    }

    @Test func aThirdDepartmentCannotProposeBetweenOthers() {
        var world = World()
        expectRefusal(.notPermitted, "FAC may not propose") { _ = try world.newStandard(by: "FAC") }
    }

    @Test func eachPartySignsOnlyItsOwnSignature() throws {
        var world = World()
        let id = try world.newStandard()
        let terms = world.terms(id)
        try world.write(.standard, id, ["providerSignature": .text(terms)], by: "IT")
        expectRefusal(.notPermitted, "HR may not set the provider's signature", "provider department IT") {
            try world.write(.standard, id, ["providerSignature": .text(terms)], by: "HR")
        }
        #expect(!Schema.isAgreed(world.records[id]!))
        try world.write(.standard, id, ["customerSignature": .text(terms)], by: "HR")
        #expect(Schema.isAgreed(world.records[id]!))
    }

    @Test func aSignatureOnEarlierTermsDoesNotCount() throws {
        var world = World()
        let id = try world.newStandard()
        let old = world.terms(id)
        try world.write(.standard, id, ["providerSignature": .text(old)], by: "IT")
        try world.write(.standard, id, ["deliverTarget": .duration(86_400 * 3)], by: "HR")
        expectRefusal(.invalidValue, "other terms", "sign again") {
            try world.write(.standard, id, ["customerSignature": .text(old)], by: "HR")
        }
        try world.write(.standard, id, ["customerSignature": .text(world.terms(id))], by: "HR")
        #expect(!Schema.isAgreed(world.records[id]!), "IT signed the earlier terms only")
        try world.write(.standard, id, ["providerSignature": .text(world.terms(id))], by: "IT")
        #expect(Schema.isAgreed(world.records[id]!))
    }

    @Test func anAgreedStandardIsNeverEditedInPlaceButEitherPartyOrTheAdminRetiresIt() throws {
        var world = World()
        let id = try world.newStandard()
        let terms = world.terms(id)
        try world.write(.standard, id, ["providerSignature": .text(terms)], by: "IT")
        try world.write(.standard, id, ["customerSignature": .text(terms)], by: "HR")
        expectRefusal(.notPermitted, "is agreed", "supersedes") {
            try world.write(.standard, id, ["csatTarget": .integer(50)], by: "HR")
        }
        expectRefusal(.notPermitted, "FAC may not set the retired", "HR", "IT") {
            try world.write(.standard, id, ["retired": .bool(true)], by: "FAC")
        }
        expectRefusal(.notPermitted, "may only retire") {
            try world.write(.standard, id, ["csatTarget": .integer(50)], as: .admin)
        }
        try world.write(.standard, id, ["retired": .bool(true)], by: "HR")
        #expect(world.value(id, "retired") == .bool(true))
        expectRefusal(.invalidValue, "stays retired") {
            try world.write(.standard, id, ["retired": .bool(false)], by: "IT")
        }
        let other = try world.newStandard()
        try world.write(.standard, other, ["retired": .bool(true)], as: .admin)
        #expect(world.value(other, "retired") == .bool(true))
    }

    @Test func aStandardSupersedesOnlyOneBetweenTheSameDepartments() throws {
        var world = World()
        let old = try world.newStandard()
        var fields = world.records[old]!.fields.mapValues { $0[0].value }
        fields = fields.filter { Schema.standardTerms.contains($0.key) || $0.key == "provider" || $0.key == "customer" }
        fields["supersedes"] = .id(old)
        try world.write(.standard, UUID(), fields, by: "HR")
        fields["customer"] = world.department("FAC")
        expectRefusal(.invalidValue, "same provider and customer") {
            try world.write(.standard, UUID(), fields, by: "IT")
        }
    }

    // MARK: request

    @Test func theCustomerRaisesARequestAndNoOneElseOnItsBehalf() throws {
        var world = World()
        _ = try world.newRequest()
        let onBehalf: [FieldName: FieldValue] = [
            "key": .text("IT-LIS-1"), "customer": world.department("HR"), "provider": world.department("IT"),
            "title": .text("Forged"), "priority": .text("normal"), "state": .text("submitted"),
        ]
        expectRefusal(.notPermitted, "IT may not raise a request on behalf of HR") {
            try world.write(.request, UUID(), onBehalf, by: "IT")
        }
    }

    @Test func theCustomerEditsTitleDetailsPriorityAndNeededByWhileOpen() throws {
        var world = World()
        let id = try world.newRequest()
        try world.write(
            .request, id,
            [
                "title": .text("Laptop and dock"), "details": .text("16 GB"), "priority": .text("high"),
                "neededBy": .time(Timestamp(millisecondsSince1970: 5_000_000)),
            ], by: "HR")
        #expect(world.value(id, "priority") == .text("high"))
        expectRefusal(.notPermitted, "IT may not set the title of request HR-LIS-1", "customer department HR") {
            try world.write(.request, id, ["title": .text("x")], by: "IT")
        }
        try world.take(id, "start", "deliver", "confirm")
        expectRefusal(.notPermitted, "only change while it is open", "closed") {
            try world.write(.request, id, ["priority": .text("low")], by: "HR")
        }
    }

    @Test(arguments: ["ack", "start", "decline"])
    func onlyTheProviderTakesItsStepsFromSubmitted(verb: String) throws {
        var world = World()
        let id = try world.newRequest()
        let step = Schema.requestLifecycle.step(named: verb)!
        let fields = world.stepFields(id, verb)
        expectRefusal(.notPermitted, "HR may not \(verb) request HR-LIS-1", "only the provider department IT may") {
            try world.write(.request, id, fields, by: "HR")
        }
        try world.write(.request, id, fields, by: "IT")
        #expect(world.value(id, "state") == .text(step.to))
    }

    @Test(arguments: ["wait", "deliver"])
    func onlyTheProviderTakesItsStepsFromInProgress(verb: String) throws {
        var world = World()
        let id = try world.newRequest()
        try world.take(id, "start")
        expectRefusal(.notPermitted, "HR may not \(verb)") {
            try world.write(.request, id, world.stepFields(id, verb), by: "HR")
        }
        try world.write(.request, id, world.stepFields(id, verb), by: "IT")
    }

    @Test func onlyTheProviderResumes() throws {
        var world = World()
        let id = try world.newRequest()
        try world.take(id, "start", "wait")
        expectRefusal(.notPermitted, "HR may not resume") {
            try world.write(.request, id, ["state": .text("in_progress")], by: "HR")
        }
        try world.take(id, "resume")
    }

    @Test(arguments: ["confirm", "reopen"])
    func onlyTheCustomerConfirmsOrReopensADelivery(verb: String) throws {
        var world = World()
        let id = try world.newRequest()
        try world.take(id, "start", "deliver")
        let step = Schema.requestLifecycle.step(named: verb)!
        expectRefusal(.notPermitted, "IT may not \(verb) request HR-LIS-1: only the customer department HR may") {
            try world.write(.request, id, ["state": .text(step.to)], by: "IT")
        }
        try world.write(.request, id, ["state": .text(step.to)], by: "HR")
    }

    @Test func onlyTheCustomerCancelsAnOpenRequest() throws {
        var world = World()
        let id = try world.newRequest()
        try world.take(id, "ack")
        expectRefusal(.notPermitted, "IT may not cancel") {
            try world.write(.request, id, ["state": .text("cancelled")], by: "IT")
        }
        try world.take(id, "cancel")
        expectRefusal(.invalidTransition, "from cancelled it can nothing") {
            try world.write(.request, id, ["state": .text("in_progress")], by: "IT")
        }
    }

    @Test func onlyTheProviderAssigns() throws {
        var world = World()
        let id = try world.newRequest()
        try world.write(.request, id, ["assignee": .text("ana")], by: "IT")
        expectRefusal(.notPermitted, "HR may not set the assignee") {
            try world.write(.request, id, ["assignee": .text("bob")], by: "HR")
        }
        try world.write(.request, id, ["assignee": .null], by: "IT")
        #expect(world.value(id, "assignee") == .null)
    }

    @Test func aThirdDepartmentMayNotTouchARequest() throws {
        var world = World()
        let id = try world.newRequest()
        expectRefusal(.notPermitted, "FAC may not ack") {
            try world.write(.request, id, ["state": .text("acknowledged")], by: "FAC")
        }
    }

    // MARK: comment

    @Test(arguments: ["HR", "IT"])
    func bothPartiesCommentOnTheirRequests(code: String) throws {
        var world = World()
        let request = try world.newRequest()
        let comment = UUID()
        try world.write(.comment, comment, ["request": .id(request), "body": .text("ping")], by: code)
        expectRefusal(.immutable, "comments are immutable") {
            try world.write(.comment, comment, ["body": .text("edited")], by: code)
        }
    }

    @Test func aThirdDepartmentMayNotComment() throws {
        var world = World()
        let request = try world.newRequest()
        expectRefusal(.notPermitted, "FAC may not comment on request HR-LIS-1") {
            try world.write(.comment, UUID(), ["request": .id(request), "body": .text("hi")], by: "FAC")
        }
        expectRefusal(.notFound, "does not exist") {
            try world.write(.comment, UUID(), ["request": .id(UUID()), "body": .text("hi")], by: "HR")
        }
    }

    // MARK: feedback

    @Test func theCustomerRatesTheServiceAfterDelivery() throws {
        var world = World()
        let request = try world.newRequest()
        let id = Schema.feedbackID(request: request, by: .customer)
        let feedback: [FieldName: FieldValue] = [
            "request": .id(request), "by": .text("customer"), "rating": .integer(4), "effort": .integer(2),
        ]
        expectRefusal(.notPermitted, "comes after delivery", "submitted") {
            try world.write(.feedback, id, feedback, by: "HR")
        }
        try world.take(request, "start", "deliver")
        expectRefusal(.notPermitted, "IT may not rate the service", "customer department HR") {
            try world.write(.feedback, id, feedback, by: "IT")
        }
        try world.write(.feedback, id, feedback, by: "HR")
        try world.write(.feedback, id, ["comment": .text("quick, thanks")], by: "HR")
        expectRefusal(.notPermitted, "IT may not rate the service") {
            try world.write(.feedback, id, ["rating": .integer(1)], by: "IT")
        }
    }

    @Test func theProviderRatesTheCustomersCooperationButNotEffort() throws {
        var world = World()
        let request = try world.newRequest()
        try world.take(request, "start", "deliver")
        let id = Schema.feedbackID(request: request, by: .provider)
        let cooperation: [FieldName: FieldValue] = [
            "request": .id(request), "by": .text("provider"), "rating": .integer(5), "comment": .text("clear brief"),
        ]
        expectRefusal(.notPermitted, "HR may not rate the cooperation") {
            try world.write(.feedback, id, cooperation, by: "HR")
        }
        expectRefusal(.notPermitted, "effort") {
            try world.write(.feedback, id, cooperation.merging(["effort": .integer(3)]) { $1 }, by: "IT")
        }
        try world.write(.feedback, id, cooperation, by: "IT")
        expectRefusal(.malformed, "derived") {
            try world.write(.feedback, UUID(), cooperation, by: "IT")
        }
    }
}
