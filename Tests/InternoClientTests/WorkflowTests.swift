import Foundation
import InternoModel
import InternoServer
import InternoStore
import Testing

@testable import InternoClient

private func time(_ text: String) -> Timestamp { Timestamp(iso8601: text)! }

/// The exit code a failing operation maps to, and its message; `nil` if it succeeded.
private func failure(_ body: () throws -> Void) -> (code: Int32, message: String)? {
    do { try body() } catch let error as ClientError { return (error.exitCode, error.description) } catch {
        return (-1, "\(error)")
    }
    return nil
}

private let laptops = StandardTerms(
    service: "Laptops", acknowledge: "4h", deliver: "1d", notice: "5d", answer: "1d", confirm: "2d", csat: 80,
    compliance: 90)

/// IT proposes, HR signs: an agreed standard on both sites.
private func agreedStandard(_ sites: OfflineSites) throws -> String {
    let proposed = try sites.it.proposeStandard(customer: "HR", terms: laptops)
    try sites.exchange()
    _ = try sites.hr.signStandard(proposed.ref)
    try sites.exchange()
    return proposed.ref
}

@Suite("Standards, clocks, feedback and history on a site")
struct WorkflowTests {
    @Test func aStandardIsAgreedOnlyWhenBothSidesSignItsCurrentTerms() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let proposed = try sites.it.proposeStandard(customer: "HR", terms: laptops)
        #expect(proposed.status == "proposed")
        #expect(proposed.providerSignature == "current")
        #expect(proposed.customerSignature == "none")
        try sites.exchange()
        #expect(try sites.hr.standard(proposed.ref).status == "proposed")

        // HR edits offline: its signature covers the new terms, IT's no longer counts.
        let edited = try sites.hr.editStandard(proposed.ref, terms: StandardTerms(deliver: "2d"))
        #expect(edited.customerSignature == "current")
        #expect(edited.providerSignature == "earlier terms")
        #expect(edited.status == "proposed")
        try sites.exchange()
        #expect(try sites.it.standard("Laptops").deliver == "2d")
        // A third department cannot sign, and nothing is written.
        let third = try #require(failure { _ = try sites.fac.signStandard(proposed.ref) })
        #expect(third.code == ExitStatus.notAllowed)
        #expect(third.message.contains("FAC may not set the provider's signature"))
        #expect(try sites.fac.store.pendingChangeSets().isEmpty)

        let (signed, already) = try sites.it.signStandard(proposed.ref)
        #expect(!already)
        #expect(signed.status == "agreed")
        #expect(try sites.hr.standard(proposed.ref).status == "proposed", "HR has not synced yet")
        try sites.exchange()
        #expect(try sites.hr.standard(proposed.ref).status == "agreed")
        #expect(try sites.hr.signStandard(proposed.ref).1, "signing again writes nothing")
        #expect(
            failure { _ = try sites.fac.signStandard(proposed.ref) }?.code == ExitStatus.notAllowed,
            "a third department is refused even once both parties have signed")

        // Agreed terms are never edited in place.
        let edit = try #require(failure { _ = try sites.hr.editStandard(proposed.ref, terms: StandardTerms(csat: 50)) })
        #expect(edit.code == ExitStatus.notAllowed)
        #expect(edit.message.contains("supersedes"))

        // Requests fall under the standard in force, until it is retired.
        let covered = try sites.hr.newRequest(to: "IT", title: "Laptop")
        #expect(try sites.hr.requestDetails(covered).standard == proposed.ref)
        #expect(try sites.hr.retireStandard(proposed.ref).status == "retired")
        let uncovered = try sites.hr.newRequest(to: "IT", title: "Laptop")
        #expect(try sites.hr.requestDetails(uncovered).standard == nil)

        // A standard named by its service, and renamed in the same edit.
        var desks = laptops
        desks.service = "Desks"
        _ = try sites.hr.proposeStandard(provider: "IT", terms: desks)
        let renamed = try sites.hr.editStandard("desks", terms: StandardTerms(service: "Desks and chairs"))
        #expect(renamed.service == "Desks and chairs")
        #expect(renamed.customerSignature == "current")
    }

    @Test func aSupersedingStandardTakesOverOnceAgreed() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let old = try agreedStandard(sites)
        var terms = laptops
        terms.deliver = "3d"
        let new = try sites.hr.proposeStandard(provider: "IT", terms: terms, supersedes: old)
        #expect(new.supersedes == old)
        #expect(try sites.hr.standard(old).status == "agreed", "until the new one is agreed")
        try sites.exchange()
        _ = try sites.it.signStandard(new.ref)
        #expect(try sites.it.standard(old).status == "superseded")
        #expect(try sites.it.standard(old).supersededBy == new.ref)
    }

    @Test func badTermsAreRefusedWithWhatIsAcceptedAndNothingIsWritten() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        var missing = laptops
        missing.acknowledge = nil
        let cases: [(() throws -> Void, Int32, String)] = [
            ({ _ = try sites.it.proposeStandard(customer: "HR", terms: missing) }, ExitStatus.invalidInput, "--ack"),
            (
                { _ = try sites.it.proposeStandard(customer: "HR", terms: StandardTerms(acknowledge: "4x")) },
                ExitStatus.invalidInput, "'4x' is not a duration"
            ),
            (
                {
                    var terms = laptops
                    terms.csat = 150
                    _ = try sites.it.proposeStandard(customer: "HR", terms: terms)
                }, ExitStatus.invalidInput, "from 0 to 100"
            ),
            (
                {
                    var terms = laptops
                    terms.priorityTargets = "urgent=fast"
                    _ = try sites.it.proposeStandard(customer: "HR", terms: terms)
                }, ExitStatus.invalidInput, "ack/deliver"
            ),
            (
                { _ = try sites.it.proposeStandard(terms: laptops) }, ExitStatus.invalidInput,
                "name the other department"
            ),
            (
                { _ = try sites.it.proposeStandard(customer: "HR", terms: StandardTerms(deliver: "30h")) },
                // In the provider's own days (issue 14): 30 business hours are 3d6h of IT's 8h days.
                ExitStatus.invalidInput,
                "8h in IT's calendar (mon-fri 09:00-17:00), so hours must add up to less than 24; write days and hours, like 3d6h"
            ),
            (
                { _ = try sites.it.proposeStandard(customer: "HR", terms: StandardTerms(deliver: "1w")) },
                ExitStatus.invalidInput, "like 5d"
            ),
            (
                { _ = try sites.it.proposeStandard(customer: "IT", terms: laptops) }, ExitStatus.invalidInput,
                "two different"
            ),
            (
                { _ = try sites.it.proposeStandard(customer: "XX", terms: laptops) }, ExitStatus.notFound,
                "no department 'XX'"
            ),
            ({ _ = try sites.it.standard("beef") }, ExitStatus.notFound, "no standard 'beef'"),
        ]
        for (body, code, words) in cases {
            let refused = try #require(failure(body))
            #expect(refused.code == code, "\(refused.message)")
            #expect(refused.message.contains(words), "\(refused.message)")
        }
        #expect(try sites.it.store.pendingChangeSets().isEmpty)
    }

    /// IT in Lisbon (09:00–17:00 UTC in winter, closed on 10 November) serves HR in New York.
    @Test func clocksCountTheProvidersBusinessHours() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        _ = try agreedStandard(sites)
        let key = try sites.hr.newRequest(to: "IT", title: "Laptop", at: time("2026-11-09T09:00:00Z"))
        try sites.exchange()
        let noon = try sites.it.requestDetails(key, now: time("2026-11-09T12:00:00Z"))
        let acknowledge = try #require(noon.clocks.first { $0.name == "acknowledge" })
        #expect(acknowledge.status == "running")
        #expect(acknowledge.elapsed == "3h")
        #expect(acknowledge.left == "1h")
        #expect(acknowledge.due == "2026-11-09T13:00:00.000Z")
        #expect(noon.clocks.first { $0.name == "deliver" }?.due == "2026-11-09T17:00:00.000Z")
        #expect(try sites.it.requests(now: time("2026-11-09T12:00:00Z"), overdueOnly: true).isEmpty)
        let late = try sites.it.requests(now: time("2026-11-09T14:00:00Z"), overdueOnly: true)
        #expect(late.map(\.key) == [key])
        #expect(late.first?.overdue == ["acknowledge"])
        #expect(late.first?.left == "-1h")
        #expect(try sites.it.requests(customer: "HR", state: "open").map(\.key) == [key])
        #expect(try sites.it.requests(provider: "HR").isEmpty)
        // Stable JSON: absent values are null, not missing keys.
        let listed = String(decoding: try JSONEncoder().encode(try sites.it.requests()), as: UTF8.self)
        #expect(listed.contains("\"assignee\":null"))
        let standards = String(decoding: try JSONEncoder().encode(try sites.it.standards()), as: UTF8.self)
        #expect(standards.contains("\"priorityTargets\":null") && standards.contains("\"supersedes\":null"))
        #expect(try sites.it.requests(state: "closed").isEmpty)
        #expect(failure { _ = try sites.it.requests(state: "done") }?.code == ExitStatus.invalidInput)
        #expect(failure { _ = try sites.it.requests(customer: "XX") }?.code == ExitStatus.notFound)

        // Times given with --at must be after the request was raised and not in the future.
        let early = try #require(failure { try sites.it.transition(key, "ack", at: time("2026-11-08T09:00:00Z")) })
        #expect(early.code == ExitStatus.invalidInput)
        #expect(early.message.contains("before \(key) was raised"))
        let future = Timestamp(millisecondsSince1970: Timestamp.now().millisecondsSince1970 + 86_400_000)
        #expect(failure { try sites.it.transition(key, "ack", at: future) }?.code == ExitStatus.invalidInput)

        // Steps are recorded in the order they happened.
        try sites.it.transition(key, "ack", at: time("2026-11-09T10:00:00Z"))
        let backwards = try #require(
            failure { try sites.it.transition(key, "start", at: time("2026-11-09T09:30:00Z")) })
        #expect(backwards.code == ExitStatus.invalidInput)
        #expect(backwards.message.contains("before the last step of \(key) (acknowledged at"))

        // Acknowledged at 10:00, waiting on HR from 11:00 to Wednesday 12:00: the deliver
        // clock holds at 2h; HR's answer clock ran 8h Monday, 8h Tuesday (not a holiday in New York).
        try sites.it.transition(key, "start", at: time("2026-11-09T10:00:00Z"))
        try sites.it.transition(key, "wait", at: time("2026-11-09T11:00:00Z"))
        let waiting = try sites.it.requestDetails(key, now: time("2026-11-11T12:00:00Z"))
        let deliver = try #require(waiting.clocks.first { $0.name == "deliver" })
        #expect(deliver.status == "paused")
        #expect(deliver.elapsed == "2h")
        #expect(waiting.clocks.first { $0.name == "answer" }?.elapsed == "16h")
    }

    @Test func feedbackGoesBothWaysAfterDelivery() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let key = try sites.hr.newRequest(to: "IT", title: "Laptop", at: time("2026-11-20T09:00:00Z"))
        try sites.exchange()
        let early = try #require(failure { try sites.hr.feedback(key, rating: 4) })
        #expect(early.code == ExitStatus.notAllowed)
        #expect(early.message.contains("comes after delivery"))
        try sites.it.transition(key, "start", at: time("2026-11-20T10:00:00Z"))
        try sites.it.transition(key, "deliver", at: time("2026-11-20T11:00:00Z"))
        try sites.exchange()

        let range = try #require(failure { try sites.hr.feedback(key, rating: 6) })
        #expect(range.code == ExitStatus.invalidInput)
        #expect(range.message.contains("from 1 to 5"))
        #expect(failure { try sites.hr.feedback(key, rating: 4, effort: 9) }?.code == ExitStatus.invalidInput)
        #expect(try sites.hr.feedback(key, rating: 4, effort: 2, comment: "good") == .customer)
        #expect(try sites.it.feedback(key, rating: 5, comment: "clear answers") == .provider)
        let effort = try #require(failure { try sites.it.feedback(key, rating: 5, effort: 1) })
        #expect(effort.code == ExitStatus.notAllowed)
        #expect(effort.message.contains("effort"))
        #expect(failure { try sites.fac.feedback(key, rating: 1) }?.code == ExitStatus.notAllowed)
        // Rating again replaces this side's rating.
        try sites.hr.feedback(key, rating: 3)
        try sites.exchange()

        for site in [sites.hr, sites.it] {
            let feedback = try site.requestDetails(key).feedback
            #expect(feedback.map(\.side) == ["customer", "provider"])
            #expect(feedback.map(\.rating) == [3, 5])
            #expect(feedback.first?.effort == 2)
            #expect(feedback.first?.comment == "good")
        }
        try sites.it.feedback(key, rating: 3)
        try sites.hr.transition(key, "reopen", at: time("2026-11-20T13:00:00Z"))
        try sites.exchange()
        let history = try sites.it.history(key).map(\.what)
        #expect(history.contains("rated the cooperation 3/5"), "a re-rating keeps its side")
        #expect(history.contains("in progress (start)"))
        #expect(history.contains("in progress (reopen)"))
        #expect(history.contains("rated the service 4/5"))
        #expect(history.contains("rated the cooperation 5/5"))
    }

    @Test func historyShowsTheConflictAndItsResolution() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let key = try sites.hr.newRequest(to: "IT", title: "Laptop", at: time("2026-11-20T09:00:00Z"))
        try sites.exchange()
        try sites.it.transition(key, "start", at: time("2026-11-20T10:00:00Z"))
        try sites.exchange()
        try sites.hr.transition(key, "cancel", note: "not needed", at: time("2026-11-20T11:00:00Z"))
        try sites.it.transition(key, "deliver", at: time("2026-11-20T12:00:00Z"))
        try sites.exchange()
        try sites.exchange()
        try sites.hr.resolve(key, field: "state", .theirs)
        try sites.exchange()
        let history = try sites.it.history(key)
        #expect(history.map(\.what).first == "raised: Laptop")
        #expect(history.contains { $0.conflicted == ["state"] })
        let resolution = try #require(history.first { $0.resolved == ["state"] })
        #expect(resolution.what == "kept delivered (resolving the conflict)")
        #expect(resolution.author == "ana@HR-LIS")
        #expect(history.contains { $0.record == "comment" && $0.what == "commented: not needed" })
        // The clocks follow the resolution: delivery took 10:00 to 12:00 of IT's time (plus the
        // hour before it started), with no stay in the losing cancelled state.
        #expect(try sites.it.requestDetails(key).clocks.first { $0.name == "deliver" }?.elapsed == "3h")
    }

    /// A conflict in a field the list does not show (two HR sites rewrote a request's details at
    /// once) still flags the request in `request list` (Protocol §5.9: `conflicted` is any field
    /// of the record), or nobody would know there is something to resolve.
    @Test func aConflictInAFieldTheListDoesNotShowStillFlagsTheRequest() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let administration = try ServerAdministration(directory: sites.server)
        let paris = try await OfflineSites.join("HR", "PAR", "lea", root: sites.root, administration: administration)
        let key = try sites.hr.newRequest(to: "IT", title: "Laptop", at: time("2026-11-20T09:00:00Z"))
        try sites.exchange()
        let server = try sites.server.store()
        func exchangeParis() throws {
            let entry = try #require(try server.registry().first { $0.code == paris.settings.code })
            let sets = try paris.store.pendingChangeSets()
            let outcomes = try server.receive(sets, from: entry)
            try paris.store.recordPushResults(zip(sets, outcomes).map { ($0.firstCounter, $1) })
            try paris.store.applyPulled(try server.changes(after: try paris.store.replica().cursor, limit: 10_000))
        }
        try exchangeParis()
        try sites.hr.editRequest(key, details: "a 14-inch one", at: time("2026-11-20T10:00:00Z"))
        try paris.editRequest(key, details: "a 16-inch one", at: time("2026-11-20T10:05:00Z"))
        try sites.exchange()
        try exchangeParis()
        try sites.exchange()

        for site in [sites.hr, sites.it, paris] {
            #expect(try site.conflicts().map { conflict in conflict.fields.map { $0.field } } == [["details"]])
            let listed = try #require(try site.requests().first { $0.key == key })
            #expect(listed.conflicted, "the list flags the request whose details are in conflict")
            #expect(listed.state == "submitted", "the shown columns themselves are not in conflict")
        }
        try sites.hr.resolve(key, field: "details", .mine)
        try sites.exchange()
        try exchangeParis()
        for site in [sites.hr, sites.it, paris] {
            #expect(try site.conflicts().isEmpty)
            #expect(try site.requests().first { $0.key == key }?.conflicted == false)
        }
    }

    @Test func reportsReadTheSitesRequests() async throws {
        let sites = try await OfflineSites()
        defer { try? FileManager.default.removeItem(atPath: sites.root) }
        let ref = try agreedStandard(sites)
        // Monday 9 November: one delivered in 2h, one in 9h of IT's day (target 1d = 8h).
        let quick = try sites.hr.newRequest(to: "IT", title: "Quick", at: time("2026-11-09T09:00:00Z"))
        let slow = try sites.hr.newRequest(to: "IT", title: "Slow", at: time("2026-11-09T09:00:00Z"))
        try sites.exchange()
        try sites.it.transition(quick, "start", at: time("2026-11-09T09:00:00Z"))
        try sites.it.transition(quick, "deliver", at: time("2026-11-09T11:00:00Z"))
        try sites.it.transition(slow, "start", at: time("2026-11-09T09:00:00Z"))
        try sites.it.transition(slow, "deliver", at: time("2026-11-11T10:00:00Z"))
        try sites.exchange()
        try sites.hr.feedback(quick, rating: 5)
        try sites.hr.feedback(slow, rating: 2)
        try sites.exchange()

        let december = ReportScope(from: time("2026-11-01T00:00:00Z"), to: time("2026-12-01T00:00:00Z"))
        let facts = try sites.it.reportFacts(december, now: time("2026-11-12T00:00:00Z"))
        let sla = SLARow.rows(facts)
        #expect(sla.count == 1)
        #expect(sla.first?.standard == ref)
        #expect(sla.first?.deliveredWithinTarget == Share(1, of: 2))
        #expect(sla.first?.deliverMedian == 19_800, "the mean of 2h and 9h")
        #expect(SatisfactionRow.rows(facts).first?.csat == Share(1, of: 2))
        #expect(try sites.it.reportFacts(ReportScope(from: december.from, to: december.to, customer: "FAC")).isEmpty)
        #expect(
            try sites.it.reportFacts(ReportScope(from: december.from, to: december.to, standard: "laptops")).count == 2)
        #expect(
            failure {
                _ = try sites.it.reportFacts(ReportScope(from: december.from, to: december.to, standard: "Chairs"))
            }?
            .code == ExitStatus.notFound)
        let empty = try #require(
            failure { _ = try sites.it.reportFacts(ReportScope(from: december.to, to: december.from)) })
        #expect(empty.code == ExitStatus.invalidInput)
        #expect(
            failure { _ = try sites.it.reportFacts(ReportScope(from: december.from, to: december.to, provider: "XX")) }?
                .code == ExitStatus.notFound)
    }
}
