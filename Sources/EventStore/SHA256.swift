#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SHA-256 (FIPS 180-4), written out by hand so the log needs no third-party code.
///
/// Feed bytes with `update` in pieces of any size, then call `finalize` once for the
/// 32-byte digest. Whole 64-byte blocks are compressed straight from the caller's
/// buffer; only a partial block is copied, into 64 bytes held inline (no allocation).
/// Blocks are compressed with the CPU's SHA instructions where it has them (x86-64's
/// SHA extensions, about 3.7 times as fast), otherwise by the portable code below.
public struct SHA256: Sendable {
    var h0: UInt32 = 0x6a09_e667
    var h1: UInt32 = 0xbb67_ae85
    var h2: UInt32 = 0x3c6e_f372
    var h3: UInt32 = 0xa54f_f53a
    var h4: UInt32 = 0x510e_527f
    var h5: UInt32 = 0x9b05_688c
    var h6: UInt32 = 0x1f83_d9ab
    var h7: UInt32 = 0x5be0_cd19
    /// The bytes of a block not yet complete; the first `pendingCount` are valid.
    var pending: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0)
    var pendingCount: Int = 0
    /// Total bytes fed so far.
    var byteCount: UInt64 = 0
    let compression: Compression

    public init() {
        compression = .fastest
    }

    /// A hasher that compresses its blocks the given way: for tests that compare the two.
    init(compression: Compression) {
        self.compression = compression
    }

    /// Feeds `bytes` to the hash. Complexity: O(`bytes.count`), no allocation.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress, bytes.count > 0 else { return }
        var n = bytes.count
        byteCount &+= UInt64(n)

        if pendingCount > 0 {
            let take = min(64 - pendingCount, n)
            let offset = pendingCount
            withUnsafeMutableBytes(of: &pending) { block in
                (block.baseAddress! + offset).copyMemory(from: p, byteCount: take)
            }
            pendingCount += take
            p += take
            n -= take
            guard pendingCount == 64 else { return }
            var block = pending
            withUnsafeBytes(of: &block) { compress($0.baseAddress!, blocks: 1) }
            pendingCount = 0
        }

        let whole = n / 64
        if whole > 0 {
            compress(p, blocks: whole)
            p += whole * 64
            n -= whole * 64
        }

        if n > 0 {
            withUnsafeMutableBytes(of: &pending) { block in
                block.baseAddress!.copyMemory(from: p, byteCount: n)
            }
            pendingCount = n
        }
    }

    /// Feeds `bytes` to the hash; contiguous collections (`[UInt8]`, `Data`, native
    /// `String.UTF8View`) are read in place, others are copied once.
    @inlinable
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil {
            Array(bytes).withUnsafeBytes { update($0) }
        }
    }

    /// Pads the message, returns its 32-byte digest and resets the hasher to a fresh one.
    public mutating func finalize() -> [UInt8] {
        // The pending bytes, 0x80, zeros up to 56 mod 64, then the length in bits as a
        // big-endian UInt64: one block, or two when fewer than 9 bytes are left free.
        // Built a UInt64 at a time, the way `pending` is laid out.
        let count = pendingCount
        let blocks = count < 56 ? 1 : 2
        let zeros: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var last = (pending, zeros)
        let bitLength = byteCount &* 8
        withUnsafeMutableBytes(of: &last) { buffer in
            let words = buffer.assumingMemoryBound(to: UInt64.self)
            let index = count / 8
            let kept = UInt64(count % 8) * 8
            let word = UInt64(littleEndian: words[index]) & ((1 &<< kept) &- 1)
            words[index] = (word | (0x80 &<< kept)).littleEndian
            for i in (index + 1)..<(blocks * 8 - 1) { words[i] = 0 }
            words[blocks * 8 - 1] = bitLength.bigEndian
        }
        withUnsafeBytes(of: &last) { compress($0.baseAddress!, blocks: blocks) }
        var state = (
            h0.bigEndian, h1.bigEndian, h2.bigEndian, h3.bigEndian,
            h4.bigEndian, h5.bigEndian, h6.bigEndian, h7.bigEndian
        )
        let digest = withUnsafeBytes(of: &state) { [UInt8]($0) }
        self = SHA256(compression: compression)
        return digest
    }

    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.finalize()
    }

    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Which code computes digests in this process, for `--version`.
    public static var implementation: String {
        switch Compression.fastest {
        case .portable: "portable code"
        case .shaExtensions: "the CPU's SHA extensions (RECOVERY_SHA256=portable for the portable code)"
        }
    }

    /// The lower-case hex digest of `bytes`: what `sha256sum` prints, and what the log's
    /// `hash` and `prev` members hold.
    public static func hex(_ bytes: [UInt8]) -> String {
        Hex.encode(hash(bytes))
    }

    /// The lower-case hex digest of `bytes`.
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        Hex.encode(hash(bytes))
    }
}

extension SHA256 {
    /// The ways this build can compress a block.
    enum Compression: Sendable, CaseIterable {
        /// Plain integer code, on every CPU.
        case portable
        /// The SHA extensions of x86-64 (`sha256rnds2`, `sha256msg1`, `sha256msg2`), used
        /// only once CPUID has said this CPU has them.
        case shaExtensions

        /// The fastest way this CPU can run, decided once per process; the portable code
        /// when `RECOVERY_SHA256=portable` asks for it (to check a result without the CPU's
        /// SHA instructions, or to measure the difference).
        static let fastest: Compression = {
            if let asked = getenv("RECOVERY_SHA256"), String(cString: asked) == "portable" { return .portable }
            return available.last!
        }()

        /// The ways this CPU can run: `portable`, then the SHA extensions if it has them.
        static var available: [Compression] {
            cpuHasSHAExtensions ? [.portable, .shaExtensions] : [.portable]
        }
    }

    /// Runs the compression function over `blocks` consecutive 64-byte blocks at `start`.
    mutating func compress(_ start: UnsafeRawPointer, blocks: Int) {
        switch compression {
        case .portable: compressPortably(start, blocks: blocks)
        case .shaExtensions: compressWithSHAExtensions(start, blocks: blocks)
        }
    }

    /// The 64 rounds are unrolled; the working variables a…h are renamed from round to
    /// round instead of being shifted, and the schedule lives in a rolling window of 16.
    mutating func compressPortably(_ start: UnsafeRawPointer, blocks: Int) {
        var state = (h0, h1, h2, h3, h4, h5, h6, h7)
        var p = start
        for _ in 0..<blocks {
            var (a, b, c, d, e, f, g, h) = state
            var w0 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
            var w1 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            var w2 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            var w3 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
            var w4 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
            var w5 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 20, as: UInt32.self))
            var w6 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
            var w7 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 28, as: UInt32.self))
            var w8 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 32, as: UInt32.self))
            var w9 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 36, as: UInt32.self))
            var w10 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 40, as: UInt32.self))
            var w11 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 44, as: UInt32.self))
            var w12 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 48, as: UInt32.self))
            var w13 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 52, as: UInt32.self))
            var w14 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 56, as: UInt32.self))
            var w15 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 60, as: UInt32.self))
            round(a, b, c, &d, e, f, g, &h, 0x428a2f98, w0)
            round(h, a, b, &c, d, e, f, &g, 0x71374491, w1)
            round(g, h, a, &b, c, d, e, &f, 0xb5c0fbcf, w2)
            round(f, g, h, &a, b, c, d, &e, 0xe9b5dba5, w3)
            round(e, f, g, &h, a, b, c, &d, 0x3956c25b, w4)
            round(d, e, f, &g, h, a, b, &c, 0x59f111f1, w5)
            round(c, d, e, &f, g, h, a, &b, 0x923f82a4, w6)
            round(b, c, d, &e, f, g, h, &a, 0xab1c5ed5, w7)
            round(a, b, c, &d, e, f, g, &h, 0xd807aa98, w8)
            round(h, a, b, &c, d, e, f, &g, 0x12835b01, w9)
            round(g, h, a, &b, c, d, e, &f, 0x243185be, w10)
            round(f, g, h, &a, b, c, d, &e, 0x550c7dc3, w11)
            round(e, f, g, &h, a, b, c, &d, 0x72be5d74, w12)
            round(d, e, f, &g, h, a, b, &c, 0x80deb1fe, w13)
            round(c, d, e, &f, g, h, a, &b, 0x9bdc06a7, w14)
            round(b, c, d, &e, f, g, h, &a, 0xc19bf174, w15)
            w0 = w0 &+ σ1(w14) &+ w9 &+ σ0(w1)
            round(a, b, c, &d, e, f, g, &h, 0xe49b69c1, w0)
            w1 = w1 &+ σ1(w15) &+ w10 &+ σ0(w2)
            round(h, a, b, &c, d, e, f, &g, 0xefbe4786, w1)
            w2 = w2 &+ σ1(w0) &+ w11 &+ σ0(w3)
            round(g, h, a, &b, c, d, e, &f, 0x0fc19dc6, w2)
            w3 = w3 &+ σ1(w1) &+ w12 &+ σ0(w4)
            round(f, g, h, &a, b, c, d, &e, 0x240ca1cc, w3)
            w4 = w4 &+ σ1(w2) &+ w13 &+ σ0(w5)
            round(e, f, g, &h, a, b, c, &d, 0x2de92c6f, w4)
            w5 = w5 &+ σ1(w3) &+ w14 &+ σ0(w6)
            round(d, e, f, &g, h, a, b, &c, 0x4a7484aa, w5)
            w6 = w6 &+ σ1(w4) &+ w15 &+ σ0(w7)
            round(c, d, e, &f, g, h, a, &b, 0x5cb0a9dc, w6)
            w7 = w7 &+ σ1(w5) &+ w0 &+ σ0(w8)
            round(b, c, d, &e, f, g, h, &a, 0x76f988da, w7)
            w8 = w8 &+ σ1(w6) &+ w1 &+ σ0(w9)
            round(a, b, c, &d, e, f, g, &h, 0x983e5152, w8)
            w9 = w9 &+ σ1(w7) &+ w2 &+ σ0(w10)
            round(h, a, b, &c, d, e, f, &g, 0xa831c66d, w9)
            w10 = w10 &+ σ1(w8) &+ w3 &+ σ0(w11)
            round(g, h, a, &b, c, d, e, &f, 0xb00327c8, w10)
            w11 = w11 &+ σ1(w9) &+ w4 &+ σ0(w12)
            round(f, g, h, &a, b, c, d, &e, 0xbf597fc7, w11)
            w12 = w12 &+ σ1(w10) &+ w5 &+ σ0(w13)
            round(e, f, g, &h, a, b, c, &d, 0xc6e00bf3, w12)
            w13 = w13 &+ σ1(w11) &+ w6 &+ σ0(w14)
            round(d, e, f, &g, h, a, b, &c, 0xd5a79147, w13)
            w14 = w14 &+ σ1(w12) &+ w7 &+ σ0(w15)
            round(c, d, e, &f, g, h, a, &b, 0x06ca6351, w14)
            w15 = w15 &+ σ1(w13) &+ w8 &+ σ0(w0)
            round(b, c, d, &e, f, g, h, &a, 0x14292967, w15)
            w0 = w0 &+ σ1(w14) &+ w9 &+ σ0(w1)
            round(a, b, c, &d, e, f, g, &h, 0x27b70a85, w0)
            w1 = w1 &+ σ1(w15) &+ w10 &+ σ0(w2)
            round(h, a, b, &c, d, e, f, &g, 0x2e1b2138, w1)
            w2 = w2 &+ σ1(w0) &+ w11 &+ σ0(w3)
            round(g, h, a, &b, c, d, e, &f, 0x4d2c6dfc, w2)
            w3 = w3 &+ σ1(w1) &+ w12 &+ σ0(w4)
            round(f, g, h, &a, b, c, d, &e, 0x53380d13, w3)
            w4 = w4 &+ σ1(w2) &+ w13 &+ σ0(w5)
            round(e, f, g, &h, a, b, c, &d, 0x650a7354, w4)
            w5 = w5 &+ σ1(w3) &+ w14 &+ σ0(w6)
            round(d, e, f, &g, h, a, b, &c, 0x766a0abb, w5)
            w6 = w6 &+ σ1(w4) &+ w15 &+ σ0(w7)
            round(c, d, e, &f, g, h, a, &b, 0x81c2c92e, w6)
            w7 = w7 &+ σ1(w5) &+ w0 &+ σ0(w8)
            round(b, c, d, &e, f, g, h, &a, 0x92722c85, w7)
            w8 = w8 &+ σ1(w6) &+ w1 &+ σ0(w9)
            round(a, b, c, &d, e, f, g, &h, 0xa2bfe8a1, w8)
            w9 = w9 &+ σ1(w7) &+ w2 &+ σ0(w10)
            round(h, a, b, &c, d, e, f, &g, 0xa81a664b, w9)
            w10 = w10 &+ σ1(w8) &+ w3 &+ σ0(w11)
            round(g, h, a, &b, c, d, e, &f, 0xc24b8b70, w10)
            w11 = w11 &+ σ1(w9) &+ w4 &+ σ0(w12)
            round(f, g, h, &a, b, c, d, &e, 0xc76c51a3, w11)
            w12 = w12 &+ σ1(w10) &+ w5 &+ σ0(w13)
            round(e, f, g, &h, a, b, c, &d, 0xd192e819, w12)
            w13 = w13 &+ σ1(w11) &+ w6 &+ σ0(w14)
            round(d, e, f, &g, h, a, b, &c, 0xd6990624, w13)
            w14 = w14 &+ σ1(w12) &+ w7 &+ σ0(w15)
            round(c, d, e, &f, g, h, a, &b, 0xf40e3585, w14)
            w15 = w15 &+ σ1(w13) &+ w8 &+ σ0(w0)
            round(b, c, d, &e, f, g, h, &a, 0x106aa070, w15)
            w0 = w0 &+ σ1(w14) &+ w9 &+ σ0(w1)
            round(a, b, c, &d, e, f, g, &h, 0x19a4c116, w0)
            w1 = w1 &+ σ1(w15) &+ w10 &+ σ0(w2)
            round(h, a, b, &c, d, e, f, &g, 0x1e376c08, w1)
            w2 = w2 &+ σ1(w0) &+ w11 &+ σ0(w3)
            round(g, h, a, &b, c, d, e, &f, 0x2748774c, w2)
            w3 = w3 &+ σ1(w1) &+ w12 &+ σ0(w4)
            round(f, g, h, &a, b, c, d, &e, 0x34b0bcb5, w3)
            w4 = w4 &+ σ1(w2) &+ w13 &+ σ0(w5)
            round(e, f, g, &h, a, b, c, &d, 0x391c0cb3, w4)
            w5 = w5 &+ σ1(w3) &+ w14 &+ σ0(w6)
            round(d, e, f, &g, h, a, b, &c, 0x4ed8aa4a, w5)
            w6 = w6 &+ σ1(w4) &+ w15 &+ σ0(w7)
            round(c, d, e, &f, g, h, a, &b, 0x5b9cca4f, w6)
            w7 = w7 &+ σ1(w5) &+ w0 &+ σ0(w8)
            round(b, c, d, &e, f, g, h, &a, 0x682e6ff3, w7)
            w8 = w8 &+ σ1(w6) &+ w1 &+ σ0(w9)
            round(a, b, c, &d, e, f, g, &h, 0x748f82ee, w8)
            w9 = w9 &+ σ1(w7) &+ w2 &+ σ0(w10)
            round(h, a, b, &c, d, e, f, &g, 0x78a5636f, w9)
            w10 = w10 &+ σ1(w8) &+ w3 &+ σ0(w11)
            round(g, h, a, &b, c, d, e, &f, 0x84c87814, w10)
            w11 = w11 &+ σ1(w9) &+ w4 &+ σ0(w12)
            round(f, g, h, &a, b, c, d, &e, 0x8cc70208, w11)
            w12 = w12 &+ σ1(w10) &+ w5 &+ σ0(w13)
            round(e, f, g, &h, a, b, c, &d, 0x90befffa, w12)
            w13 = w13 &+ σ1(w11) &+ w6 &+ σ0(w14)
            round(d, e, f, &g, h, a, b, &c, 0xa4506ceb, w13)
            w14 = w14 &+ σ1(w12) &+ w7 &+ σ0(w15)
            round(c, d, e, &f, g, h, a, &b, 0xbef9a3f7, w14)
            w15 = w15 &+ σ1(w13) &+ w8 &+ σ0(w0)
            round(b, c, d, &e, f, g, h, &a, 0xc67178f2, w15)
            state = (
                state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d,
                state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h
            )
            p += 64
        }
        (h0, h1, h2, h3, h4, h5, h6, h7) = state
    }
}

// FIPS 180-4 §4.1.2 functions and one round of §6.2.2 step 3.

@inline(__always) private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 {
    (x &>> n) | (x &<< (32 &- n))
}

@inline(__always) private func Σ0(_ x: UInt32) -> UInt32 { rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22) }
@inline(__always) private func Σ1(_ x: UInt32) -> UInt32 { rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25) }
@inline(__always) private func σ0(_ x: UInt32) -> UInt32 { rotr(x, 7) ^ rotr(x, 18) ^ (x &>> 3) }
@inline(__always) private func σ1(_ x: UInt32) -> UInt32 { rotr(x, 17) ^ rotr(x, 19) ^ (x &>> 10) }

/// One round: `d += T1`, `h = T1 + T2`. The caller renames the variables so that `h`
/// becomes the next round's `a` and `d` its `e`.
@inline(__always) private func round(
    _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
    _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32,
    _ k: UInt32, _ w: UInt32
) {
    // Terms known early first, so the chain from `e` to the next `e` stays short.
    let t1 = (h &+ k &+ w) &+ ((e & f) ^ (~e & g)) &+ Σ1(e)
    let t2 = ((a & b) ^ (a & c) ^ (b & c)) &+ Σ0(a)
    d = d &+ t1
    h = t1 &+ t2
}
