import EventStore

/// The things events name by a slug and that must exist before they are named (SPEC §3).
public enum ReferenceKind: String, Sendable, CaseIterable {
    case unit, team, body, person, `case`, meeting, training, milestone

    /// The event type that brings one into being, for error messages.
    var creatingType: String {
        switch self {
        case .unit: "unit.registered"
        case .team: "team.established"
        case .body: "body.established"
        case .person: "staff.hired"
        case .case: "handover.started"
        case .meeting: "meeting.held"
        case .training: "training.held"
        case .milestone: "evaluation.milestone"
        }
    }
}

/// The shape of one member of `data`.
public indirect enum MemberKind: Sendable, Equatable {
    /// A slug naming something that must exist by then.
    case reference(ReferenceKind)
    /// A slug that brings a new thing into being; it must not exist yet.
    case creates(ReferenceKind)
    /// A slug with no existence rule (an offer, a milestone name).
    case slug
    /// Free text, at least one character.
    case text
    case integer(min: Int?)
    case oneOf([String])
    /// A non-empty list of references.
    case referenceList(ReferenceKind)
    case stringList
    /// An object with exactly these integer members (all optional unless listed).
    case counts([String])
    /// An object from unit to a count ≥ 0, at least one member.
    case participants
    /// `YYYY`, `YYYY-H1|H2`, `YYYY-Q1…Q4`.
    case period
    /// A text kept as an attachment: the caller gives the text, the line holds its reference.
    case attachment
    /// `SEQ:HASH` of the log head.
    case seal
    case eventID
    /// A stream `KIND/KEY` that exists in the log.
    case stream
    /// A KPI name of SPEC §5.
    case kpiName
    /// An id, `project`, or `FROM->TO`.
    case scope
    /// `N-M`, such as `18-23`.
    case ageBand
    /// The members of another event's `data` and their new values.
    case changes
}

public struct MemberSpec: Sendable, Equatable {
    public let name: String
    public let kind: MemberKind
    public let required: Bool
}

/// One event type of the catalog.
public struct EventType: Sendable {
    public let name: String
    public let summary: String
    public let members: [MemberSpec]
    /// The member whose value names the stream (`unit/<unit>`), when there is one.
    public let streamKind: String
    public let streamMember: String?
    /// Written by the store only; an append of it is refused.
    public let storeOnly: Bool

    public func member(_ name: String) -> MemberSpec? { members.first { $0.name == name } }
}

/// The catalog of SPEC §3: every type, its members, kinds and stream. `v` is 1 for all.
public enum Catalog {
    public static let version = 1

    public static let kpiNames = [
        "peers.employed", "professionals.employed", "units.with-peer", "training.participants", "training.held",
        "meetings.held", "handovers.started", "handovers.completed", "handovers.open", "handovers.with-peer",
        "handovers.median-days", "attendance.contacts", "milestones.reached",
    ]

    public static let teamKinds = ["peer-team", "shared-post", "school-boost", "working-group", "peer-staff", "project-management"]
    public static let roles = ["peer", "professional", "project-leader"]
    public static let trainingKinds = ["theme-day", "course", "joint-competence-development", "peer-education"]
    public static let bodyKinds = ["steering-group", "implementation-team", "local-implementation-team", "leaders-meeting",
                                   "political-committee", "dialogue-forum", "network", "advisory-board"]
    public static let cadences = ["quarterly", "half-yearly", "yearly", "4-per-year", "as-needed"]
    public static let outcomes = ["accepted", "declined", "redirected"]

    private static func required(_ name: String, _ kind: MemberKind) -> MemberSpec { MemberSpec(name: name, kind: kind, required: true) }
    private static func optional(_ name: String, _ kind: MemberKind) -> MemberSpec { MemberSpec(name: name, kind: kind, required: false) }

    public static let types: [EventType] = [
        EventType(name: "unit.registered", summary: "An organisational unit takes part in the project.",
                  members: [required("unit", .creates(.unit)), required("name", .text), optional("headcount", .integer(min: 0)), optional("parent", .reference(.unit))],
                  streamKind: "unit", streamMember: "unit", storeOnly: false),
        EventType(name: "unit.updated", summary: "A unit changed: name, headcount or parent (e.g. a merger).",
                  members: [required("unit", .reference(.unit)), optional("name", .text), optional("headcount", .integer(min: 0)), optional("parent", .reference(.unit))],
                  streamKind: "unit", streamMember: "unit", storeOnly: false),
        EventType(name: "team.established", summary: "A team, shared post or working group is set up, with its plan.",
                  members: [required("team", .creates(.team)), required("name", .text), required("kind", .oneOf(teamKinds)),
                            required("units", .referenceList(.unit)), optional("plan", .counts(["peers", "professionals"]))],
                  streamKind: "team", streamMember: "team", storeOnly: false),
        EventType(name: "team.closed", summary: "A team ends.",
                  members: [required("team", .reference(.team)), optional("reason", .text)],
                  streamKind: "team", streamMember: "team", storeOnly: false),
        EventType(name: "staff.hired", summary: "A person (pseudonymous) starts in a team.",
                  members: [required("person", .creates(.person)), required("role", .oneOf(roles)), required("team", .reference(.team)),
                            optional("hoursPerWeek", .integer(min: 0))],
                  streamKind: "person", streamMember: "person", storeOnly: false),
        EventType(name: "staff.left", summary: "A person leaves.",
                  members: [required("person", .reference(.person)), optional("reason", .text)],
                  streamKind: "person", streamMember: "person", storeOnly: false),
        EventType(name: "training.held", summary: "A theme day, course or joint competence development was held.",
                  members: [required("training", .creates(.training)), required("title", .text), required("kind", .oneOf(trainingKinds)),
                            required("participants", .participants), optional("provider", .reference(.unit)),
                            optional("teachers", .counts(["professionals", "peers"])), optional("hours", .integer(min: 0))],
                  streamKind: "training", streamMember: "training", storeOnly: false),
        EventType(name: "handover.started", summary: "A young citizen's handover from one unit to another starts.",
                  members: [required("case", .creates(.case)), required("from", .reference(.unit)), required("to", .reference(.unit)),
                            optional("peer", .reference(.person)), optional("ageBand", .ageBand)],
                  streamKind: "handover", streamMember: "case", storeOnly: false),
        EventType(name: "handover.completed", summary: "An open handover is completed.",
                  members: [required("case", .reference(.case)), optional("outcome", .oneOf(outcomes))],
                  streamKind: "handover", streamMember: "case", storeOnly: false),
        EventType(name: "handover.cancelled", summary: "An open handover is cancelled.",
                  members: [required("case", .reference(.case)), optional("reason", .text)],
                  streamKind: "handover", streamMember: "case", storeOnly: false),
        EventType(name: "body.established", summary: "A governance body is set up, with its meeting cadence.",
                  members: [required("body", .creates(.body)), required("name", .text), required("kind", .oneOf(bodyKinds)),
                            optional("cadence", .oneOf(cadences))],
                  streamKind: "body", streamMember: "body", storeOnly: false),
        EventType(name: "meeting.held", summary: "A body met.",
                  members: [required("meeting", .creates(.meeting)), required("body", .reference(.body)),
                            optional("attendees", .integer(min: 0)), optional("agenda", .stringList)],
                  streamKind: "meeting", streamMember: "meeting", storeOnly: false),
        EventType(name: "minutes.recorded", summary: "The minutes of a meeting, kept as an attachment.",
                  members: [required("meeting", .reference(.meeting)), required("text", .attachment),
                            optional("decisions", .stringList), optional("seal", .seal)],
                  streamKind: "meeting", streamMember: "meeting", storeOnly: false),
        EventType(name: "evaluation.milestone", summary: "An evaluation milestone was reached.",
                  members: [required("milestone", .creates(.milestone)), required("title", .text), optional("by", .text), optional("findings", .stringList)],
                  streamKind: "evaluation", streamMember: "milestone", storeOnly: false),
        EventType(name: "target.set", summary: "A KPI target is set or replaced.",
                  members: [required("kpi", .kpiName), required("scope", .scope), required("value", .integer(min: nil)), optional("period", .period)],
                  streamKind: "target", streamMember: nil, storeOnly: false),
        EventType(name: "attendance.counted", summary: "Contacts (and unique citizens) of an offer at a venue in a period.",
                  members: [required("offer", .slug), required("venue", .reference(.unit)), required("period", .period),
                            required("contacts", .integer(min: 0)), optional("citizens", .integer(min: 0))],
                  streamKind: "attendance", streamMember: nil, storeOnly: false),
        EventType(name: "note.recorded", summary: "A note about a stream, kept as an attachment.",
                  members: [required("about", .stream), required("text", .attachment)],
                  streamKind: "", streamMember: "about", storeOnly: false),
        EventType(name: "event.corrected", summary: "Corrects members of an earlier event's data, or its occurred.",
                  members: [required("target", .eventID), required("reason", .text), optional("changes", .changes), optional("occurred", .text)],
                  streamKind: "", streamMember: nil, storeOnly: false),
        EventType(name: "event.retracted", summary: "Withdraws an earlier event: it counts for nothing.",
                  members: [required("target", .eventID), required("reason", .text)],
                  streamKind: "", streamMember: nil, storeOnly: false),
        EventType(name: "text.erased", summary: "A text's attachment is deleted; the chain still verifies.",
                  members: [required("ref", .text), required("reason", .text)],
                  streamKind: "text", streamMember: "ref", storeOnly: false),
        EventType(name: "log.tail-quarantined", summary: "The store moved a torn tail aside (written by the store only).",
                  members: [required("file", .text), required("offset", .integer(min: 0)), required("bytes", .integer(min: 0)), required("quarantine", .text)],
                  streamKind: "log", streamMember: "file", storeOnly: true),
    ]

    private static let indexByName: [String: Int] = Dictionary(uniqueKeysWithValues: types.indices.map { (types[$0].name, $0) })

    public static func type(named name: String) -> EventType? { indexByName[name].map { types[$0] } }

    /// The place of `type` in `types`.
    static func index(of type: EventType) -> Int { indexByName[type.name]! }

    /// The stream of a fact whose type's stream does not depend on another event.
    /// Corrections and retractions take their target's stream instead.
    static func stream(of type: EventType, data: JSONObject) -> String? {
        switch type.name {
        case "target.set":
            guard let kpi = data["kpi"]?.stringValue, let scope = data["scope"]?.stringValue else { return nil }
            return "target/\(kpi)/\(scope)"
        case "attendance.counted":
            guard let venue = data["venue"]?.stringValue, let offer = data["offer"]?.stringValue else { return nil }
            return "attendance/\(venue)/\(offer)"
        case "note.recorded":
            return data["about"]?.stringValue
        default:
            guard let member = type.streamMember, let key = data[member]?.stringValue else { return nil }
            return "\(type.streamKind)/\(key)"
        }
    }

    // MARK: shapes

    static func isSlug(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard (1...64).contains(b.count) else { return false }
        func lowerOrDigit(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
        return lowerOrDigit(b[0]) && b.dropFirst().allSatisfy { lowerOrDigit($0) || $0 == UInt8(ascii: "-") }
    }

    static func isAgeBand(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { (1...3).contains($0.count) && $0.allSatisfy(\.isASCII) && Int($0) != nil }
    }
}

extension Catalog {
    /// A `key=value` argument's value, typed by the catalog: integers as integers,
    /// lists and objects as JSON, everything else as the string typed.
    ///
    /// - Throws: `ValidationError` naming `data.KEY` when the text is not of that kind.
    public static func value(ofArgument text: String, member key: String, of typeName: String) throws(ValidationError) -> JSONValue {
        guard let kind = type(named: typeName)?.member(key)?.kind else { return .string(text) }
        switch kind {
        case .integer:
            guard let number = Int(text) else { throw ValidationError("data.\(key)", "must be an integer, found \"\(text)\"") }
            guard (-JSONValue.maxSafeInteger...JSONValue.maxSafeInteger).contains(number) else {
                throw ValidationError("data.\(key)", "must be an integer within ±(2^53−1), found \(text)")
            }
            return .integer(number)
        case .referenceList, .stringList, .counts, .participants, .changes:
            do { return try JSONParser.parse(Array(text.utf8), integersOnly: true) } catch {
                throw ValidationError("data.\(key)", "must be JSON (a list or an object), and \(error)")
            }
        default:
            return .string(text)
        }
    }
}
