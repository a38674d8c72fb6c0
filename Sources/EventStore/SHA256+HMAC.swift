extension SHA256 {
    /// HMAC-SHA256 (RFC 2104) of `message` under `key`.
    public static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        hmac(key: key) { $0.update(message) }
    }

    /// The HMAC of a message given in parts: `message` feeds them to the hash, so a
    /// large message is not copied together first.
    public static func hmac(key: [UInt8], message: (inout SHA256) -> Void) -> [UInt8] {
        var block = key.count > 64 ? hash(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        message(&inner)
        var outer = SHA256()
        outer.update(block.map { $0 ^ 0x5c })
        outer.update(inner.finalize())
        return outer.finalize()
    }
}
