import EventStore

/// The languages of the report (`--lang`).
public enum ReportLanguage: String, Sendable, CaseIterable {
    case da, en
}

/// Every word the report prints, in one language, and the way it writes numbers,
/// dates and periods there.
///
/// The layouts (HTML, Markdown) take all their text from here, so a language is
/// complete when this type is. A kind the catalog does not know (a newer log read by
/// an older tool) is printed as its slug rather than dropped.
public struct ReportLabels: Sendable {
    public let language: ReportLanguage

    public init(_ language: ReportLanguage) { self.language = language }

    private func pick(_ da: String, _ en: String) -> String {
        switch language {
        case .da: da
        case .en: en
        }
    }

    // MARK: the document

    var title: String { pick("Evalueringsrapport", "Evaluation report") }
    var subtitle: String { pick("Projektets tal, som hændelsesloggen fører dem", "The project's figures as its event log records them") }

    /// "Valid at 31 December 2022, as recorded by now": the two times of SPEC §4.
    func standing(validAt: String, asOf: String) -> String {
        pick("Status pr. \(validAt), som loggen så ud \(asOf)", "Status at \(validAt), as the log stood \(asOf)")
    }
    var recordedNow: String { pick("nu", "now") }
    func recordedAt(_ time: String) -> String { pick("pr. \(time)", "at \(time)") }

    var howToRead: String {
        pick("""
            Alle tal er tællinger i loggen ved den gyldige tid ovenfor. En plan eller et mål er ikke en kendsgerning: \
            hvor loggen intet har registreret, står der 0. Hver figur har sine tal i tabellen under den.
            """, """
            Every figure is a count of the log at the valid time above. A plan or target is not a fact: \
            where the log records nothing, the count is 0. Every chart has its numbers in the table below it.
            """)
    }

    var summaryHeading: String { pick("Nøgletal", "Key figures") }
    var contentsHeading: String { pick("Indhold", "Contents") }

    // MARK: sections

    var staffHeading: String { pick("Peers ansat mod plan", "Peers employed against plan") }
    var staffIntro: String {
        pick("Ansatte pr. team ved den gyldige tid mod teamets plan. Projektledere tæller ikke med.",
             "People employed per team at the valid time against the team's plan. Project leaders are not counted.")
    }
    var trainingHeading: String { pick("Kompetenceudvikling: deltagere mod medarbejdere", "Training: participants against headcount") }
    var trainingIntro: String {
        pick("Deltagere i alle forløb pr. enhed mod enhedens antal medarbejdere (eller et sat mål). En medarbejder, der deltager to gange, tæller to gange.",
             "Participants over all trainings per unit against the unit's headcount (or a target set). Someone who takes part twice counts twice.")
    }
    var trainingsHeldHeading: String { pick("Afholdte forløb", "Trainings held") }
    var trainingsPerKind: String { pick("Afholdte forløb pr. type", "Trainings held per kind") }
    var cadenceHeading: String { pick("Mødekadence pr. organ og periode", "Meeting cadence per body and period") }
    var cadenceIntro: String {
        pick("Møder afholdt i hver periode af organets kadence. »Ikke holdt« betyder, at loggen ikke har registreret nok møder i perioden.",
             "Meetings held in each period of the body's cadence. \"Missed\" means the log records fewer meetings than the cadence asks for.")
    }
    var handoversHeading: String { pick("Overgange over tid", "Handovers over time") }
    var handoversIntro: String {
        pick("Overgange påbegyndt og afsluttet pr. kvartal, efter datoen de skete.",
             "Handovers started and completed per quarter, by the date they happened.")
    }
    var handoverRoutesHeading: String { pick("Pr. overgang (fra → til)", "Per route (from → to)") }
    var attendanceHeading: String { pick("Fremmøde pr. tilbud og periode", "Attendance per offer and period") }
    var attendanceIntro: String {
        pick("Kontakter pr. tilbud og periode; stedets total er summen af dets tilbud.",
             "Contacts per offer and period; a venue's total is the sum of its offers.")
    }
    var milestonesHeading: String { pick("Milepæle", "Milestones") }
    var milestonesIntro: String {
        pick("Evalueringens milepæle, som loggen har registreret dem.", "The evaluation's milestones as the log records them.")
    }

    // MARK: figures

    var figureWord: String { pick("Figur", "Figure") }
    var tableWord: String { pick("Tabel", "Table") }
    var staffFigure: String { pick("Ansatte pr. team mod plan", "Staff per team against plan") }
    var coverageFigure: String { pick("Deltagere pr. enhed mod antal medarbejdere", "Participants per unit against headcount") }
    var cadenceFigure: String { pick("Møder holdt pr. organ og periode", "Meetings held per body and period") }
    var handoversFigure: String { pick("Overgange påbegyndt og afsluttet pr. kvartal", "Handovers started and completed per quarter") }
    var attendanceFigure: String { pick("Kontakter pr. tilbud og periode", "Contacts per offer and period") }
    var milestonesFigure: String { pick("Milepæle på en tidslinje", "Milestones on a time line") }

    // MARK: empty sections

    var noTeams: String { pick("Ingen teams i loggen ved den gyldige tid.", "No teams in the log at the valid time.") }
    var noUnits: String { pick("Ingen enheder i loggen ved den gyldige tid.", "No units in the log at the valid time.") }
    var noTrainings: String { pick("Ingen forløb registreret.", "No trainings recorded.") }
    var noBodies: String { pick("Ingen organer i loggen ved den gyldige tid.", "No bodies in the log at the valid time.") }
    var noHandovers: String { pick("Ingen overgange registreret.", "No handovers recorded.") }
    var noAttendance: String { pick("Intet fremmøde registreret.", "No attendance recorded.") }
    var noMilestones: String { pick("Ingen milepæle registreret.", "No milestones recorded.") }

    // MARK: column headings and legends

    var team: String { pick("Team", "Team") }
    var kind: String { pick("Type", "Kind") }
    var units: String { pick("Enheder", "Units") }
    var unit: String { pick("Enhed", "Unit") }
    var peers: String { pick("Peers", "Peers") }
    var professionals: String { pick("Fagprofessionelle", "Professionals") }
    var employed: String { pick("ansat", "employed") }
    var plan: String { pick("Plan", "Plan") }
    var met: String { pick("Opfyldt", "Met") }
    var participants: String { pick("Deltagere", "Participants") }
    var headcount: String { pick("Medarbejdere", "Headcount") }
    var coverage: String { pick("Dækning", "Coverage") }
    var date: String { pick("Dato", "Date") }
    var titleColumn: String { pick("Titel", "Title") }
    var count: String { pick("Antal", "Count") }
    var body: String { pick("Organ", "Body") }
    var cadence: String { pick("Kadence", "Cadence") }
    var period: String { pick("Periode", "Period") }
    var held: String { pick("Afholdt", "Held") }
    var target: String { pick("Mål", "Target") }
    var status: String { pick("Status", "Status") }
    var quarter: String { pick("Kvartal", "Quarter") }
    var started: String { pick("Påbegyndt", "Started") }
    var completed: String { pick("Afsluttet", "Completed") }
    var cancelled: String { pick("Annulleret", "Cancelled") }
    var open: String { pick("Åbne", "Open") }
    var withPeer: String { pick("Med peer", "With a peer") }
    var medianDays: String { pick("Median, dage", "Median days") }
    var from: String { pick("Fra", "From") }
    var to: String { pick("Til", "To") }
    var offer: String { pick("Tilbud", "Offer") }
    var total: String { pick("I alt", "Total") }
    func venueTotal(_ venue: String) -> String { pick("I alt, \(venue)", "Total, \(venue)") }
    var milestone: String { pick("Milepæl", "Milestone") }
    var by: String { pick("Af", "By") }
    var findings: String { pick("Fund", "Findings") }
    var registeredUnits: String { pick("registrerede enheder", "registered units") }
    var keyFigure: String { pick("Nøgletal", "Key figure") }
    var value: String { pick("Værdi", "Value") }
    var yes: String { pick("ja", "yes") }
    var no: String { pick("nej", "no") }
    var none: String { "–" }
    var validTime: String { pick("gyldig tid", "valid time") }

    func ofPlan(_ actual: String, _ plan: String) -> String { pick("\(actual) af \(plan)", "\(actual) of \(plan)") }

    // MARK: key figures

    var peersAgainstPlan: String { pick("Peers ansat af planlagte", "Peers employed of planned") }
    var unitsWithPeer: String { pick("Enheder med en peer", "Units with a peer") }
    var trainingParticipants: String { pick("Deltagere i kompetenceudvikling", "Training participants") }
    var periodsKept: String { pick("Afsluttede mødeperioder holdt", "Closed meeting periods kept") }
    var handoversCompleted: String { pick("Overgange afsluttet af påbegyndte", "Handovers completed of started") }
    var milestonesReached: String { pick("Milepæle nået", "Milestones reached") }

    // MARK: the footer

    var footerHeading: String { pick("Om denne rapport", "About this report") }
    var logHead: String { pick("Loggens hoved", "Log head") }
    var generatedBy: String { pick("Lavet af", "Made by") }
    var generatedAt: String { pick("Lavet", "Made") }
    var timeZone: String { pick("Datoer uden klokkeslæt i", "Plain dates in") }
    var nowWord: String { pick("nu", "now") }
    var verifyHint: String {
        pick("Kontrollér, at rapportens historik stadig står i loggen",
             "Check that the report's history is still in the log")
    }

    // MARK: catalog words

    /// The name of a KPI of SPEC §5.
    public func kpi(_ name: String) -> String {
        switch name {
        case "peers.employed": pick("Peers ansat", "Peers employed")
        case "professionals.employed": pick("Fagprofessionelle ansat", "Professionals employed")
        case "units.with-peer": pick("Enheder med en peer", "Units with a peer")
        case "training.participants": pick("Deltagere i kompetenceudvikling", "Training participants")
        case "training.held": pick("Afholdte forløb", "Trainings held")
        case "meetings.held": pick("Afholdte møder", "Meetings held")
        case "handovers.started": pick("Overgange påbegyndt", "Handovers started")
        case "handovers.completed": pick("Overgange afsluttet", "Handovers completed")
        case "handovers.open": pick("Åbne overgange", "Open handovers")
        case "handovers.with-peer": pick("Overgange med peer-støtte", "Handovers supported by a peer")
        case "handovers.median-days": pick("Overgange, mediantid i dage", "Handovers, median days")
        case "attendance.contacts": pick("Kontakter", "Contacts")
        case "milestones.reached": pick("Milepæle nået", "Milestones reached")
        default: name
        }
    }

    public func teamKind(_ kind: String) -> String {
        switch kind {
        case "peer-team": pick("Peer-team", "Peer team")
        case "shared-post": pick("Delestilling", "Shared post")
        case "school-boost": pick("Fagligt løft af skolen", "School boost")
        case "working-group": pick("Arbejdsgruppe", "Working group")
        case "peer-staff": pick("Peerstab", "Peer staff")
        case "project-management": pick("Projektledelse", "Project management")
        default: kind
        }
    }

    public func bodyKind(_ kind: String) -> String {
        switch kind {
        case "steering-group": pick("Styregruppe", "Steering group")
        case "implementation-team": pick("Implementeringsteam", "Implementation team")
        case "local-implementation-team": pick("Lokalt implementeringsteam", "Local implementation team")
        case "leaders-meeting": pick("Ledermøde", "Leaders' meeting")
        case "political-committee": pick("Politisk udvalg", "Political committee")
        case "dialogue-forum": pick("Dialogforum", "Dialogue forum")
        case "network": pick("Netværk", "Network")
        case "advisory-board": pick("Advisory board", "Advisory board")
        default: kind
        }
    }

    public func trainingKind(_ kind: String) -> String {
        switch kind {
        case "theme-day": pick("Temadag", "Theme day")
        case "course": pick("Kursus", "Course")
        case "joint-competence-development": pick("Fælles kompetenceudvikling", "Joint competence development")
        case "peer-education": pick("Peeruddannelse", "Peer education")
        default: kind
        }
    }

    public func role(_ role: String) -> String {
        switch role {
        case "peer": pick("Peer", "Peer")
        case "professional": pick("Fagprofessionel", "Professional")
        case "project-leader": pick("Projektleder", "Project leader")
        default: role
        }
    }

    /// A body's cadence; nil is a body without one.
    public func cadence(_ cadence: String?) -> String {
        switch cadence {
        case "quarterly": pick("Hvert kvartal", "Quarterly")
        case "half-yearly": pick("Hvert halvår", "Half-yearly")
        case "yearly": pick("Én gang om året", "Yearly")
        case "4-per-year": pick("4 gange om året", "4 times a year")
        case "as-needed": pick("Efter behov", "As needed")
        case nil: pick("Ingen fast kadence", "No set cadence")
        case let other?: other
        }
    }

    public func cadenceStatus(_ status: ReportModel.CadenceStatus) -> String {
        switch status {
        case .kept: pick("holdt", "kept")
        case .missed: pick("ikke holdt", "missed")
        case .running: pick("i gang", "running")
        case .noTarget: pick("intet mål", "no target")
        }
    }

    /// A one-character mark for a cadence cell, explained by `cadenceStatus`.
    func cadenceMark(_ status: ReportModel.CadenceStatus) -> String {
        switch status {
        case .kept: "✓"
        case .missed: "✗"
        case .running: "…"
        case .noTarget: "·"
        }
    }

    // MARK: periods, dates and numbers

    public enum PeriodStyle: Sendable {
        /// `2. kvartal 2021`, `Q2 2021`.
        case short
        /// `2. kvartal 2021`, `second quarter of 2021`.
        case long
    }

    /// A period's name: `1. halvår 2019`, `2. kvartal 2021`, `2019`; `H1 2019`, `Q2 2021`.
    public func period(_ period: Period, style: PeriodStyle = .short) -> String {
        let ordinals = ["first", "second", "third", "fourth"]
        switch (period.length, language, style) {
        case (.year, _, _): return String(period.year)
        case (.half, .da, _): return "\(period.index). halvår \(period.year)"
        case (.quarter, .da, _): return "\(period.index). kvartal \(period.year)"
        case (.half, .en, .short): return "H\(period.index) \(period.year)"
        case (.quarter, .en, .short): return "Q\(period.index) \(period.year)"
        case (.half, .en, .long): return "\(ordinals[period.index - 1]) half of \(period.year)"
        case (.quarter, .en, .long): return "\(ordinals[period.index - 1]) quarter of \(period.year)"
        }
    }

    /// A period given as text (`2019-H1`); text that is not a period is returned as is.
    public func period(_ text: String, style: PeriodStyle = .short) -> String {
        Period(text).map { period($0, style: style) } ?? text
    }

    /// `3. november 2020`, `3 November 2020`.
    public func date(_ date: Timestamp.CalendarDate) -> String {
        let da = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober", "november", "december"]
        let en = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        return pick("\(date.day). \(da[date.month - 1]) \(date.year)", "\(date.day) \(en[date.month - 1]) \(date.year)")
    }

    /// An `occurred` value as a date; a date-time is shown by its calendar date.
    public func date(occurred: String) -> String {
        Timestamp.calendarDate(ofOccurred: occurred).map(date) ?? occurred
    }

    /// A whole number with the language's thousands separator: `1.234`, `1,234`.
    public func integer(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (offset, character) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { grouped.append(pick(".", ",")) }
            grouped.append(character)
        }
        return (value < 0 ? "−" : "") + grouped
    }

    /// A number given in tenths, with one decimal: `87,5`, `87.5`.
    public func decimal(tenths: Int) -> String {
        let whole = integer(tenths / 10)
        return whole + pick(",", ".") + String((tenths % 10).magnitude)
    }

    /// A percentage given in tenths of a per cent: `87,5 %`, `87.5%`.
    public func percent(tenths: Int) -> String {
        decimal(tenths: tenths) + pick(" %", "%")
    }

    /// A short quarter mark for a chart axis: `K2`, `Q2`.
    func quarterMark(_ index: Int) -> String { pick("K\(index)", "Q\(index)") }
}
