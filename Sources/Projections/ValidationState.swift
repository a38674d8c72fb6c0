import EventStore

/// What an append validates against (SPEC §3's rules), and nothing more: which streams
/// the log names, which texts it names and erased, and for every unit, team, body,
/// person, case, meeting, training and milestone whether it exists, and whether a team
/// is closed, a person employed, a handover completed or cancelled.
///
/// `ProjectState` holds all that too, with names, dates and lists that validation
/// never reads; at a million events it was 140 MB to load for every append. Here every
/// fact is one entry in one byte buffer, keyed by the stream that names it (a thing of
/// kind K with id X exists only through an event on stream `K/X`, so the streams and
/// the things share their keys), with an open-addressing index over it. The checkpoint
/// stores the buffer as it is, and loading rebuilds only the index.
///
/// `apply` folds exactly what `ProjectState.apply` folds of those facts (`ValidationStateTests`
/// compares the two on generated logs). A correction cannot change any of them: the
/// members they depend on name the event's stream or are required, and neither can be
/// corrected away; a retraction can, which `refold` handles.
struct ValidationState: Sendable {
    /// What an entry records of its key.
    struct Flags: OptionSet, Sendable, Hashable {
        let rawValue: UInt8
        /// Some event's stream.
        static let stream = Flags(rawValue: 1 << 0)
        /// The thing the key names exists (registered, established, hired, started, held).
        static let exists = Flags(rawValue: 1 << 1)
        /// A team: closed.
        static let closed = Flags(rawValue: 1 << 2)
        /// A person: employed (hired, not left since).
        static let employed = Flags(rawValue: 1 << 3)
        /// A handover: completed, or cancelled (open when it exists and is neither).
        static let completed = Flags(rawValue: 1 << 4)
        static let cancelled = Flags(rawValue: 1 << 5)
        /// A text reference (key `text/REF`): named by an event, erased.
        static let text = Flags(rawValue: 1 << 6)
        static let erased = Flags(rawValue: 1 << 7)

        /// What a fold of the facts decides; cleared before folding again.
        static let folded: Flags = [.exists, .closed, .employed, .completed, .cancelled]
    }

    /// The entries, one after another from `base`: the flags (one byte), the key's
    /// length (LEB128) and the key's UTF-8 bytes. Bytes before `base` are not entries
    /// (a loaded checkpoint keeps its header and index there, so its buffer needs no copy).
    private(set) var storage: [UInt8] = []
    private(set) var base = 0
    /// Open addressing over the entries: 0 is empty, else an entry's offset from `base`,
    /// plus 1. The count is 0 or a power of two, at most three quarters full.
    private var slots: [Int] = []
    /// Entries in `storage`.
    private(set) var count = 0

    init() {}

    // MARK: keys

    static func key(_ kind: ReferenceKind, _ id: String) -> String { "\(streamKind(of: kind))/\(id)" }

    static func streamKind(of kind: ReferenceKind) -> String {
        switch kind {
        case .case: "handover"
        case .milestone: "evaluation"
        default: kind.rawValue
        }
    }

    static func textKey(_ reference: String) -> String { "text/\(reference)" }

    // MARK: reading

    func flags(_ key: String) -> Flags {
        var key = key
        return key.withUTF8 { bytes in find(bytes).map { Flags(rawValue: storage[$0]) } ?? [] }
    }

    func flags(_ kind: ReferenceKind, _ id: String) -> Flags { flags(ValidationState.key(kind, id)) }

    func isStream(_ stream: String) -> Bool { flags(stream).contains(.stream) }
    func isNamedText(_ reference: String) -> Bool { flags(ValidationState.textKey(reference)).contains(.text) }
    func isErasedText(_ reference: String) -> Bool { flags(ValidationState.textKey(reference)).contains(.erased) }

    /// Every entry with its flags, in the order added.
    func forEachEntry(_ body: (String, Flags) -> Void) {
        storage.withUnsafeBytes { raw in
            var at = base
            while let (start, length) = ValidationState.entry(raw, at: at) {
                body(String(decoding: UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)]), as: UTF8.self), Flags(rawValue: raw[at]))
                at = start + length
            }
        }
    }

    /// The keys whose flags hold any of `mask`, with those flags, sorted: for tests and messages.
    func entries(_ mask: Flags) -> [String: Flags] {
        var result: [String: Flags] = [:]
        forEachEntry { key, flags in
            let kept = flags.intersection(mask)
            if !kept.isEmpty { result[key] = kept }
        }
        return result
    }

    // MARK: folding

    mutating func noteStream(_ stream: String) { update(stream, insert: true) { $0.insert(.stream) } }
    mutating func noteText(_ reference: String) { update(ValidationState.textKey(reference), insert: true) { $0.insert(.text) } }
    mutating func noteErased(_ reference: String) { update(ValidationState.textKey(reference), insert: true) { $0.insert(.erased) } }

    /// Folds one fact in, as `ProjectState.apply` does for what validation reads. Facts
    /// are assumed valid; a fact naming something unknown changes nothing.
    mutating func apply(type: String, data: JSONObject) {
        func key(_ kind: ReferenceKind, _ member: String) -> String? {
            guard case .string(let id)? = data[member] else { return nil }
            return ValidationState.key(kind, id)
        }
        func has(_ member: String) -> Bool { data[member]?.stringValue != nil }
        switch type {
        case "unit.registered":
            if let key = key(.unit, "unit") { update(key, insert: true) { $0.insert(.exists) } }
        case "team.established":
            if let key = key(.team, "team") { update(key, insert: true) { $0.insert(.exists); $0.remove(.closed) } }
        case "team.closed":
            if let key = key(.team, "team") { update(key) { if $0.contains(.exists) { $0.insert(.closed) } } }
        case "staff.hired":
            if let key = key(.person, "person"), has("role"), has("team") { update(key, insert: true) { $0.formUnion([.exists, .employed]) } }
        case "staff.left":
            if let key = key(.person, "person") { update(key) { $0.remove(.employed) } }
        case "training.held":
            if let key = key(.training, "training") { update(key, insert: true) { $0.insert(.exists) } }
        case "handover.started":
            if let key = key(.case, "case"), has("from"), has("to") {
                update(key, insert: true) { $0.insert(.exists); $0.subtract([.completed, .cancelled]) }
            }
        case "handover.completed", "handover.cancelled":
            let status: Flags = type == "handover.completed" ? .completed : .cancelled
            if let key = key(.case, "case") {
                update(key) { if $0.contains(.exists) && $0.isDisjoint(with: [.completed, .cancelled]) { $0.insert(status) } }
            }
        case "body.established":
            if let key = key(.body, "body") { update(key, insert: true) { $0.insert(.exists) } }
        case "meeting.held":
            if let key = key(.meeting, "meeting"), has("body") { update(key, insert: true) { $0.insert(.exists) } }
        case "evaluation.milestone":
            if let key = key(.milestone, "milestone") { update(key, insert: true) { $0.insert(.exists) } }
        default:
            return
        }
    }

    /// Forgets what the facts folded (not the streams and texts) and folds `facts` again:
    /// after a retraction undid one.
    mutating func refold(_ facts: some Sequence<ResolvedEvent>) {
        let base = self.base
        storage.withUnsafeMutableBytes { raw in
            var at = base
            while let (start, length) = ValidationState.entry(UnsafeRawBufferPointer(raw), at: at) {
                raw[at] &= ~Flags.folded.rawValue
                at = start + length
            }
        }
        for fact in facts { apply(type: fact.event.type, data: fact.data) }
    }

    // MARK: the table

    /// Changes the flags of `key`; adds it first when `insert` (else an absent key stays absent).
    private mutating func update(_ key: String, insert: Bool = false, _ change: (inout Flags) -> Void) {
        var key = key
        key.withUTF8 { bytes in
            if let at = find(bytes) {
                var flags = Flags(rawValue: storage[at])
                change(&flags)
                storage[at] = flags.rawValue
            } else if insert {
                var flags: Flags = []
                change(&flags)
                add(bytes, flags: flags)
            }
        }
    }

    private mutating func add(_ key: UnsafeBufferPointer<UInt8>, flags: Flags) {
        let at = storage.count
        storage.append(flags.rawValue)
        var length = key.count
        while length >= 0x80 {
            storage.append(UInt8(truncatingIfNeeded: length) | 0x80)
            length >>= 7
        }
        storage.append(UInt8(length))
        storage.append(contentsOf: key)
        count += 1
        if count * 4 > slots.count * 3 || !place(at, hash: ValidationState.hash(UnsafeRawBufferPointer(key))) { reindex() }
    }

    /// Puts the entry at `offset` into a free slot (the key is known to be absent);
    /// false when there is none.
    private mutating func place(_ offset: Int, hash: Int) -> Bool {
        let mask = slots.count - 1
        var slot = hash & mask
        for _ in 0..<slots.count {
            if slots[slot] == 0 {
                slots[slot] = offset - base + 1
                return true
            }
            slot = (slot + 1) & mask
        }
        return false
    }

    /// Counts the entries and places them all again in an index of twice their number
    /// (at least; a power of two).
    private mutating func reindex() {
        let storage = self.storage
        count = 0
        storage.withUnsafeBytes { raw in
            var at = base
            while let (start, length) = ValidationState.entry(raw, at: at) {
                count += 1
                at = start + length
            }
        }
        var capacity = 64
        while capacity < 2 * count { capacity *= 2 }
        slots = Array(repeating: 0, count: capacity)
        storage.withUnsafeBytes { raw in
            var at = base
            while let (start, length) = ValidationState.entry(raw, at: at) {
                _ = place(at, hash: ValidationState.hash(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])))
                at = start + length
            }
        }
    }

    private func find(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !slots.isEmpty else { return nil }
        let key = UnsafeRawBufferPointer(key)
        return storage.withUnsafeBytes { raw in
            let mask = slots.count - 1
            var slot = ValidationState.hash(key) & mask
            // At most every slot once: the index of a loaded checkpoint is not rebuilt,
            // and whatever it holds must not make a lookup run on or read out of bounds.
            for _ in 0..<slots.count {
                let entry = slots[slot]
                if entry == 0 { return nil }
                let at = base + entry - 1
                if entry > 0, let (start, length) = ValidationState.entry(raw, at: at), length == key.count,
                   key.elementsEqual(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])) {
                    return at
                }
                slot = (slot + 1) & mask
            }
            return nil
        }
    }

    /// The entry at `at`: where its key starts and its length; nil at the end of the
    /// buffer or when the entry runs past it.
    private static func entry(_ raw: UnsafeRawBufferPointer, at: Int) -> (start: Int, length: Int)? {
        var value = 0, shift = 0, next = at + 1
        guard at >= 0 else { return nil }
        while next < raw.count, shift < 35 {
            let byte = raw[next]
            value |= Int(byte & 0x7F) << shift
            next += 1
            if byte < 0x80 { return value <= raw.count - next ? (next, value) : nil }
            shift += 7
        }
        return nil
    }

    /// FNV-1a with a final mix, so the low bits that pick a slot depend on every byte.
    private static func hash(_ key: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return Int(truncatingIfNeeded: h)
    }

    // MARK: the checkpoint's form

    /// Appends the state as the checkpoint keeps it: the number of entries, the index's
    /// slot count, a slot's width in bytes (4, or 8 for entries past 4 GiB) and the
    /// entries' length in bytes (8 bytes each, little-endian); the index; the entries.
    /// Loading takes the index as it is and the entries in place, so it costs what
    /// reading the bytes costs.
    func encode(into bytes: inout [UInt8]) {
        let entries = storage.count - base
        let width = entries < Int(UInt32.max) ? 4 : 8
        bytes.reserveCapacity(bytes.count + 32 + slots.count * width + entries)
        for value in [count, slots.count, width, entries] { ValidationState.append(value, width: 8, to: &bytes) }
        for slot in slots { ValidationState.append(slot, width: width, to: &bytes) }
        bytes.append(contentsOf: storage[base...])
    }

    private static func append(_ value: Int, width: Int, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: UInt64(truncatingIfNeeded: value).littleEndian) { bytes.append(contentsOf: $0.prefix(width)) }
    }

    /// The state `encode` wrote at `start` of `bytes`, which must end with it; nil when
    /// the sizes do not add up. The buffer is kept as it is, the bytes before the
    /// entries unread.
    init?(decoding bytes: [UInt8], at start: Int) {
        guard start >= 0, bytes.count - start >= 32 else { return nil }
        let (count, capacity, width, entries) = bytes.withUnsafeBytes { raw in
            func int(_ i: Int) -> Int { Int(truncatingIfNeeded: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * i, as: UInt64.self))) }
            return (int(0), int(1), int(2), int(3))
        }
        guard count >= 0, count <= bytes.count, capacity >= 0, capacity <= bytes.count, entries >= 0, entries <= bytes.count,
              capacity & (capacity - 1) == 0, count * 4 <= capacity * 3, width == 4 || width == 8,
              start + 32 + capacity * width + entries == bytes.count else { return nil }
        let first = start + 32
        slots = bytes.withUnsafeBytes { raw in
            (0..<capacity).map { i in
                width == 4 ? Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: first + 4 * i, as: UInt32.self)))
                           : Int(truncatingIfNeeded: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: first + 8 * i, as: UInt64.self)))
            }
        }
        storage = bytes
        base = first + capacity * width
        self.count = count
    }
}

extension ValidationState: CustomStringConvertible {
    /// The entries and their flags, for test failures: not the bytes.
    var description: String {
        var lines: [String] = []
        forEachEntry { key, flags in lines.append("\(key) \(String(flags.rawValue, radix: 2))") }
        return "ValidationState(\(lines.count) entries: \(lines.sorted().joined(separator: ", ")))"
    }
}

extension ValidationState: Equatable {
    /// The same facts folded: the same things exist, closed, employed, completed or
    /// cancelled. Streams and texts are not compared here, as `ProjectState` did not
    /// hold them (two logs of the same facts name different text references, each
    /// text being stored with a random salt); a checkpoint compares them too.
    static func == (lhs: ValidationState, rhs: ValidationState) -> Bool { lhs.same(as: rhs, in: .folded) }

    static let everything = Flags(rawValue: 0xFF)

    /// Whether both hold the same keys with the same flags of `mask` (a key with none
    /// of them counts as absent).
    func same(as other: ValidationState, in mask: Flags) -> Bool {
        var same = true
        var present = 0
        forEachEntry { key, flags in
            let kept = flags.intersection(mask)
            guard same, !kept.isEmpty else { return }
            present += 1
            if other.flags(key).intersection(mask) != kept { same = false }
        }
        guard same else { return false }
        var otherPresent = 0
        other.forEachEntry { _, flags in if !flags.isDisjoint(with: mask) { otherPresent += 1 } }
        return present == otherPresent
    }
}

extension ValidationState {
    /// What validation reads of a `ProjectState`'s things (not streams or texts, which
    /// it does not hold): for tests comparing this fold with that one.
    init(foldedOf state: ProjectState) {
        for id in state.units.keys { update(ValidationState.key(.unit, id), insert: true) { $0.insert(.exists) } }
        for (id, team) in state.teams {
            update(ValidationState.key(.team, id), insert: true) { $0.formUnion(team.closed ? [.exists, .closed] : .exists) }
        }
        for (id, person) in state.people {
            update(ValidationState.key(.person, id), insert: true) { $0.formUnion(person.employed ? [.exists, .employed] : .exists) }
        }
        for id in state.bodies.keys { update(ValidationState.key(.body, id), insert: true) { $0.insert(.exists) } }
        for id in state.meetings.keys { update(ValidationState.key(.meeting, id), insert: true) { $0.insert(.exists) } }
        for id in state.trainings.keys { update(ValidationState.key(.training, id), insert: true) { $0.insert(.exists) } }
        for id in state.milestones.keys { update(ValidationState.key(.milestone, id), insert: true) { $0.insert(.exists) } }
        for (id, handover) in state.handovers {
            let status: Flags = switch handover.status {
            case .open: []
            case .completed: .completed
            case .cancelled: .cancelled
            }
            update(ValidationState.key(.case, id), insert: true) { $0.formUnion(status.union(.exists)) }
        }
    }
}
