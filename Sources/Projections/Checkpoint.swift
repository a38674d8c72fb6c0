import EventStore
import Foundation

/// The validation state at a position of the log, kept in `checkpoint.bin` beside it so
/// an append reads only what was appended since, not the whole log (README,
/// "Checkpoints").
///
/// Derived data: deleting it loses nothing. It is used only to validate appends, never
/// to answer a read. It is sealed with a MAC under the user's `CheckpointKey` (kept
/// outside the log), and trusted only while the MAC holds and the line just before its
/// position still carries the seq and hash it names; otherwise it is ignored and
/// rebuilt. `verify` compares it with a full replay and deletes it when it differs.
public struct Checkpoint: Codable, Sendable, Equatable {
    public static let fileName = "checkpoint.bin"
    static let formatName = "recovery-checkpoint/1"
    /// Rewrite the checkpoint once an append had to read this many events past it.
    static let rewriteDistance = 256

    var format = Checkpoint.formatName
    public var position: LogPosition
    var state: ProjectState
    var streams: [String]
    var texts: [String]
    var erasedTexts: [String]

    init(position: LogPosition, state: ProjectState, streams: [String], texts: [String], erasedTexts: [String]) {
        self.position = position
        self.state = state
        self.streams = streams
        self.texts = texts
        self.erasedTexts = erasedTexts
    }

    static func path(in log: EventLog) -> String { "\(log.path)/\(fileName)" }

    /// The checkpoint beside `log`, if there is one that still matches the chain.
    static func load(_ log: EventLog) -> Checkpoint? {
        guard let data = log.readSealedDerivedFile(fileName),
              let checkpoint = try? BinaryCoder.decode(Checkpoint.self, from: data),
              checkpoint.format == formatName,
              (try? log.lineMatches(before: checkpoint.position)) == true else { return nil }
        return checkpoint
    }

    /// Writes it atomically (temporary file, fsync, rename). A failure to write is not
    /// an error of the append that triggered it: the next one rebuilds.
    func save(_ log: EventLog) {
        guard let bytes = try? BinaryCoder.encode(self) else { return }
        try? log.writeSealedDerivedFile(Checkpoint.fileName, bytes: bytes)
    }
}

extension Ledger {
    /// What `verify` found of the checkpoint.
    public enum CheckpointStatus: Sendable, Equatable {
        case absent
        /// It equals the state a full replay gives at its position.
        case matches
        /// It differed from a full replay (stale or edited) and was deleted.
        case deleted
    }

    /// Compares the checkpoint with a full replay at its position; deletes it when it
    /// differs, so no append validates against it.
    public func checkCheckpoint() throws -> CheckpointStatus {
        // Rows kept for `kpi` are not checked here (that is a whole KPI computation):
        // after a verify, the next `kpi` computes them again from the verified log.
        try? log.removeDerivedFile(KPICheckpoint.fileName)
        let path = Checkpoint.path(in: log)
        guard FileManager.default.fileExists(atPath: path) else { return .absent }
        if let stored = Checkpoint.load(log) {
            var replayed = ValidationContext()
            try replayed.catchUp(log, upTo: stored.position.seq)
            if replayed.checkpoint == stored { return .matches }
        }
        try log.removeDerivedFile(Checkpoint.fileName)
        return .deleted
    }
}

/// The KPI rows of the whole log at its head, kept in `kpi-checkpoint.json` beside it
/// so that `kpi` asked again at the head answers without reading the log (README,
/// "Checkpoints").
///
/// Derived data, like `checkpoint.bin`: deleting it loses nothing. A read writes it
/// after folding the whole log when every fact counted (none occurred after the valid
/// time) and nothing was torn. It answers a later read only when
/// - that read is at the head (no `--as-of`) and the log still ends exactly where the
///   checkpoint was taken, with the line before carrying the seq and hash it names
///   (the hash recomputed): so no event was added, changed or removed at the end;
/// - the valid time is not earlier than the checkpoint's and falls on the same day in
///   the log's time zone: the same facts count, and the KPI rows depend on the valid
///   time only through its date (the periods still running).
struct KPICheckpoint {
    static let fileName = "kpi-checkpoint.json"
    static let formatName = "recovery-kpi-checkpoint/1"

    var position: LogPosition
    var recorded: String?
    /// The valid time the rows were computed at (milliseconds), and its date in the log's zone.
    var validAt: Int64
    var day: String
    var rows: [KPIRow]

    init(position: LogPosition, recorded: String?, validAt: Int64, zone: TimeZone, rows: [KPIRow]) {
        self.position = position
        self.recorded = recorded
        self.validAt = validAt
        day = Timestamp.calendarDate(ofMillis: validAt, in: zone).description
        self.rows = rows
    }

    /// Writes it atomically; a failure (a read-only log, a full disk) is not an error of the read.
    func save(_ log: EventLog) {
        let json = JSONValue.object(JSONObject([
            "format": .string(KPICheckpoint.formatName),
            "segment": .integer(position.segment), "offset": .integer(position.offset), "linesBefore": .integer(position.linesBefore),
            "seq": .integer(position.seq), "hash": .string(position.hash), "recorded": recorded.map(JSONValue.string) ?? .null,
            "validAt": .integer(Int(validAt)), "day": .string(day), "rows": .array(rows.map(\.json)),
        ]))
        try? log.writeSealedDerivedFile(KPICheckpoint.fileName, bytes: CanonicalJSON.encode(json) + [0x0A])
    }

    /// The checkpoint beside `log`, if it answers a read at the head at `validAt`.
    static func load(_ log: EventLog, validAt: Int64) -> KPICheckpoint? {
        guard let data = log.readSealedDerivedFile(fileName),
              case .object(let o)? = try? JSONParser.parse(Array(data.dropLast()), integersOnly: true),
              o["format"]?.stringValue == formatName,
              let segment = o["segment"]?.integerValue, let offset = o["offset"]?.integerValue,
              let linesBefore = o["linesBefore"]?.integerValue, let seq = o["seq"]?.integerValue,
              let hash = o["hash"]?.stringValue, let at = o["validAt"]?.integerValue, let day = o["day"]?.stringValue,
              let rowValues = o["rows"]?.arrayValue else { return nil }
        let zone = log.timeZone
        guard validAt >= Int64(at), Timestamp.calendarDate(ofMillis: validAt, in: zone).description == day else { return nil }
        let position = LogPosition(segment: segment, offset: offset, linesBefore: linesBefore, seq: seq, hash: hash)
        guard (try? log.endsAt(position)) == true else { return nil }
        var rows: [KPIRow] = []
        rows.reserveCapacity(rowValues.count)
        for value in rowValues {
            guard let row = value.objectValue, let kpi = row["kpi"]?.stringValue, let scope = row["scope"]?.stringValue else { return nil }
            rows.append(KPIRow(kpi: kpi, scope: scope, period: row["period"]?.stringValue, actual: row["actual"]?.integerValue,
                               target: row["target"]?.integerValue, met: row["met"]?.boolValue))
        }
        var checkpoint = KPICheckpoint(position: position, recorded: o["recorded"]?.stringValue, validAt: Int64(at), zone: zone, rows: rows)
        checkpoint.day = day
        return checkpoint
    }
}

// MARK: the binary form

/// A compact binary form for any `Codable` value, for the checkpoint: `JSONDecoder`
/// took seconds for the state of a million events, this a fraction of that.
///
/// Every value is a tag byte and its payload: nil; an integer (8 bytes); a string
/// (length, UTF-8); a container (byte length, entry count, entries), whose keyed
/// entries are a key string and a value. Keys are written, so a decoder finds members
/// by name (in the order they were written, checked first) and dictionaries keep
/// their keys. A format of its own, read only by this code; a file it cannot read is
/// ignored, as a stale checkpoint is.
enum BinaryCoder {
    static let magic = Array("recovery-checkpoint/2 binary\n".utf8)

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = Encoder()
        try value.encode(to: encoder)
        encoder.finish()
        return magic + encoder.out.bytes
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        guard bytes.starts(with: magic) else { throw Failure() }
        return try bytes.withUnsafeBytes { raw in
            let body = UnsafeRawBufferPointer(rebasing: raw[magic.count...])
            return try T(from: Decoder(bytes: body, range: 0..<body.count))
        }
    }

    struct Failure: Error {}

    enum Tag: UInt8 { case null = 0, integer, string, container, bool, double }

    /// The bytes being written; a reference so nested containers append to one buffer.
    final class Output {
        var bytes: [UInt8] = []

        func tag(_ t: Tag) { bytes.append(t.rawValue) }
        func int(_ v: Int) { withUnsafeBytes(of: Int64(v).littleEndian) { bytes.append(contentsOf: $0) } }
        func string(_ s: String) {
            int(s.utf8.count)
            bytes.append(contentsOf: s.utf8)
        }
        /// Starts a container; returns where its length and count go.
        func open() -> Int {
            tag(.container)
            let at = bytes.count
            int(0)
            int(0)
            return at
        }
        func close(_ at: Int, count: Int) {
            let length = Int64(bytes.count - at - 16).littleEndian, n = Int64(count).littleEndian
            withUnsafeBytes(of: length) { for i in 0..<8 { bytes[at + i] = $0[i] } }
            withUnsafeBytes(of: n) { for i in 0..<8 { bytes[at + 8 + i] = $0[i] } }
        }
    }

    // MARK: encoding

    /// Writes one value: a single value, or one container that `finish` closes.
    final class Encoder: Swift.Encoder, SingleValueEncodingContainer {
        let out: Output
        var codingPath: [any CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] = [:]
        private var container: (at: Int, box: CountBox)?

        init(out: Output = Output()) { self.out = out }

        final class CountBox { var count = 0 }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            let at = out.open()
            let box = CountBox()
            container = (at, box)
            return KeyedEncodingContainer(Keyed<Key>(encoder: self, box: box))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            let at = out.open()
            let box = CountBox()
            container = (at, box)
            return Unkeyed(encoder: self, box: box)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer { self }

        /// Closes the container this encoder opened (called after `encode(to:)`).
        func finish() {
            if let (at, box) = container { out.close(at, count: box.count) }
            container = nil
        }

        func encodeNil() { out.tag(.null) }
        func encode(_ value: Bool) { out.tag(.bool); out.bytes.append(value ? 1 : 0) }
        func encode(_ value: String) { out.tag(.string); out.string(value) }
        func encode(_ value: Double) { out.tag(.double); out.int(Int(truncatingIfNeeded: Int64(bitPattern: value.bitPattern))) }
        func encode(_ value: Float) { encode(Double(value)) }
        func encode(_ value: Int) { out.tag(.integer); out.int(value) }
        func encode(_ value: Int8) { encode(Int(value)) }
        func encode(_ value: Int16) { encode(Int(value)) }
        func encode(_ value: Int32) { encode(Int(value)) }
        func encode(_ value: Int64) { encode(Int(value)) }
        func encode(_ value: UInt) { encode(Int(bitPattern: value)) }
        func encode(_ value: UInt8) { encode(Int(value)) }
        func encode(_ value: UInt16) { encode(Int(value)) }
        func encode(_ value: UInt32) { encode(Int(value)) }
        func encode(_ value: UInt64) { encode(Int(bitPattern: UInt(value))) }
        func encode<T: Encodable>(_ value: T) throws {
            switch value {
            case let s as String: encode(s)
            case let i as Int: encode(i)
            case let b as Bool: encode(b)
            default:
                let nested = Encoder(out: out)
                try value.encode(to: nested)
                nested.finish()
            }
        }

        struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
            let encoder: Encoder
            let box: CountBox
            var codingPath: [any CodingKey] { encoder.codingPath }

            func key(_ key: Key) {
                encoder.out.string(key.stringValue)
                box.count += 1
            }
            mutating func encodeNil(forKey key: Key) { self.key(key); encoder.encodeNil() }
            mutating func encode(_ value: Bool, forKey key: Key) { self.key(key); encoder.encode(value) }
            mutating func encode(_ value: String, forKey key: Key) { self.key(key); encoder.encode(value) }
            mutating func encode(_ value: Int, forKey key: Key) { self.key(key); encoder.encode(value) }
            mutating func encode(_ value: Double, forKey key: Key) { self.key(key); encoder.encode(value) }
            mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { self.key(key); try encoder.encode(value) }
            mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
                fatalError("BinaryCoder: nested containers are not used by the checkpoint")
            }
            mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
                fatalError("BinaryCoder: nested containers are not used by the checkpoint")
            }
            mutating func superEncoder() -> any Swift.Encoder { fatalError("BinaryCoder: superEncoder is not used by the checkpoint") }
            mutating func superEncoder(forKey key: Key) -> any Swift.Encoder { fatalError("BinaryCoder: superEncoder is not used by the checkpoint") }
        }

        struct Unkeyed: UnkeyedEncodingContainer {
            let encoder: Encoder
            let box: CountBox
            var codingPath: [any CodingKey] { encoder.codingPath }
            var count: Int { box.count }

            mutating func encodeNil() { box.count += 1; encoder.encodeNil() }
            mutating func encode(_ value: String) { box.count += 1; encoder.encode(value) }
            mutating func encode(_ value: Int) { box.count += 1; encoder.encode(value) }
            mutating func encode(_ value: Bool) { box.count += 1; encoder.encode(value) }
            mutating func encode<T: Encodable>(_ value: T) throws { box.count += 1; try encoder.encode(value) }
            mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
                fatalError("BinaryCoder: nested containers are not used by the checkpoint")
            }
            mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
                fatalError("BinaryCoder: nested containers are not used by the checkpoint")
            }
            mutating func superEncoder() -> any Swift.Encoder { fatalError("BinaryCoder: superEncoder is not used by the checkpoint") }
        }
    }

    // MARK: decoding

    /// Reads one value at `range` of `bytes`.
    struct Decoder: Swift.Decoder, SingleValueDecodingContainer {
        let bytes: UnsafeRawBufferPointer
        let range: Range<Int>
        var codingPath: [any CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] = [:]

        init(bytes: UnsafeRawBufferPointer, range: Range<Int>) {
            self.bytes = bytes
            self.range = range
        }

        var tag: UInt8 { range.isEmpty ? 255 : bytes[range.lowerBound] }

        static func int(_ bytes: UnsafeRawBufferPointer, _ at: Int) throws -> Int {
            guard at >= 0, at + 8 <= bytes.count else { throw Failure() }
            return Int(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int64.self)))
        }

        /// The end of the value starting at `at`.
        static func end(_ bytes: UnsafeRawBufferPointer, _ at: Int) throws -> Int {
            guard at < bytes.count else { throw Failure() }
            switch Tag(rawValue: bytes[at]) {
            case .null: return at + 1
            case .bool: return at + 2
            case .integer, .double: return at + 9
            case .string, .container:
                let length = try int(bytes, at + 1)
                let end = at + 1 + (bytes[at] == Tag.container.rawValue ? 16 : 8) + length
                guard length >= 0, end <= bytes.count else { throw Failure() }
                return end
            case nil: throw Failure()
            }
        }

        static func string(_ bytes: UnsafeRawBufferPointer, _ at: Int) throws -> (String, Int) {
            let length = try int(bytes, at)
            guard length >= 0, at + 8 + length <= bytes.count else { throw Failure() }
            return (String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(at + 8)..<(at + 8 + length)]), as: UTF8.self), at + 8 + length)
        }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            guard tag == Tag.container.rawValue else { throw Failure() }
            let count = try Decoder.int(bytes, range.lowerBound + 9)
            var entries: [(key: String, value: Range<Int>)] = []
            entries.reserveCapacity(max(0, count))
            var at = range.lowerBound + 17
            for _ in 0..<max(0, count) {
                let (key, valueStart) = try Decoder.string(bytes, at)
                let valueEnd = try Decoder.end(bytes, valueStart)
                entries.append((key, valueStart..<valueEnd))
                at = valueEnd
            }
            return KeyedDecodingContainer(Keyed<Key>(bytes: bytes, entries: entries))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            guard tag == Tag.container.rawValue else { throw Failure() }
            return Unkeyed(bytes: bytes, count: try Decoder.int(bytes, range.lowerBound + 9), at: range.lowerBound + 17)
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

        func decodeNil() -> Bool { tag == Tag.null.rawValue }
        func decode(_ type: Bool.Type) throws -> Bool {
            guard tag == Tag.bool.rawValue, range.count >= 2 else { throw Failure() }
            return bytes[range.lowerBound + 1] != 0
        }
        func decode(_ type: String.Type) throws -> String {
            guard tag == Tag.string.rawValue else { throw Failure() }
            return try Decoder.string(bytes, range.lowerBound + 1).0
        }
        func decode(_ type: Int.Type) throws -> Int {
            guard tag == Tag.integer.rawValue else { throw Failure() }
            return try Decoder.int(bytes, range.lowerBound + 1)
        }
        func decode(_ type: Double.Type) throws -> Double {
            guard tag == Tag.double.rawValue else { throw Failure() }
            return Double(bitPattern: UInt64(bitPattern: Int64(try Decoder.int(bytes, range.lowerBound + 1))))
        }
        func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
        func decode(_ type: Int8.Type) throws -> Int8 { try narrow(decode(Int.self)) }
        func decode(_ type: Int16.Type) throws -> Int16 { try narrow(decode(Int.self)) }
        func decode(_ type: Int32.Type) throws -> Int32 { try narrow(decode(Int.self)) }
        func decode(_ type: Int64.Type) throws -> Int64 { Int64(try decode(Int.self)) }
        func decode(_ type: UInt.Type) throws -> UInt { UInt(bitPattern: try decode(Int.self)) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try narrow(decode(Int.self)) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try narrow(decode(Int.self)) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try narrow(decode(Int.self)) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { UInt64(UInt(bitPattern: try decode(Int.self))) }
        func narrow<T: FixedWidthInteger>(_ value: Int) throws -> T {
            guard let narrowed = T(exactly: value) else { throw Failure() }
            return narrowed
        }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            if T.self == String.self { return try decode(String.self) as! T }
            if T.self == Int.self { return try decode(Int.self) as! T }
            if T.self == Bool.self { return try decode(Bool.self) as! T }
            return try T(from: self)
        }

        struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
            let bytes: UnsafeRawBufferPointer
            let entries: [(key: String, value: Range<Int>)]
            var codingPath: [any CodingKey] { [] }
            var allKeys: [Key] { entries.compactMap { Key(stringValue: $0.key) } }
            /// Where the last member was found: members are mostly asked for in the order written.
            private let cursor = Cursor()

            init(bytes: UnsafeRawBufferPointer, entries: [(key: String, value: Range<Int>)]) {
                self.bytes = bytes
                self.entries = entries
            }

            final class Cursor { var next = 0 }

            func find(_ key: Key) -> Range<Int>? {
                let name = key.stringValue
                if cursor.next < entries.count, entries[cursor.next].key == name {
                    cursor.next += 1
                    return entries[cursor.next - 1].value
                }
                guard let index = entries.firstIndex(where: { $0.key == name }) else { return nil }
                cursor.next = index + 1
                return entries[index].value
            }

            func value(_ key: Key) throws -> Decoder {
                guard let range = find(key) else { throw DecodingError.keyNotFound(key, .init(codingPath: [], debugDescription: "missing")) }
                return Decoder(bytes: bytes, range: range)
            }

            func contains(_ key: Key) -> Bool {
                let name = key.stringValue
                if cursor.next < entries.count, entries[cursor.next].key == name { return true }
                return entries.contains { $0.key == name }
            }
            func decodeNil(forKey key: Key) throws -> Bool {
                guard let range = find(key) else { return true }
                if bytes[range.lowerBound] == Tag.null.rawValue { return true }
                cursor.next -= 1  // the value itself is read next
                return false
            }
            func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try value(key).decode(T.self) }
            func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
                try value(key).container(keyedBy: type)
            }
            func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try value(key).unkeyedContainer() }
            func superDecoder() throws -> any Swift.Decoder { throw Failure() }
            func superDecoder(forKey key: Key) throws -> any Swift.Decoder { throw Failure() }
        }

        struct Unkeyed: UnkeyedDecodingContainer {
            let bytes: UnsafeRawBufferPointer
            let total: Int
            var at: Int
            var currentIndex = 0
            var codingPath: [any CodingKey] { [] }
            var count: Int? { total }
            var isAtEnd: Bool { currentIndex >= total }

            init(bytes: UnsafeRawBufferPointer, count: Int, at: Int) {
                self.bytes = bytes
                total = max(0, count)
                self.at = at
            }

            mutating func next() throws -> Decoder {
                guard !isAtEnd else { throw Failure() }
                let end = try Decoder.end(bytes, at)
                defer { at = end; currentIndex += 1 }
                return Decoder(bytes: bytes, range: at..<end)
            }
            mutating func decodeNil() throws -> Bool {
                guard !isAtEnd, bytes[at] == Tag.null.rawValue else { return false }
                at += 1
                currentIndex += 1
                return true
            }
            mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(T.self) }
            mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
                try next().container(keyedBy: type)
            }
            mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
            mutating func superDecoder() throws -> any Swift.Decoder { throw Failure() }
        }
    }
}
