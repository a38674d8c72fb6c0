/// One line of the log: the envelope of SPEC §2 around a fact's `data`.
///
/// The store knows the envelope and nothing of what `data` means; `Projections` gives
/// the types their meaning.
public struct Event: Sendable, Equatable {
    public var seq: Int
    public var id: String
    public var type: String
    public var v: Int
    public var stream: String
    public var occurred: String
    public var recorded: String
    public var actor: String
    public var source: String?
    public var data: JSONObject
    public var prev: String
    public var hash: String

    public init(
        seq: Int, id: String, type: String, v: Int, stream: String, occurred: String,
        recorded: String, actor: String, source: String?, data: JSONObject, prev: String, hash: String
    ) {
        self.seq = seq
        self.id = id
        self.type = type
        self.v = v
        self.stream = stream
        self.occurred = occurred
        self.recorded = recorded
        self.actor = actor
        self.source = source
        self.data = data
        self.prev = prev
        self.hash = hash
    }

    /// The envelope's members (SPEC §2).
    static let memberNames: Set<String> = ["seq", "id", "type", "v", "stream", "occurred", "recorded", "actor", "source", "data", "prev", "hash"]

    /// `prev` of the first event: 64 zeros.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// The event as a JSON object, with or without its `hash` member.
    public func jsonObject(includingHash: Bool = true) -> JSONObject {
        var object = JSONObject()
        object["seq"] = .integer(seq)
        object["id"] = .string(id)
        object["type"] = .string(type)
        object["v"] = .integer(v)
        object["stream"] = .string(stream)
        object["occurred"] = .string(occurred)
        object["recorded"] = .string(recorded)
        object["actor"] = .string(actor)
        if let source { object["source"] = .string(source) }
        object["data"] = .object(data)
        object["prev"] = .string(prev)
        if includingHash { object["hash"] = .string(hash) }
        return object
    }

    /// The hash this event must carry: SHA-256 of the canonical JSON without `hash`.
    public func computedHash() -> String {
        SHA256.hex(CanonicalJSON.encode(.object(jsonObject(includingHash: false))))
    }

    /// The exact bytes of its line, `JCS(event) + "\n"`.
    public func lineBytes() -> [UInt8] {
        var bytes = CanonicalJSON.encode(.object(jsonObject()))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}

extension Event {
    /// Reads an envelope from a parsed line. Throws a reason naming the member when the
    /// line lacks one, has an unknown one, or holds one of the wrong type or form.
    public init(json object: JSONObject) throws(EnvelopeError) {
        if let unknown = object.keys.first(where: { !Event.memberNames.contains($0) }) {
            throw EnvelopeError("unknown member \"\(unknown)\"")
        }
        func string(_ name: String) throws(EnvelopeError) -> String {
            guard let value = object[name] else { throw EnvelopeError("missing member \"\(name)\"") }
            guard case .string(let s) = value else { throw EnvelopeError("member \"\(name)\" must be a string") }
            return s
        }
        func integer(_ name: String) throws(EnvelopeError) -> Int {
            guard let value = object[name] else { throw EnvelopeError("missing member \"\(name)\"") }
            guard case .integer(let i) = value else { throw EnvelopeError("member \"\(name)\" must be an integer") }
            return i
        }
        seq = try integer("seq")
        guard seq >= 1 else { throw EnvelopeError("member \"seq\" must be at least 1") }
        id = try string("id")
        guard EventID.isValid(id) else { throw EnvelopeError("member \"id\" must be a lower-case UUID, found \"\(id)\"") }
        type = try string("type")
        v = try integer("v")
        stream = try string("stream")
        occurred = try string("occurred")
        guard Timestamp.isValidOccurred(occurred) else {
            throw EnvelopeError("member \"occurred\" must be YYYY-MM-DD or a date-time with Z or an offset, found \"\(occurred)\"")
        }
        recorded = try string("recorded")
        guard Timestamp.isValidRecorded(recorded) else {
            throw EnvelopeError("member \"recorded\" must be YYYY-MM-DDTHH:MM:SS.mmmZ, found \"\(recorded)\"")
        }
        actor = try string("actor")
        source = object["source"] == nil ? nil : try string("source")
        guard case .object(let data)? = object["data"] else {
            throw EnvelopeError(object["data"] == nil ? "missing member \"data\"" : "member \"data\" must be an object")
        }
        self.data = data
        prev = try string("prev")
        hash = try string("hash")
        guard Hex.isSHA256(prev) else { throw EnvelopeError("member \"prev\" must be 64 lower-case hex digits") }
        guard Hex.isSHA256(hash) else { throw EnvelopeError("member \"hash\" must be 64 lower-case hex digits") }
    }
}

extension Event {
    /// The event one line of the log holds, read by the fast path when the line is
    /// canonical and by the strict parser otherwise; nil when it holds none. Checks the
    /// envelope only: no chain, no hash (`EventLog.read` does those).
    public init?(parsing line: UnsafeRawBufferPointer) {
        if let canonical = CanonicalLine.scan(line), let event = Event(line: line, canonical: canonical) {
            self = event
            return
        }
        guard case .object(let object)? = try? JSONParser.parse(line, integersOnly: true),
              let event = try? Event(json: object) else { return nil }
        self = event
    }
}

/// Why a line is not a well-formed envelope.
public struct EnvelopeError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A fact ready to be appended: everything but what the store assigns (`seq`,
/// `recorded`, `prev`, `hash`, and `id` when the caller gave none).
public struct EventDraft: Sendable, Equatable {
    public var id: String?
    public var type: String
    public var v: Int
    public var stream: String
    public var occurred: String
    public var actor: String
    public var source: String?
    public var data: JSONObject

    public init(id: String? = nil, type: String, v: Int = 1, stream: String, occurred: String, actor: String, source: String? = nil, data: JSONObject) {
        self.id = id
        self.type = type
        self.v = v
        self.stream = stream
        self.occurred = occurred
        self.actor = actor
        self.source = source
        self.data = data
    }
}

/// The last event of a log (or of a prefix of it): what a seal `SEQ:HASH` names.
public struct LogHead: Sendable, Equatable, CustomStringConvertible {
    public var seq: Int
    public var hash: String
    public var recorded: String?

    public init(seq: Int, hash: String, recorded: String?) {
        self.seq = seq
        self.hash = hash
        self.recorded = recorded
    }

    public static let empty = LogHead(seq: 0, hash: Event.genesisHash, recorded: nil)

    /// `SEQ:HASH`, the form read into minutes as a seal.
    public var description: String { "\(seq):\(hash)" }

    /// Parses `SEQ:HASH`; nil when the text has another form.
    public init?(seal: String) {
        let parts = seal.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let seq = Int(parts[0]), seq >= 0, Hex.isSHA256(String(parts[1])) else { return nil }
        self.init(seq: seq, hash: String(parts[1]), recorded: nil)
    }
}

/// Event ids: lower-case UUIDs.
public enum EventID {
    public static func isValid(_ id: String) -> Bool {
        guard id.utf8.count == 36 else { return false }
        return Timestamp.withUTF8(id) { isValid(bytes: UnsafeRawBufferPointer($0)) }
    }

    static func isValid(bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == 36 else { return false }
        for (i, b) in bytes.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if b != UInt8(ascii: "-") { return false }
            } else if !Hex.isLowerHexDigit(b) {
                return false
            }
        }
        return true
    }

    /// A new random (version 4) id.
    public static func random() -> String {
        var bytes = RandomBytes.make(16)
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return Hex.uuid(bytes)
    }
}

/// Bytes from the system's generator (the kernel's `getrandom`): salts, nonces, keys, ids.
enum RandomBytes {
    static func make(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 7)
        while bytes.count < count { withUnsafeBytes(of: generator.next()) { bytes.append(contentsOf: $0) } }
        return Array(bytes.prefix(count))
    }
}

public enum Hex {
    static let digits = Array("0123456789abcdef".utf8)

    /// `bytes` as lower-case hex, two characters a byte.
    public static func encode(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (i, byte) in bytes.enumerated() {
                out[2 * i] = digits[Int(byte >> 4)]
                out[2 * i + 1] = digits[Int(byte & 0x0F)]
            }
            return bytes.count * 2
        }
    }

    /// 16 bytes as an id: lower-case hex in groups of 8-4-4-4-12.
    static func uuid(_ bytes: [UInt8]) -> String {
        let h = Array(encode(bytes))
        return String(h[0..<8]) + "-" + String(h[8..<12]) + "-" + String(h[12..<16]) + "-" + String(h[16..<20]) + "-" + String(h[20..<32])
    }

    @inline(__always)
    public static func isLowerHexDigit(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f"))
    }

    public static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy(isLowerHexDigit)
    }
}
