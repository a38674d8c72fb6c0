extension SHA256 {
    /// HMAC-SHA256 (RFC 2104) of `message` under `key`.
    public static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        hmac(key: key) { $0.update(message) }
    }

    /// The HMAC of a message given in parts: `message` feeds them to the hash, so a
    /// large message is not copied together first.
    public static func hmac(key: [UInt8], message: (inout SHA256) -> Void) -> [UInt8] {
        HMACKey(key).mac(message)
    }
}

/// A key for HMAC-SHA256 with its padded blocks already hashed: the MACs of many small
/// messages under one key (the pages of a checkpoint) each skip those two blocks.
public struct HMACKey: Sendable {
    private var inner = SHA256()
    private var outer = SHA256()

    public init(_ key: [UInt8]) {
        var block = key.count > 64 ? SHA256.hash(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        inner.update(block.map { $0 ^ 0x36 })
        outer.update(block.map { $0 ^ 0x5c })
    }

    /// The MAC of the message `message` feeds to the hash.
    public func mac(_ message: (inout SHA256) -> Void) -> [UInt8] {
        var inner = self.inner
        message(&inner)
        var outer = self.outer
        outer.update(inner.finalize())
        return outer.finalize()
    }
}

extension HMACKey {
    /// The MAC of what seals a file beside the log: the file's name and a zero byte
    /// first (so one file's seal never fits another), then what `message` feeds.
    func mac(ofFileNamed name: String, _ message: (inout SHA256) -> Void) -> [UInt8] {
        mac { hasher in
            hasher.update(name.utf8)
            withUnsafeBytes(of: UInt8(0)) { hasher.update($0) }
            message(&hasher)
        }
    }
}
