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
/// the things share their keys), with an open-addressing index in the same buffer.
/// A key is stored short: its stream kind as one byte, and a text reference as its 32
/// bytes. The checkpoint is that buffer as it is: loading it is reading it.
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

    /// One buffer: bytes that are not the state's (a loaded checkpoint's header, before
    /// `slotsStart`); the index, `capacity` slots of `width` bytes (little-endian; 0 is
    /// empty, else an entry's offset from `base`, plus 1), open addressing, at most three
    /// quarters full; then from `base` the entries, one after another: the flags (one
    /// byte), the key's length (LEB128), the key (`withEncoded`).
    private(set) var storage: [UInt8] = []
    private var slotsStart = 0
    private var capacity = 0
    private var width = 4
    private var base = 0
    /// Entries in `storage`.
    private(set) var count = 0
    /// The checkpoint this state was loaded from, read in place (`SealedLayer`): an
    /// append looks up a few keys and checks only the pages they lie on. Entries in
    /// `storage` come first: the keys changed or added since.
    private var sealed: SealedLayer?

    /// Whether a page of the checkpoint under this state failed its MAC when read:
    /// then what this state answered is not to be believed, and the caller starts again
    /// from the log alone.
    var readDamagedCheckpoint: Bool { sealed?.file.failed ?? false }

    /// The pages of the checkpoint under this state that lookups have read so far.
    var checkpointPagesRead: Int { sealed?.file.pagesChecked ?? 0 }

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

    /// The stream kinds of the catalog, each stored as its index + 1 in a key's first
    /// byte; 0 starts a key stored as it is.
    private static let kinds = ["unit", "team", "person", "training", "handover", "body", "meeting", "evaluation",
                                "target", "attendance", "text", "log"]
    /// The first byte of `text/sha256-HEX` stored as the 32 bytes of HEX.
    private static let textReferenceCode = UInt8(kinds.count + 1)
    private static let textReferencePrefix = Array("sha256-".utf8)

    /// `body` with `key` as stored, where `key` is the UTF-8 of `KIND/REST`: a kind of
    /// the catalog as its code and REST; a text reference (`text/sha256-` and 64
    /// lower-case hex digits) as its code and the 32 bytes; anything else as 0 and its
    /// UTF-8. One key, one form. Made on the stack: a fold asks this of every line it reads.
    static func withEncoded<R>(_ key: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        guard let slash = key.firstIndex(of: UInt8(ascii: "/")),
              let kind = kindNames.firstIndex(where: { $0.elementsEqual(UnsafeRawBufferPointer(rebasing: key[..<slash])) }) else {
            return withEncoded(code: 0, key, body)
        }
        return withEncoded(kind: kind, UnsafeRawBufferPointer(rebasing: key[(slash + 1)...]), body)
    }

    /// `withEncoded` of `key(kind, id)`, given the id's UTF-8.
    static func withEncoded<R>(_ kind: ReferenceKind, _ id: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withEncoded(kind: referenceKinds[kind]!, id, body)
    }

    /// `withEncoded` of `KIND/REST` for the kind at `kind` in `kinds`, given REST.
    static func withEncoded<R>(kind: Int, _ rest: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if kind == textKind, rest.count == textReferencePrefix.count + 64, rest.starts(with: textReferencePrefix) {
            let hex = UnsafeRawBufferPointer(rebasing: rest[textReferencePrefix.count...])
            let stored = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 33) { buffer -> R? in
                buffer[0] = textReferenceCode
                for at in 0..<32 {
                    guard let high = lowerHexValue(hex[2 * at]), let low = lowerHexValue(hex[2 * at + 1]) else { return nil }
                    buffer[1 + at] = high << 4 | low
                }
                return body(UnsafeRawBufferPointer(buffer))
            }
            if let stored { return stored }
        }
        return withEncoded(code: UInt8(kind + 1), rest, body)
    }

    /// `body` with `code` and then `bytes`.
    private static func withEncoded<R>(code: UInt8, _ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count + 1) { buffer in
            buffer[0] = code
            UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[1...]).copyMemory(from: bytes)
            return body(UnsafeRawBufferPointer(buffer))
        }
    }

    private static func lowerHexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// `kinds` as bytes, and where the kinds of references and of texts are among them.
    private static let kindNames = kinds.map { Array($0.utf8) }
    private static let textKind = kinds.firstIndex(of: "text")!
    private static let referenceKinds: [ReferenceKind: Int] = Dictionary(uniqueKeysWithValues: ReferenceKind.allCases.map {
        ($0, kinds.firstIndex(of: streamKind(of: $0))!)
    })

    /// The key `withEncoded` stored as `bytes`.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> String {
        guard let code = bytes.first else { return "" }
        let rest = UnsafeRawBufferPointer(rebasing: bytes.dropFirst())
        if code == textReferenceCode { return "text/sha256-" + Hex.encode(Array(rest)) }
        if code == 0 || Int(code) > kinds.count { return String(decoding: rest, as: UTF8.self) }
        return kinds[Int(code) - 1] + "/" + String(decoding: rest, as: UTF8.self)
    }

    // MARK: reading

    func flags(_ key: String) -> Flags {
        key.withUTF8Bytes { ValidationState.withEncoded($0) { flags(encoded: $0) ?? [] } }
    }

    /// The flags of the key `withEncoded` gave, from this state's own entries or the
    /// checkpoint under them; nil when it holds no such key.
    private func flags(encoded key: UnsafeRawBufferPointer) -> Flags? {
        if let at = find(key) { return Flags(rawValue: storage[at]) }
        return sealed?.flags(key)
    }

    func flags(_ kind: ReferenceKind, _ id: String) -> Flags {
        id.withUTF8Bytes { ValidationState.withEncoded(kind, $0) { flags(encoded: $0) ?? [] } }
    }

    func isStream(_ stream: String) -> Bool { flags(stream).contains(.stream) }
    func isNamedText(_ reference: String) -> Bool { flags(ValidationState.textKey(reference)).contains(.text) }
    func isErasedText(_ reference: String) -> Bool { flags(ValidationState.textKey(reference)).contains(.erased) }

    /// Every entry with its flags, in the order added (none when the checkpoint under
    /// this state fails its MAC: see `merged`).
    func forEachEntry(_ body: (String, Flags) -> Void) {
        guard sealed == nil else { merged()?.forEachEntry(body); return }
        forEachOwnEntry { key, flags in body(ValidationState.decode(key), flags) }
    }

    /// The entries in `storage` (not the checkpoint's under them), keys as stored.
    private func forEachOwnEntry(_ body: (UnsafeRawBufferPointer, Flags) -> Void) {
        storage.withUnsafeBytes { raw in
            var at = base
            while let (start, length) = ValidationState.entry(raw, at: at) {
                body(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)]), Flags(rawValue: raw[at]))
                at = start + length
            }
        }
    }

    /// This state in one buffer: the checkpoint under it read whole (every page
    /// checked), its own entries written over that. Nil when a page fails its MAC.
    func merged() -> ValidationState? {
        guard let sealed else { return self }
        guard let contents = sealed.file.contents(), var whole = ValidationState(decoding: contents, at: sealed.start) else { return nil }
        forEachOwnEntry { key, flags in whole.update(encoded: key, insert: true) { $0 = flags } }
        return whole
    }

    /// The keys whose flags hold any of `mask`, with those flags: for tests and messages.
    func entries(_ mask: Flags) -> [String: Flags] {
        var result: [String: Flags] = [:]
        forEachEntry { key, flags in
            let kept = flags.intersection(mask)
            if !kept.isEmpty { result[key] = kept }
        }
        return result
    }

    // MARK: folding

    mutating func noteStream(_ stream: String) { stream.withUTF8Bytes { noteStream(bytes: $0) } }
    /// `noteStream`, given the stream's UTF-8.
    mutating func noteStream(bytes stream: UnsafeRawBufferPointer) {
        ValidationState.withEncoded(stream) { update(encoded: $0, insert: true) { $0.insert(.stream) } }
    }
    mutating func noteText(_ reference: String) { update(ValidationState.textKey(reference), insert: true) { $0.insert(.text) } }
    mutating func noteErased(_ reference: String) { update(ValidationState.textKey(reference), insert: true) { $0.insert(.erased) } }

    /// Folds one fact in, as `ProjectState.apply` does for what validation reads. Facts
    /// are assumed valid; a fact naming something unknown changes nothing.
    mutating func apply(type: String, data: JSONObject) { apply(DataFact(type: type, data: data)) }

    /// `apply(type:data:)`, for whatever reads a fact (a line read in place, too).
    mutating func apply(_ fact: some FactReading) {
        /// `change` to the flags of the key of `kind` that `member` names, when it names one.
        func update(_ kind: ReferenceKind, _ member: StaticString, insert: Bool = false, _ change: (inout Flags) -> Void) {
            _ = fact.withString(member) { id in
                ValidationState.withEncoded(kind, id) { self.update(encoded: $0, insert: insert, change) }
            }
        }
        switch fact.kind {
        case .unitRegistered:
            update(.unit, "unit", insert: true) { $0.insert(.exists) }
        case .teamEstablished:
            update(.team, "team", insert: true) { $0.insert(.exists); $0.remove(.closed) }
        case .teamClosed:
            update(.team, "team") { if $0.contains(.exists) { $0.insert(.closed) } }
        case .staffHired:
            if fact.hasString("role"), fact.hasString("team") { update(.person, "person", insert: true) { $0.formUnion([.exists, .employed]) } }
        case .staffLeft:
            update(.person, "person") { $0.remove(.employed) }
        case .trainingHeld:
            update(.training, "training", insert: true) { $0.insert(.exists) }
        case .handoverStarted:
            if fact.hasString("from"), fact.hasString("to") {
                update(.case, "case", insert: true) { $0.insert(.exists); $0.subtract([.completed, .cancelled]) }
            }
        case .handoverCompleted, .handoverCancelled:
            let status: Flags = fact.kind == .handoverCompleted ? .completed : .cancelled
            update(.case, "case") { if $0.contains(.exists) && $0.isDisjoint(with: [.completed, .cancelled]) { $0.insert(status) } }
        case .bodyEstablished:
            update(.body, "body", insert: true) { $0.insert(.exists) }
        case .meetingHeld:
            if fact.hasString("body") { update(.meeting, "meeting", insert: true) { $0.insert(.exists) } }
        case .evaluationMilestone:
            update(.milestone, "milestone", insert: true) { $0.insert(.exists) }
        case .unitUpdated, .minutesRecorded, .targetSet, .attendanceCounted, nil:
            return
        }
    }

    /// Forgets what the facts folded (not the streams and texts) and folds `facts` again:
    /// after a retraction undid one.
    mutating func refold(_ facts: some Sequence<ResolvedEvent>) {
        // A checkpoint failing its MAC stays under the state, which answers nothing then.
        if sealed != nil, let whole = merged() { self = whole }
        let base = self.base
        storage.withUnsafeMutableBytes { raw in
            var at = base
            while let (start, length) = ValidationState.entry(UnsafeRawBufferPointer(raw), at: at) {
                raw[at] &= ~Flags.folded.rawValue
                at = start + length
            }
        }
        for fact in facts { apply(fact) }
    }

    // MARK: the table

    /// Changes the flags of `key`; adds it first when `insert` (else an absent key stays absent).
    private mutating func update(_ key: String, insert: Bool = false, _ change: (inout Flags) -> Void) {
        key.withUTF8Bytes { ValidationState.withEncoded($0) { update(encoded: $0, insert: insert, change) } }
    }

    /// `update` of a key as stored. A key of the checkpoint under this state is copied
    /// into `storage` when its flags change.
    private mutating func update(encoded key: UnsafeRawBufferPointer, insert: Bool, _ change: (inout Flags) -> Void) {
        if let at = find(key) {
            var flags = Flags(rawValue: storage[at])
            change(&flags)
            // Written only when it changes: the buffer may be shared with a copy of
            // this state (a writer keeps one), and a write copies all of it.
            if flags.rawValue != storage[at] { storage[at] = flags.rawValue }
            return
        }
        let below = sealed?.flags(key)
        guard below != nil || insert else { return }
        var flags = below ?? []
        change(&flags)
        if flags != below { add(key, flags: flags) }
    }

    private mutating func add(_ key: UnsafeRawBufferPointer, flags: Flags) {
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
        if count * 4 > capacity * 3 || (width == 4 && storage.count - base >= Int(UInt32.max))
            || !place(at, hash: ValidationState.hash(key)) {
            reindex()
        }
    }

    private func slot(_ raw: UnsafeRawBufferPointer, _ i: Int) -> Int { ValidationState.slot(raw, i, slotsStart: slotsStart, width: width) }

    private static func slot(_ raw: UnsafeRawBufferPointer, _ i: Int, slotsStart: Int, width: Int) -> Int {
        let at = slotsStart + i * width
        return width == 4 ? Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                          : Int(truncatingIfNeeded: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
    }

    /// A state as `encode` wrote it into a checkpoint, read from the sealed file where a
    /// lookup needs it: the slots it probes and the entries they point to, each page
    /// checked against its MAC on first reading. Never written.
    private struct SealedLayer: Sendable {
        let file: PageSealedFile
        /// Where the state starts in the file's contents.
        let start: Int
        let capacity: Int
        let width: Int
        let slotsStart: Int
        let base: Int

        init?(_ file: PageSealedFile, at start: Int) {
            guard start >= 0, let sizes = file.bytes(start..<(start + 32)),
                  let (count, capacity, width, entries) = ValidationState.sizes(sizes, at: 0),
                  ValidationState.sizesAreSound(count: count, capacity: capacity, width: width, entries: entries,
                                                stateStart: start, total: file.count) else { return nil }
            (self.file, self.start, self.capacity, self.width) = (file, start, capacity, width)
            slotsStart = start + 32
            base = slotsStart + capacity * width
        }

        func flags(_ key: UnsafeRawBufferPointer) -> Flags? {
            var flags: Flags?
            _ = ValidationState.probe(key, capacity: capacity, slot: { i in
                file.bytes((slotsStart + i * width)..<(slotsStart + (i + 1) * width)).map { bytes in
                    bytes.withUnsafeBytes { ValidationState.slot($0, 0, slotsStart: 0, width: width) }
                }
            }) { entry in
                // The entry's flags, length and key, if its key is as long as this one.
                let at = base + entry - 1
                guard at >= base, at < file.count, let window = file.bytes(at..<min(file.count, at + 6 + key.count)) else { return false }
                return window.withUnsafeBytes { raw in
                    guard let (start, length) = ValidationState.entry(raw, at: 0), length == key.count,
                          key.elementsEqual(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])) else { return false }
                    flags = Flags(rawValue: raw[0])
                    return true
                }
            }
            return flags
        }
    }

    /// Puts the entry at `offset` into a free slot (the key is known to be absent);
    /// false when there is none.
    private mutating func place(_ offset: Int, hash: Int) -> Bool {
        guard capacity > 0 else { return false }
        let mask = capacity - 1, capacity = self.capacity, slotsStart = self.slotsStart, width = self.width
        let value = UInt64(offset - base + 1)
        return storage.withUnsafeMutableBytes { raw in
            var i = hash & mask
            for _ in 0..<capacity {
                if ValidationState.slot(UnsafeRawBufferPointer(raw), i, slotsStart: slotsStart, width: width) == 0 {
                    let at = slotsStart + i * width
                    if width == 4 { raw.storeBytes(of: UInt32(value).littleEndian, toByteOffset: at, as: UInt32.self) }
                    else { raw.storeBytes(of: value.littleEndian, toByteOffset: at, as: UInt64.self) }
                    return true
                }
                i = (i + 1) & mask
            }
            return false
        }
    }

    /// Lays the buffer out again: no bytes before the index, an index for twice the
    /// entries (at least; a power of two), the entries, all placed again.
    private mutating func reindex() {
        let old = storage
        var entries: [Int] = []
        old.withUnsafeBytes { raw in
            var at = base
            while let (start, length) = ValidationState.entry(raw, at: at) {
                entries.append(at)
                at = start + length
            }
        }
        let entryBytes = old[base...]
        count = entries.count
        capacity = 64
        while capacity < 2 * count { capacity *= 2 }
        width = entryBytes.count < Int(UInt32.max) - 1 ? 4 : 8
        slotsStart = 0
        storage = Array(repeating: 0, count: capacity * width)
        storage.reserveCapacity(capacity * width + entryBytes.count + entryBytes.count / 4)
        storage.append(contentsOf: entryBytes)
        let shift = capacity * width - base
        base = capacity * width
        old.withUnsafeBytes { raw in
            for at in entries {
                let (start, length) = ValidationState.entry(raw, at: at)!
                _ = place(at + shift, hash: ValidationState.hash(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])))
            }
        }
    }

    /// The offset of the entry with `key` in `storage`, if any.
    private func find(_ key: UnsafeRawBufferPointer) -> Int? {
        storage.withUnsafeBytes { raw in
            ValidationState.probe(key, capacity: capacity, slot: { slot(raw, $0) }) { entry in
                let at = base + entry - 1
                guard at >= base, let (start, length) = ValidationState.entry(raw, at: at), length == key.count else { return false }
                return key.elementsEqual(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)]))
            }.map { base + $0 - 1 }
        }
    }

    /// The open-addressing search both layers share: the slot value (an entry's offset
    /// from the entries' start, plus 1) of the entry `holds` says has `key`. `slot(i)`
    /// reads slot `i`: 0 when empty, nil when unreadable (a page failing its MAC),
    /// which ends the search.
    private static func probe(_ key: UnsafeRawBufferPointer, capacity: Int, slot: (Int) -> Int?, holds: (Int) -> Bool) -> Int? {
        guard capacity > 0 else { return nil }
        let mask = capacity - 1
        var i = hash(key) & mask
        // At most every slot once: the index of a loaded checkpoint is taken as it is,
        // and whatever it holds must not make a lookup run on or read out of bounds.
        for _ in 0..<capacity {
            guard let entry = slot(i), entry != 0 else { return nil }
            if holds(entry) { return entry }
            i = (i + 1) & mask
        }
        return nil
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
    /// entries' length in bytes (8 bytes each, little-endian); then the buffer from the
    /// index on, as it is in memory.
    func encode(into bytes: inout [UInt8]) {
        precondition(sealed == nil, "a state over a checkpoint is encoded merged (`merged`)")
        for value in [count, capacity, width, storage.count - base] {
            withUnsafeBytes(of: UInt64(truncatingIfNeeded: value).littleEndian) { bytes.append(contentsOf: $0) }
        }
        bytes.append(contentsOf: storage[slotsStart...])
    }

    /// The state `encode` wrote at `start` of `file`'s contents, read in place: nothing
    /// is read until a lookup needs it. Nil when the sizes do not add up.
    init?(sealedIn file: PageSealedFile, at start: Int) {
        guard let layer = SealedLayer(file, at: start) else { return nil }
        sealed = layer
    }

    /// The state `encode` wrote at `start` of `bytes`, which must end with it; nil when
    /// the sizes do not add up. `bytes` becomes the state's buffer as it is: nothing is
    /// copied, hashed or placed.
    init?(decoding bytes: [UInt8], at start: Int) {
        guard let (count, capacity, width, entries) = ValidationState.sizes(bytes, at: start),
              ValidationState.sizesAreSound(count: count, capacity: capacity, width: width, entries: entries,
                                            stateStart: start, total: bytes.count) else { return nil }
        storage = bytes
        slotsStart = start + 32
        self.capacity = capacity
        self.width = width
        base = slotsStart + capacity * width
        self.count = count
    }
}

extension ValidationState {
    /// The four sizes `encode` writes first, read at `start` of `bytes`.
    fileprivate static func sizes(_ bytes: [UInt8], at start: Int) -> (count: Int, capacity: Int, width: Int, entries: Int)? {
        guard start >= 0, bytes.count - start >= 32 else { return nil }
        return bytes.withUnsafeBytes { raw in
            func int(_ i: Int) -> Int { Int(truncatingIfNeeded: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * i, as: UInt64.self))) }
            return (int(0), int(1), int(2), int(3))
        }
    }

    /// Whether sizes read from a checkpoint describe a state that fills the rest of a
    /// buffer of `total` bytes from `stateStart` exactly, with an index that lookups
    /// may trust to stay in bounds.
    fileprivate static func sizesAreSound(count: Int, capacity: Int, width: Int, entries: Int, stateStart: Int, total: Int) -> Bool {
        count >= 0 && count <= total && capacity >= 0 && capacity <= total && entries >= 0 && entries <= total
            && capacity & (capacity - 1) == 0 && count * 4 <= capacity * 3 && (width == 4 || width == 8)
            && stateStart + 32 + capacity * width + entries == total
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
        guard let this = merged(), let other = other.merged() else { return false }
        var same = true
        var present = 0
        // Both are whole (nothing sealed under them): their own entries are all, compared as stored.
        this.forEachOwnEntry { key, flags in
            let kept = flags.intersection(mask)
            guard same, !kept.isEmpty else { return }
            present += 1
            if (other.flags(encoded: key) ?? []).intersection(mask) != kept { same = false }
        }
        guard same else { return false }
        var otherPresent = 0
        other.forEachOwnEntry { _, flags in if !flags.isDisjoint(with: mask) { otherPresent += 1 } }
        return present == otherPresent
    }
}

extension ValidationState {
    /// What validation reads of a `ProjectState`'s things (not streams or texts, which
    /// it does not hold), with how each closed case ended (which the state does not
    /// keep): for tests comparing this fold with that one.
    init(foldedOf state: ProjectState, closedCases: [String: Flags]) {
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
        for id in state.handovers.keys { update(ValidationState.key(.case, id), insert: true) { $0.insert(.exists) } }
        for (id, ended) in closedCases {
            update(ValidationState.key(.case, id), insert: true) { $0.formUnion(ended.union(.exists)) }
        }
    }
}
