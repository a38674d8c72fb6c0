import EventStore

/// Why an event was refused: the member (a path such as `data.participants.cpi`) and
/// the reason. Nothing is written when one is thrown.
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var member: String
    public var reason: String

    public init(_ member: String, _ reason: String) {
        self.member = member
        self.reason = reason
    }

    public var description: String { "\(member): \(reason)" }
}

/// A fact a caller wants to append, before the store gives it its envelope.
public struct NewEvent: Sendable, Equatable {
    public var type: String
    public var data: JSONObject
    /// nil: today in the log's time zone.
    public var occurred: String?
    public var source: String?
    public var actor: String
    public var id: String?

    public init(type: String, data: JSONObject, occurred: String? = nil, source: String? = nil, actor: String, id: String? = nil) {
        self.type = type
        self.data = data
        self.occurred = occurred
        self.source = source
        self.actor = actor
        self.id = id
    }
}

/// The rules of SPEC §3 an append checks.
enum Validator {
    /// What the event may hold in its attachment members.
    enum TextForm {
        /// Texts as the caller typed them (checked for CPR numbers, then stored).
        case raw
        /// Text references, as they stand in a line.
        case reference
    }

    // MARK: shape: the catalog alone

    /// Checks type, members, kinds, the envelope strings and the CPR guard. Needs no log.
    static func checkShape(_ new: NewEvent, texts: TextForm) throws(ValidationError) -> EventType {
        guard let type = Catalog.type(named: new.type) else {
            let suggestion = Suggest.closest(to: new.type, among: Catalog.types.map(\.name)).map { " Did you mean '\($0)'?" } ?? ""
            throw ValidationError("type", "unknown event type \"\(new.type)\"; 'recoveryctl types' lists the catalog.\(suggestion)")
        }
        guard !type.storeOnly else { throw ValidationError("type", "\(type.name) is written by the store only") }
        if let id = new.id, !EventID.isValid(id) {
            throw ValidationError("id", "\"\(id)\" is not a lower-case UUID (like 3f2c9a4e-8b1d-4c6e-9f0a-1b2c3d4e5f60)")
        }
        if let occurred = new.occurred, !Timestamp.isValidOccurred(occurred) {
            throw ValidationError("occurred", "\"\(occurred)\" is not a real date YYYY-MM-DD or a date-time with Z or an offset")
        }
        try checkNoCPR(new.actor, at: "actor")
        if new.actor.isEmpty { throw ValidationError("actor", "must not be empty") }
        if let source = new.source { try checkNoCPR(source, at: "source") }
        try checkData(new.data, of: type, texts: texts, path: "data")
        return type
    }

    static func checkData(_ data: JSONObject, of type: EventType, texts: TextForm, path: String, partial: Bool = false) throws(ValidationError) {
        for key in data.keys where type.member(key) == nil {
            let known = type.members.map(\.name).joined(separator: ", ")
            throw ValidationError("\(path).\(key)", "unknown member for \(type.name) (it takes: \(known))")
        }
        if !partial {
            for member in type.members where member.required && data[member.name] == nil {
                throw ValidationError("\(path).\(member.name)", "missing; \(type.name) requires it")
            }
        }
        for (key, value) in data.members {
            try checkValue(value, kind: type.member(key)!.kind, texts: texts, path: "\(path).\(key)")
        }
        // Event ids, seals and text references are checked by their form, not by the
        // CPR guard (SPEC §3): a hash or UUID can read like a CPR number by chance.
        var scanned = data
        for (key, value) in data.members where isFormChecked(key, value, kind: type.member(key)!.kind, of: type, texts: texts) {
            scanned[key] = nil
        }
        if let match = CPRGuard.firstMatch(in: .object(scanned)) {
            // A member name can be the number itself; the error must not repeat it.
            let place = match.path.replacing(match.match, with: "…")
            throw ValidationError(place.isEmpty ? path : "\(path).\(place)", cprReason)
        }
        if type.name == "event.corrected" && !partial && data["changes"] == nil && data["occurred"] == nil {
            throw ValidationError(path, "event.corrected needs \"changes\", \"occurred\" or both")
        }
    }

    private static func isFormChecked(_ key: String, _ value: JSONValue, kind: MemberKind, of type: EventType, texts: TextForm) -> Bool {
        switch kind {
        case .eventID, .seal: return true
        case .attachment: return texts == .reference
        default: return type.name == EventLog.textErasedType && key == "ref" && EventLog.isTextReference(value.stringValue ?? "")
        }
    }

    static let cprReason = "holds what looks like a CPR number (six digits forming a date, then four digits); the log can never erase a line, so it must hold no CPR numbers. Use a pseudonymous reference instead"

    static func checkNoCPR(_ text: String, at member: String) throws(ValidationError) {
        if CPRGuard.firstMatch(in: text) != nil { throw ValidationError(member, cprReason) }
    }

    private static func checkValue(_ value: JSONValue, kind: MemberKind, texts: TextForm, path: String) throws(ValidationError) {
        func string() throws(ValidationError) -> String {
            guard case .string(let s) = value else { throw ValidationError(path, "must be a string, found \(describe(value))") }
            return s
        }
        func slug() throws(ValidationError) -> String {
            let s = try string()
            guard Catalog.isSlug(s) else { throw ValidationError(path, "\"\(s)\" is not a slug (lower-case letters, digits and '-', 1–64 characters, starting with a letter or digit)") }
            return s
        }
        func integer(min: Int?) throws(ValidationError) {
            guard case .integer(let i) = value else { throw ValidationError(path, "must be an integer, found \(describe(value))") }
            // A line holding more could never be read back (SPEC §2).
            guard (-JSONValue.maxSafeInteger...JSONValue.maxSafeInteger).contains(i) else { throw ValidationError(path, "must be an integer within ±(2^53−1), found \(i)") }
            if let min, i < min { throw ValidationError(path, "must be at least \(min), found \(i)") }
        }
        switch kind {
        case .reference, .creates, .slug:
            _ = try slug()
        case .text:
            if try string().isEmpty { throw ValidationError(path, "must not be empty") }
        case .integer(let min):
            try integer(min: min)
        case .oneOf(let values):
            let s = try string()
            guard values.contains(s) else { throw ValidationError(path, "\"\(s)\" is not one of \(values.joined(separator: ", "))") }
        case .referenceList:
            guard case .array(let items) = value, !items.isEmpty else { throw ValidationError(path, "must be a non-empty list of slugs") }
            for (i, item) in items.enumerated() { try checkValue(item, kind: .slug, texts: texts, path: "\(path)[\(i)]") }
        case .stringList:
            guard case .array(let items) = value else { throw ValidationError(path, "must be a list of strings, found \(describe(value))") }
            for (i, item) in items.enumerated() { try checkValue(item, kind: .text, texts: texts, path: "\(path)[\(i)]") }
        case .counts(let names):
            guard case .object(let object) = value else { throw ValidationError(path, "must be an object with \(names.joined(separator: ", "))") }
            for key in object.keys where !names.contains(key) { throw ValidationError("\(path).\(key)", "unknown member (it takes: \(names.joined(separator: ", ")))") }
            for (key, item) in object.members { try checkValue(item, kind: .integer(min: 0), texts: texts, path: "\(path).\(key)") }
        case .participants:
            guard case .object(let object) = value, !object.isEmpty else { throw ValidationError(path, "must be an object from unit to a count, with at least one unit") }
            for (key, item) in object.members {
                guard Catalog.isSlug(key) else { throw ValidationError("\(path).\(key)", "is not a unit slug") }
                try checkValue(item, kind: .integer(min: 0), texts: texts, path: "\(path).\(key)")
            }
        case .period:
            let s = try string()
            guard Period(s) != nil else { throw ValidationError(path, "\"\(s)\" is not a period (YYYY, YYYY-H1, YYYY-H2 or YYYY-Q1 … YYYY-Q4)") }
        case .attachment:
            let s = try string()
            switch texts {
            case .raw: if s.isEmpty { throw ValidationError(path, "must not be empty") }
            case .reference: guard EventLog.isTextReference(s) else { throw ValidationError(path, "must be a text reference (sha256- and 64 hex digits)") }
            }
        case .seal:
            let s = try string()
            guard LogHead(seal: s) != nil else { throw ValidationError(path, "\"\(s)\" is not a seal SEQ:HASH ('recoveryctl head' prints one)") }
        case .eventID:
            let s = try string()
            guard EventID.isValid(s) else { throw ValidationError(path, "\"\(s)\" is not an event id (a lower-case UUID)") }
        case .stream:
            let s = try string()
            guard let slash = s.firstIndex(of: "/"), s[..<slash].allSatisfy({ $0.isASCII && $0.isLowercase }), s.index(after: slash) < s.endIndex else {
                throw ValidationError(path, "\"\(s)\" is not a stream KIND/KEY (like team/bosteder-peers)")
            }
        case .kpiName:
            let s = try string()
            guard Catalog.kpiNames.contains(s) else { throw ValidationError(path, "\"\(s)\" is not a KPI (one of \(Catalog.kpiNames.joined(separator: ", ")))") }
        case .scope:
            let s = try string()
            let parts = s.split(separator: "->", omittingEmptySubsequences: false).map(String.init)
            guard (parts.count == 1 || parts.count == 2) && parts.allSatisfy(Catalog.isSlug) else {
                throw ValidationError(path, "\"\(s)\" is not a scope (an id, \"project\", or FROM->TO)")
            }
        case .ageBand:
            let s = try string()
            guard Catalog.isAgeBand(s) else { throw ValidationError(path, "\"\(s)\" is not an age band like 18-23") }
        case .changes:
            guard case .object(let object) = value, !object.isEmpty else { throw ValidationError(path, "must be a non-empty object of data members and their new values") }
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): String(b)
        case .integer(let i): String(i)
        case .number(let d): "the number \(d)"
        case .string(let s): "the string \"\(s)\""
        case .array: "a list"
        case .object: "an object"
        }
    }

    // MARK: references: against the log as it stands

    /// What the log holds besides the state: for seals.
    struct Lookup {
        /// The full history, needed only to check a seal.
        var history: History?
    }

    /// Checks what the event names against the state at the head it is appended to.
    static func checkReferences(_ data: JSONObject, of type: EventType, state: ValidationState, lookup: Lookup, path: String = "data", creating: Bool = true) throws(ValidationError) {
        for member in type.members {
            guard let value = data[member.name] else { continue }
            let at = "\(path).\(member.name)"
            switch member.kind {
            case .reference(let kind):
                // A correction keeps its event where it stands: a team closed since still exists for it.
                if !creating, kind == .team, state.flags(.team, value.stringValue ?? "").contains(.exists) { continue }
                try requireExists(kind, value.stringValue ?? "", at: at, state: state, type: type)
            case .creates(let kind):
                if creating { try requireNew(kind, value.stringValue ?? "", at: at, state: state) }
            case .referenceList(let kind):
                for (i, item) in (value.arrayValue ?? []).enumerated() {
                    try requireExists(kind, item.stringValue ?? "", at: "\(at)[\(i)]", state: state, type: type)
                }
            case .participants:
                for unit in value.objectValue?.keys ?? [] { try requireExists(.unit, unit, at: "\(at).\(unit)", state: state, type: type) }
            case .stream:
                let stream = value.stringValue ?? ""
                guard state.isStream(stream) else { throw ValidationError(at, "no event in the log is about \(stream)") }
            case .seal:
                guard let seal = LogHead(seal: value.stringValue ?? ""), let sealed = lookup.history?.event(seq: seal.seq), sealed.event.hash == seal.hash else {
                    throw ValidationError(at, "\(value.stringValue ?? "") is not the seq and hash of an event in this log")
                }
            default:
                continue
            }
        }
        // Rules that depend on more than one member or on the state of a thing.
        switch type.name {
        // A correction keeps the event where it stands: only a new event changes what is open or employed.
        case "staff.left" where creating:
            if let person = data["person"]?.stringValue, !state.flags(.person, person).contains(.employed) {
                throw ValidationError("\(path).person", "\(person) is not employed (no staff.hired without a later staff.left)")
            }
        case "handover.completed" where creating, "handover.cancelled" where creating:
            if let id = data["case"]?.stringValue {
                let handover = state.flags(.case, id)
                if handover.contains(.exists), let status = handover.contains(.completed) ? "completed" : handover.contains(.cancelled) ? "cancelled" : nil {
                    throw ValidationError("\(path).case", "handover \(id) is already \(status); only an open handover can be closed")
                }
            }
        case "handover.started":
            if let from = data["from"]?.stringValue, from == data["to"]?.stringValue {
                throw ValidationError("\(path).to", "a handover goes from one unit to another, not to \(from) itself")
            }
        case "text.erased":
            let reference = data["ref"]?.stringValue ?? ""
            guard EventLog.isTextReference(reference) else { throw ValidationError("\(path).ref", "\"\(reference)\" is not a text reference (sha256- and 64 hex digits)") }
            guard !state.isErasedText(reference) else { throw ValidationError("\(path).ref", "\(reference) is already erased") }
            guard state.isNamedText(reference) else { throw ValidationError("\(path).ref", "no event in the log names the text \(reference)") }
        default:
            break
        }
    }

    private static func requireExists(_ kind: ReferenceKind, _ id: String, at path: String, state: ValidationState, type: EventType) throws(ValidationError) {
        let flags = state.flags(kind, id)
        // A team closed counts as gone.
        guard flags.contains(.exists), !(kind == .team && flags.contains(.closed)) else {
            if kind == .team, flags.contains([.exists, .closed]) { throw ValidationError(path, "team \(id) is closed") }
            throw ValidationError(path, "\(kind.rawValue) \(id) does not exist in the log by now (\(kind.creatingType) brings one into being)")
        }
    }

    private static func requireNew(_ kind: ReferenceKind, _ id: String, at path: String, state: ValidationState) throws(ValidationError) {
        let flags = state.flags(kind, id)
        // A person who left may be hired again.
        if flags.contains(kind == .person ? [.exists, .employed] : .exists) {
            let what = kind == .person ? "\(id) is already employed" : "\(kind.rawValue) \(id) already exists"
            throw ValidationError(path, "\(what); \(kind.creatingType) creates a new one (use unit.updated, event.corrected or another id)")
        }
    }
}
