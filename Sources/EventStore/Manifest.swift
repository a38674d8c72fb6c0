/// `manifest.json`: what kind of log a directory holds (SPEC §1).
public struct Manifest: Sendable, Equatable {
    public static let formatName = "recovery-log/1"
    public static let defaultTimeZone = "Europe/Copenhagen"
    public static let defaultSegmentSize = 64 * 1024 * 1024

    public var format: String
    /// `recorded`-style UTC time of `init`.
    public var created: String
    /// IANA name of the zone plain dates are read in.
    public var timeZone: String
    /// A new segment starts once the current one has reached this many bytes.
    public var segmentSize: Int

    public init(created: String, timeZone: String = Manifest.defaultTimeZone, segmentSize: Int = Manifest.defaultSegmentSize) {
        format = Manifest.formatName
        self.created = created
        self.timeZone = timeZone
        self.segmentSize = segmentSize
    }

    public var json: JSONValue {
        .object(JSONObject([
            "format": .string(format),
            "created": .string(created),
            "timeZone": .string(timeZone),
            "segmentSize": .integer(segmentSize),
        ]))
    }

    /// Reads a manifest, refusing any format but `recovery-log/1` before looking further.
    init(bytes: [UInt8], path: String) throws(LogError) {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw .notALog(path: path, reason: "manifest.json is not JSON (\(error))") }
        guard case .object(let object) = value, case .string(let format)? = object["format"] else {
            throw .notALog(path: path, reason: "manifest.json has no \"format\"")
        }
        guard format == Manifest.formatName else { throw .unsupportedFormat(path: path, format: format) }
        guard case .string(let created)? = object["created"], case .string(let zone)? = object["timeZone"],
              case .integer(let size)? = object["segmentSize"], size > 0 else {
            throw .notALog(path: path, reason: "manifest.json lacks \"created\", \"timeZone\" or a positive \"segmentSize\"")
        }
        self.format = format
        self.created = created
        self.timeZone = zone
        self.segmentSize = size
    }
}
