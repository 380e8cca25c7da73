import Foundation
import InternoTestSupport
import Testing

@testable import InternoModel

/// Hand-computed business time. December 2026: the 4th is a Friday, the 7th a Monday, the 8th
/// (a Tuesday) a holiday in Lisbon; Lisbon is on UTC in winter, New York on UTC−5.
private func time(_ text: String) -> Timestamp { Timestamp(iso8601: text)! }
private let hour: Int64 = 3_600_000

private func lisbon(_ hours: String = "mon-fri 09:00-17:00", holidays: [String] = ["2026-12-08"])
    -> BusinessCalendar
{
    BusinessCalendar(
        timeZone: TimeZone(identifier: "Europe/Lisbon")!, hours: try! WeeklyHours(parsing: hours),
        holidays: holidays.map { CalendarDate($0)! })
}

private let newYork = BusinessCalendar(
    timeZone: TimeZone(identifier: "America/New_York")!, hours: .standard)

@Suite("Business calendars")
struct BusinessCalendarTests {
    @Test func countsOnlyHoursWithinTheDay() {
        let calendar = lisbon()
        #expect(
            calendar.businessMilliseconds(from: time("2026-12-07T10:00:00Z"), to: time("2026-12-07T15:30:00Z")) == 11
                * hour / 2)
        #expect(
            calendar.businessMilliseconds(from: time("2026-12-07T06:00:00Z"), to: time("2026-12-07T20:00:00Z")) == 8
                * hour)
        #expect(
            calendar.businessMilliseconds(from: time("2026-12-07T15:00:00Z"), to: time("2026-12-07T10:00:00Z")) == 0)
    }

    @Test func skipsWeekendsAndHolidays() {
        let calendar = lisbon()
        // Friday 16:00 to Monday 10:00: one hour each side of the weekend.
        #expect(
            calendar.businessMilliseconds(from: time("2026-12-04T16:00:00Z"), to: time("2026-12-07T10:00:00Z")) == 2
                * hour)
        // Monday 16:00 to Wednesday 10:00 across the Tuesday holiday.
        #expect(
            calendar.businessMilliseconds(from: time("2026-12-07T16:00:00Z"), to: time("2026-12-09T10:00:00Z")) == 2
                * hour)
        // A weekend alone is nothing.
        #expect(
            calendar.businessMilliseconds(from: time("2026-12-05T00:00:00Z"), to: time("2026-12-07T00:00:00Z")) == 0)
        // Without the holiday, Tuesday counts in full.
        #expect(
            lisbon(holidays: []).businessMilliseconds(
                from: time("2026-12-07T16:00:00Z"), to: time("2026-12-09T10:00:00Z")) == 10 * hour)
    }

    @Test func readsHoursInTheDepartmentsTimeZone() {
        // 13:00Z to 23:00Z is 08:00 to 18:00 in New York (all 8 hours) and 13:00 to 23:00 in Lisbon (4).
        let from = time("2026-12-07T13:00:00Z")
        let to = time("2026-12-07T23:00:00Z")
        #expect(newYork.businessMilliseconds(from: from, to: to) == 8 * hour)
        #expect(lisbon().businessMilliseconds(from: from, to: to) == 4 * hour)
        // Late Friday evening in New York is already Saturday in UTC: still Friday's hours.
        #expect(newYork.isOpen(at: time("2026-12-04T21:30:00Z")))
        #expect(!newYork.isOpen(at: time("2026-12-05T14:30:00Z")))
    }

    @Test func splitDaysAndDaylightSavingChanges() {
        let split = lisbon("mon-fri 09:00-12:00 13:00-17:00")
        #expect(
            split.businessMilliseconds(from: time("2026-12-07T11:00:00Z"), to: time("2026-12-07T14:00:00Z")) == 2 * hour
        )
        // A calendar open all Sunday: the day clocks go forward has 23 hours, the day they go back 25.
        let sundays = lisbon("sun 00:00-24:00", holidays: [])
        #expect(
            sundays.businessMilliseconds(from: time("2026-03-28T12:00:00Z"), to: time("2026-03-30T12:00:00Z")) == 23
                * hour)
        #expect(
            sundays.businessMilliseconds(from: time("2026-10-24T12:00:00Z"), to: time("2026-10-26T12:00:00Z")) == 25
                * hour)
        // In summer Lisbon is UTC+1: 09:00 local is 08:00Z.
        let summer = lisbon(holidays: [])
        #expect(
            summer.businessMilliseconds(from: time("2026-06-01T07:00:00Z"), to: time("2026-06-01T09:00:00Z")) == hour)
    }

    @Test func findsWhenBusinessTimeRunsOut() {
        let calendar = lisbon()
        // Friday 15:00 plus 4h: two hours on Friday, two on Monday.
        #expect(calendar.instant(after: time("2026-12-04T15:00:00Z"), adding: 4 * hour) == time("2026-12-07T11:00:00Z"))
        // Reaching the target at closing time is due at closing time.
        #expect(calendar.instant(after: time("2026-12-07T13:00:00Z"), adding: 4 * hour) == time("2026-12-07T17:00:00Z"))
        // Across the holiday.
        #expect(calendar.instant(after: time("2026-12-07T15:00:00Z"), adding: 4 * hour) == time("2026-12-09T11:00:00Z"))
        // Starting outside hours starts at the next opening.
        #expect(calendar.instant(after: time("2026-12-05T10:00:00Z"), adding: hour) == time("2026-12-07T10:00:00Z"))
        #expect(calendar.instant(after: time("2026-12-05T10:00:00Z"), adding: 0) == time("2026-12-05T10:00:00Z"))
        // A week without hours never runs out.
        let closed = BusinessCalendar(timeZone: .gmt, hours: WeeklyHours(days: Array(repeating: [], count: 7)))
        #expect(closed.instant(after: time("2026-12-05T10:00:00Z"), adding: hour) == nil)
        #expect(closed.dayLength == 0)
    }

    @Test func aTargetDayIsOneBusinessDay() throws {
        let office = lisbon()
        #expect(office.dayLength == 8 * hour)
        #expect(office.businessMilliseconds(forTarget: DurationText.parse("1d")!) == 8 * hour)
        #expect(office.businessMilliseconds(forTarget: DurationText.parse("24h")!) == 8 * hour)
        #expect(office.businessMilliseconds(forTarget: DurationText.parse("1d4h")!) == 12 * hour)
        #expect(office.businessMilliseconds(forTarget: DurationText.parse("90m")!) == 3 * hour / 2)
        // Long Monday to Thursday, short Friday: (4 × 10h + 4h) / 5 = 8.8h.
        let uneven = lisbon("mon-thu 08:00-18:00; fri 08:00-12:00")
        #expect(uneven.dayLength == 8 * hour + 48 * 60_000)
    }

    /// The running totals give what walking the calendar day by day gives: for calendars with
    /// DST changes, holidays, split days and no hours at all, at random instants over eleven
    /// years asked in random order (so the run of known days grows both ways and starts afresh).
    @Test(arguments: [
        ("Europe/Lisbon", "mon-fri 09:00-17:00", ["2026-12-08", "2027-03-29"]),
        ("America/New_York", "mon-thu 08:30-12:00 13:00-17:30; fri 08:00-13:00", ["2026-11-26"]),
        ("Australia/Lord_Howe", "mon-sun 00:00-24:00", []),
        ("Asia/Kolkata", "sat 10:00-11:00", []),
        ("UTC", "", []),
    ])
    func runningTotalsAgreeWithTheDayByDayWalk(zone: String, hours: String, holidays: [String]) throws {
        var random = SeededGenerator(seed: 0x5EED_CA1E)
        let calendar = BusinessCalendar(
            timeZone: try #require(TimeZone(identifier: zone)),
            hours: hours.isEmpty ? WeeklyHours(days: Array(repeating: [], count: 7)) : try WeeklyHours(parsing: hours),
            holidays: holidays.map { CalendarDate($0)! })
        let origin = time("2021-06-01T00:00:00Z").millisecondsSince1970
        let span: Int64 = 11 * 365 * 86_400_000
        for _ in 0..<150 {
            // Near each other mostly, sometimes years apart; on the hour often, to hit edges.
            let unit: Int64 = random.next() % 2 == 0 ? 3_600_000 : 1
            let start = origin + Int64.random(in: 0..<span, using: &random) / unit * unit
            let length = Int64.random(in: 0..<(random.next() % 8 == 0 ? span : 90 * 86_400_000), using: &random)
            let from = Timestamp(millisecondsSince1970: start)
            let to = Timestamp(millisecondsSince1970: start + length)
            #expect(
                calendar.businessMilliseconds(from: from, to: to)
                    == calendar.walkedBusinessMilliseconds(from: from, to: to), "\(from) to \(to)")
            let amount = Int64.random(in: 1..<(200 * hour), using: &random)
            #expect(
                calendar.instant(after: from, adding: amount) == calendar.walkedInstant(after: from, adding: amount),
                "\(amount) ms after \(from)")
        }
    }
}

@Suite("Request clocks")
struct RequestClockTests {
    private let targets = ServiceTargets(
        acknowledge: 2 * 3_600, deliver: 86_400, notice: 2 * 86_400, answer: 4 * 3_600, confirm: 86_400)

    private func measure(
        _ submitted: String, _ events: [(String, String)], now: String, neededBy: String? = nil
    ) -> RequestClocks {
        RequestClocks.measure(
            submittedAt: time(submitted), events: events.map { StateEvent(at: time($0.0), state: $0.1) },
            now: time(now), provider: lisbon(), customer: newYork, targets: targets,
            neededBy: neededBy.map(time))
    }

    /// IT in Lisbon serves HR in New York: a request through every phase.
    @Test func aFullLifecycleAcrossAWeekendAHolidayAndAWait() throws {
        let clocks = measure(
            "2026-12-04T16:00:00Z",
            [
                ("2026-12-07T09:30:00Z", "acknowledged"), ("2026-12-07T10:00:00Z", "in_progress"),
                ("2026-12-07T12:00:00Z", "waiting_on_customer"), ("2026-12-09T15:00:00Z", "in_progress"),
                ("2026-12-09T16:00:00Z", "delivered"), ("2026-12-10T20:00:00Z", "closed"),
            ], now: "2026-12-20T00:00:00Z", neededBy: "2026-12-09T17:00:00Z")
        // Acknowledge: Friday 16:00–17:00 and Monday 09:00–09:30, in Lisbon.
        let acknowledge = try #require(clocks.acknowledge)
        #expect(acknowledge.elapsed == 3 * hour / 2)
        #expect(acknowledge.met == true)
        #expect(acknowledge.status == .stopped)
        #expect(acknowledge.due == nil, "a clock stopped within its target has no due time left")
        // Deliver: 1.5h submitted, 0.5h acknowledged, 2h in progress, held while waiting, 1h more.
        let deliver = try #require(clocks.deliver)
        #expect(deliver.elapsed == 5 * hour)
        #expect(deliver.target == 8 * hour)
        #expect(deliver.met == true)
        #expect(deliver.due == nil)
        // The wait is HR's, in New York hours (14:00Z–22:00Z): 8h Monday, 8h Tuesday (not a
        // holiday there), 1h Wednesday. The answer target was 4h, due Monday 18:00Z.
        #expect(clocks.waits.count == 1)
        #expect(clocks.waitingTotal == 17 * hour)
        #expect(clocks.waits[0].met == false)
        #expect(clocks.waits[0].due == time("2026-12-07T18:00:00Z"))
        // Confirmation: Wednesday 16:00Z–22:00Z and Thursday 14:00Z–20:00Z, 12h against one
        // New York business day of 8h, due Thursday 16:00Z.
        #expect(clocks.confirmations.map(\.elapsed) == [12 * hour])
        #expect(clocks.confirmations[0].met == false)
        #expect(clocks.confirmations[0].due == time("2026-12-10T16:00:00Z"))
        // Notice: Friday 1h + Monday 8h + Wednesday 8h of Lisbon time before the needed-by date.
        #expect(clocks.noticeGiven == 17 * hour)
        #expect(clocks.noticeRequired == 16 * hour)
        #expect(clocks.noticeMet == true)
        #expect(clocks.state == "closed")
        #expect(clocks.overdue.isEmpty)
    }

    @Test func runningClocksShowWhenTheyFallDue() throws {
        let clocks = measure("2026-12-07T09:00:00Z", [], now: "2026-12-07T12:00:00Z")
        let acknowledge = try #require(clocks.acknowledge)
        #expect(acknowledge.status == .running)
        #expect(acknowledge.elapsed == 3 * hour)
        #expect(acknowledge.remaining == -hour)
        #expect(acknowledge.due == time("2026-12-07T11:00:00Z"))
        let deliver = try #require(clocks.deliver)
        #expect(deliver.status == .running)
        #expect(deliver.due == time("2026-12-07T17:00:00Z"))
        #expect(clocks.overdue.map(\.name) == ["acknowledge"])
        // Seen on Monday evening, the deliver clock has used its day exactly: due, not yet late.
        let evening = measure(
            "2026-12-07T09:00:00Z", [("2026-12-07T09:10:00Z", "in_progress")], now: "2026-12-07T20:00:00Z")
        #expect(evening.deliver?.due == time("2026-12-07T17:00:00Z"))
        #expect(evening.overdue.isEmpty)
        // On Wednesday morning (after the holiday) it is late, and was due on Monday at 17:00.
        let wednesday = measure(
            "2026-12-07T09:00:00Z", [("2026-12-07T09:10:00Z", "in_progress")], now: "2026-12-09T09:30:00Z")
        #expect(wednesday.deliver?.elapsed == 17 * hour / 2)
        #expect(wednesday.deliver?.due == time("2026-12-07T17:00:00Z"))
        #expect(wednesday.overdue.map(\.name) == ["deliver"])
        // Submitted on Friday at 16:00, a day's target falls due on Monday at 16:00 (Tuesday is a holiday).
        let friday = measure("2026-12-04T16:00:00Z", [], now: "2026-12-04T16:30:00Z")
        #expect(friday.deliver?.due == time("2026-12-07T16:00:00Z"))
    }

    @Test func waitingHoldsTheProvidersClock() throws {
        let clocks = measure(
            "2026-12-07T09:00:00Z",
            [("2026-12-07T10:00:00Z", "in_progress"), ("2026-12-07T11:00:00Z", "waiting_on_customer")],
            now: "2026-12-09T12:00:00Z")
        let deliver = try #require(clocks.deliver)
        #expect(deliver.status == .paused)
        #expect(deliver.elapsed == 2 * hour)
        #expect(deliver.due == nil)
        #expect(clocks.waits.last?.status == .running)
        // Monday 14:00Z–22:00Z, Tuesday 8h, Wednesday 14:00Z–… not yet open at 12:00Z: 16h, past 4h.
        #expect(clocks.waits.last?.elapsed == 16 * hour)
        #expect(clocks.overdue.map(\.name) == ["answer"])
    }

    @Test func aReopenRestartsDeliveryAndEachDeliveryAwaitsConfirmation() throws {
        let clocks = measure(
            "2026-12-07T09:00:00Z",
            [
                ("2026-12-07T09:00:00Z", "in_progress"), ("2026-12-07T11:00:00Z", "delivered"),
                ("2026-12-07T15:00:00Z", "in_progress"), ("2026-12-07T16:00:00Z", "delivered"),
                ("2026-12-07T17:00:00Z", "closed"),
            ], now: "2026-12-08T00:00:00Z")
        #expect(clocks.deliver?.elapsed == 3 * hour)
        #expect(clocks.deliver?.status == .stopped)
        // New York opens at 14:00Z: the first delivery waited 1h of HR's time, the second 1h.
        #expect(clocks.confirmations.map(\.elapsed) == [hour, hour])
        #expect(clocks.acknowledge?.elapsed == 0)
    }

    @Test func declinedAndCancelledRequestsStopTheirClocks() {
        let cancelled = measure(
            "2026-12-07T09:00:00Z", [("2026-12-07T10:00:00Z", "cancelled")], now: "2026-12-09T00:00:00Z")
        #expect(cancelled.acknowledge == nil)
        #expect(cancelled.deliver == nil)
        let declined = measure(
            "2026-12-07T09:00:00Z", [("2026-12-07T12:00:00Z", "declined")], now: "2026-12-09T00:00:00Z")
        #expect(declined.acknowledge?.elapsed == 3 * hour)
        #expect(declined.acknowledge?.met == false)
        #expect(declined.deliver == nil)
        #expect(declined.overdue.isEmpty)
    }

    @Test func withoutAStandardClocksCountButAreNeverLate() {
        let clocks = RequestClocks.measure(
            submittedAt: time("2026-12-07T09:00:00Z"), events: [], now: time("2026-12-09T09:00:00Z"),
            provider: lisbon(), customer: newYork, targets: .none)
        #expect(clocks.deliver?.elapsed == 8 * hour)
        #expect(clocks.deliver?.met == nil)
        #expect(clocks.deliver?.due == nil)
        #expect(clocks.overdue.isEmpty)
    }

}

/// A replica writing one request, with contexts as a real site would give them.
private struct RequestWriter {
    static let id = UUID()
    let replica = ReplicaID.random()
    let author: String
    var record = RecordState(kind: .request, id: RequestWriter.id)
    var counter: UInt64 = 0

    init(_ author: String) { self.author = author }

    mutating func write(_ at: String, _ fields: [FieldName: FieldValue]) -> Change {
        counter += 1
        let change = Change(
            dot: Dot(replica: replica, counter: counter), kind: .request, recordID: Self.id, context: record.clock,
            fields: fields, author: author, at: time(at))
        try! record.apply(change)
        return change
    }

    mutating func step(_ at: String, _ state: String) -> Change { write(at, ["state": .text(state)]) }

    mutating func receive(_ changes: [Change]) {
        for change in changes { try! record.apply(change) }
    }
}

@Suite("Request timelines from concurrent changes")
struct RequestTimelineTests {
    private func clocks(_ changes: [Change], now: String = "2026-12-20T00:00:00Z") throws -> RequestClocks {
        let (submitted, events) = StateEvent.timeline(of: changes)
        return RequestClocks.measure(
            submittedAt: try #require(submitted), events: events, now: time(now), provider: lisbon(),
            customer: newYork, targets: ServiceTargets(acknowledge: 3_600, deliver: 86_400))
    }

    /// HR raises on Monday at 09:00 and IT starts at once; both sites then know the request.
    private func started() -> (hr: RequestWriter, it: RequestWriter, log: [Change]) {
        var hr = RequestWriter("ana@HR-LIS")
        var it = RequestWriter("rui@IT-OPO")
        let created = hr.write("2026-12-07T09:00:00Z", ["key": .text("HR-LIS-1"), "state": .text("submitted")])
        it.receive([created])
        let start = it.step("2026-12-07T09:00:00Z", "in_progress")
        hr.receive([start])
        return (hr, it, [created, start])
    }

    @Test func aKeptDeliveryCountsFromWhenItWasDoneAndTheCancelLeavesNoTrace() throws {
        // HR cancels at 10:00 while IT delivers at 11:00; on Friday HR keeps the delivery.
        var (hr, it, log) = started()
        let cancel = hr.step("2026-12-07T10:00:00Z", "cancelled")
        let deliver = it.step("2026-12-07T11:00:00Z", "delivered")
        hr.receive([deliver])
        let keep = hr.step("2026-12-11T12:00:00Z", "delivered")
        let confirm = hr.step("2026-12-11T12:30:00Z", "closed")
        log += [cancel, deliver, keep, confirm]
        let measured = try clocks(log)
        #expect(measured.state == "closed")
        #expect(measured.deliver?.elapsed == 2 * hour)
        #expect(measured.deliver?.met == true)
        // Every replica reads the same timeline, whatever order it applied the changes in.
        let otherOrder = [log[0], log[1], log[3], log[2], log[4], log[5]]
        #expect(StateEvent.timeline(of: otherOrder) == StateEvent.timeline(of: log))
    }

    @Test func aKeptDeliveryEarlierThanTheCancelKeepsItsTime() throws {
        // IT delivers at 12:00 and HR cancels at 13:00; on Friday HR keeps the delivery.
        var (hr, it, log) = started()
        let deliver = it.step("2026-12-07T12:00:00Z", "delivered")
        let cancel = hr.step("2026-12-07T13:00:00Z", "cancelled")
        hr.receive([deliver])
        var keeper = hr
        let keep = keeper.step("2026-12-11T12:00:00Z", "delivered")
        let kept = try clocks(log + [deliver, cancel, keep])
        #expect(kept.deliver?.elapsed == 3 * hour, "not Friday: the delivery was on Monday at 12:00")
        #expect(kept.state == "delivered")
        #expect(kept.confirmations.count == 1)
        // Keeping the cancel instead: no delivery, and no deliver clock.
        let cancelled = try clocks(log + [deliver, cancel, hr.step("2026-12-11T12:00:00Z", "cancelled")])
        #expect(cancelled.state == "cancelled")
        #expect(cancelled.deliver == nil)
    }

    @Test func aStaleStepFromAnotherSiteMergesAway() throws {
        // IT in Lisbon starts at 09:00 and waits on HR at 11:00; IT in Porto, having seen only
        // the submission, starts at 12:00. The workflow policy keeps the wait.
        var lisbonSite = RequestWriter("rui@IT-LIS")
        var porto = RequestWriter("eva@IT-POR")
        var hr = RequestWriter("ana@HR-LIS")
        let created = hr.write("2026-12-07T08:00:00Z", ["key": .text("HR-LIS-1"), "state": .text("submitted")])
        lisbonSite.receive([created])
        porto.receive([created])
        let log = [
            created, lisbonSite.step("2026-12-07T09:00:00Z", "in_progress"),
            lisbonSite.step("2026-12-07T11:00:00Z", "waiting_on_customer"),
            porto.step("2026-12-07T12:00:00Z", "in_progress"),
        ]
        let measured = try clocks(log, now: "2026-12-07T16:00:00Z")
        #expect(measured.state == "waiting_on_customer")
        #expect(measured.deliver?.status == .paused)
        #expect(measured.deliver?.elapsed == 2 * hour)
    }

    @Test func aStepRecordedWithAnEarlierTimeComesAfterWhatItsWriterHadSeen() throws {
        // Started at 10:00; the delivery is then recorded with --at 09:30.
        var hr = RequestWriter("ana@HR-LIS")
        var it = RequestWriter("rui@IT-OPO")
        let created = hr.write("2026-12-07T08:00:00Z", ["key": .text("HR-LIS-1"), "state": .text("submitted")])
        it.receive([created])
        let log = [created, it.step("2026-12-07T10:00:00Z", "in_progress")]
        let deliver = it.step("2026-12-07T09:30:00Z", "delivered")
        let measured = try clocks(log + [deliver])
        #expect(measured.state == "delivered")
        #expect(measured.deliver?.status == .stopped)
        #expect(measured.confirmations.count == 1)
        #expect(measured.deliver?.elapsed == hour, "09:00 to 10:00: the delivery counts from the start it followed")
        #expect(measured.overdue.isEmpty)
    }

    @Test func refusedChangesWriteNothing() throws {
        var (_, it, log) = started()
        let refused = it.step("2026-12-07T10:00:00Z", "delivered").voided(Refusal(.notPermitted, "no"))
        let measured = try clocks(log + [refused], now: "2026-12-07T12:00:00Z")
        #expect(measured.state == "in_progress")
        #expect(StateEvent.timeline(of: log + [refused]).submittedAt == time("2026-12-07T09:00:00Z"))
    }

    @Test func theStoredTimelineIsTheLogsAndReadsBackAsWritten() throws {
        var (hr, it, log) = started()
        log.append(it.step("2026-12-07T10:00:00Z", "waiting_on_customer"))
        hr.receive([log[2]])
        log.append(hr.step("2026-12-07T11:00:00Z", "in_progress"))
        let timeline = try #require(RequestTimeline(log: log))
        let (submitted, events) = StateEvent.timeline(of: log)
        #expect(timeline == RequestTimeline(submittedAt: try #require(submitted), events: events))
        #expect(timeline.events.map(\.state) == ["in_progress", "waiting_on_customer", "in_progress"])
        #expect(try RequestTimeline(decoding: timeline.encoded) == timeline)
        #expect(RequestTimeline(log: []) == nil)
    }

    /// A log of one change, a new request's, takes a shortcut past the replay: it must read
    /// exactly what the replay reads, whatever the change writes.
    @Test(
        arguments: [
            ["key": .text("HR-LIS-1"), "state": .text("submitted")],
            ["key": .text("HR-LIS-1"), "state": .text("in_progress")],
            ["state": .text("acknowledged")], ["key": .text("HR-LIS-1")], ["title": .text("No key, no state")],
            ["key": .text("HR-LIS-1"), "state": .null], ["state": .integer(3)],
        ] as [[FieldName: FieldValue]])
    func aLogOfOneChangeReadsAsItsReplay(fields: [FieldName: FieldValue]) {
        var writer = RequestWriter("ana@HR-LIS")
        let change = writer.write("2026-12-07T09:00:00Z", fields)
        for log in [[change], [change.voided(Refusal(.notPermitted, "no"))]] {
            let (submitted, events) = StateEvent.timeline(of: log)
            let replayed = StateEvent.replayedTimeline(of: log)
            #expect(submitted == replayed.submittedAt && events == replayed.events, "\(log)")
        }
        // A change written over another (here missing from the log) is replayed, not shortcut.
        var later = RequestWriter("rui@IT-OPO")
        later.receive([change])
        let step = later.step("2026-12-07T10:00:00Z", "in_progress")
        #expect(StateEvent.timeline(of: [step]) == StateEvent.replayedTimeline(of: [step]))
        #expect(StateEvent.timeline(of: [step]).events.isEmpty, "the replay cannot apply it: no event")
    }

    @Test(arguments: [
        ([] as [UInt8], BinaryReader.Error.truncated), ([2, 0, 0], .unknownTag(2)),
        ([1, 0, 5, 0], .implausibleCount(5)),
        ([1, 0, 0, 7], .trailingBytes(1)), ([1, 0, 1, 0, 3, 0x61], .implausibleCount(3)), ([1, 0, 1, 0], .truncated),
    ])
    func aDamagedStoredTimelineIsAnErrorNeverAGuess(bytes: [UInt8], error: BinaryReader.Error) {
        #expect(throws: error) { try RequestTimeline(decoding: bytes) }
    }
}
