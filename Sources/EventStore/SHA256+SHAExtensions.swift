#if arch(x86_64)
// Clang's own intrinsics, shipped with the Swift toolchain. Package.swift compiles this
// module with `-msha` so that the three SHA instructions can be emitted; they run only
// after CPUID has said the CPU has them. Nothing else enables instructions beyond
// x86-64's baseline (SSE2), which is all the rest of this file uses.
import _Builtin_intrinsics.intel
import _Builtin_intrinsics.intel.cpuid

extension SHA256 {
    /// Whether CPUID reports the SHA extensions (leaf 7, sub-leaf 0, EBX bit 29).
    static let cpuHasSHAExtensions: Bool = {
        var eax: UInt32 = 0, ebx: UInt32 = 0, ecx: UInt32 = 0, edx: UInt32 = 0
        guard __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) != 0 else { return false }
        return ebx & (1 << 29) != 0
    }()

    /// The compression function on the SHA extensions, after Intel's white paper ("Intel SHA
    /// Extensions", 2013). The instructions keep the eight words as two vectors, ABEF and
    /// CDGH (lane 3 first); each `sha256rnds2` runs two rounds, each `nextWords` computes
    /// the schedule's next four words from the sixteen before them.
    mutating func compressWithSHAExtensions(_ start: UnsafeRawPointer, blocks: Int) {
        var abef = lanes(h0, h1, h4, h5)
        var cdgh = lanes(h2, h3, h6, h7)
        var p = start
        for _ in 0..<blocks {
            let (abefBefore, cdghBefore) = (abef, cdgh)
            var w0 = bigEndianWords(p)
            var w1 = bigEndianWords(p + 16)
            var w2 = bigEndianWords(p + 32)
            var w3 = bigEndianWords(p + 48)
            fourRounds(&abef, &cdgh, w0, 0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5)
            fourRounds(&abef, &cdgh, w1, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5)
            fourRounds(&abef, &cdgh, w2, 0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3)
            fourRounds(&abef, &cdgh, w3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174)
            w0 = nextWords(w0, w1, w2, w3)
            fourRounds(&abef, &cdgh, w0, 0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc)
            w1 = nextWords(w1, w2, w3, w0)
            fourRounds(&abef, &cdgh, w1, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da)
            w2 = nextWords(w2, w3, w0, w1)
            fourRounds(&abef, &cdgh, w2, 0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7)
            w3 = nextWords(w3, w0, w1, w2)
            fourRounds(&abef, &cdgh, w3, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967)
            w0 = nextWords(w0, w1, w2, w3)
            fourRounds(&abef, &cdgh, w0, 0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13)
            w1 = nextWords(w1, w2, w3, w0)
            fourRounds(&abef, &cdgh, w1, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85)
            w2 = nextWords(w2, w3, w0, w1)
            fourRounds(&abef, &cdgh, w2, 0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3)
            w3 = nextWords(w3, w0, w1, w2)
            fourRounds(&abef, &cdgh, w3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070)
            w0 = nextWords(w0, w1, w2, w3)
            fourRounds(&abef, &cdgh, w0, 0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5)
            w1 = nextWords(w1, w2, w3, w0)
            fourRounds(&abef, &cdgh, w1, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3)
            w2 = nextWords(w2, w3, w0, w1)
            fourRounds(&abef, &cdgh, w2, 0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208)
            w3 = nextWords(w3, w0, w1, w2)
            fourRounds(&abef, &cdgh, w3, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2)
            abef = _mm_add_epi32(abef, abefBefore)
            cdgh = _mm_add_epi32(cdgh, cdghBefore)
            p += 64
        }
        let ab = unsafeBitCast(abef, to: SIMD4<UInt32>.self)
        let cd = unsafeBitCast(cdgh, to: SIMD4<UInt32>.self)
        (h0, h1, h4, h5) = (ab[3], ab[2], ab[1], ab[0])
        (h2, h3, h6, h7) = (cd[3], cd[2], cd[1], cd[0])
    }
}

/// A vector of four words, `lane3` in the highest lane (the order of `_mm_set_epi32`).
@inline(__always) private func lanes(_ lane3: UInt32, _ lane2: UInt32, _ lane1: UInt32, _ lane0: UInt32) -> __m128i {
    _mm_set_epi32(Int32(bitPattern: lane3), Int32(bitPattern: lane2), Int32(bitPattern: lane1), Int32(bitPattern: lane0))
}

/// Four message words, read big-endian: each lane's bytes reversed, with SSE2 shifts
/// (the byte shuffle would need SSSE3).
@inline(__always) private func bigEndianWords(_ p: UnsafeRawPointer) -> __m128i {
    let bytes = p.loadUnaligned(as: __m128i.self)
    let halvesSwapped = _mm_or_si128(_mm_slli_epi32(bytes, 16), _mm_srli_epi32(bytes, 16))
    return _mm_or_si128(_mm_slli_epi16(halvesSwapped, 8), _mm_srli_epi16(halvesSwapped, 8))
}

/// Rounds i…i+3: the words plus the round constants, two rounds on the low half, then
/// two on the high half; the state comes back in the order it went in.
@inline(__always) private func fourRounds(
    _ abef: inout __m128i, _ cdgh: inout __m128i, _ words: __m128i,
    _ k0: UInt32, _ k1: UInt32, _ k2: UInt32, _ k3: UInt32
) {
    let wk = _mm_add_epi32(words, lanes(k3, k2, k1, k0))
    cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk)
    abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_unpackhi_epi64(wk, wk))
}

/// Schedule words i…i+3 from words i-16…i-1, given as four vectors, oldest first.
@inline(__always) private func nextWords(_ w16: __m128i, _ w12: __m128i, _ w8: __m128i, _ w4: __m128i) -> __m128i {
    // Words i-7…i-4: the last three of `w8` and the first of `w4`.
    let (older, newer) = (unsafeBitCast(w8, to: SIMD4<UInt32>.self), unsafeBitCast(w4, to: SIMD4<UInt32>.self))
    let w7 = unsafeBitCast(SIMD4<UInt32>(older[1], older[2], older[3], newer[0]), to: __m128i.self)
    return _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(w16, w12), w7), w4)
}

#else

extension SHA256 {
    static let cpuHasSHAExtensions = false

    mutating func compressWithSHAExtensions(_ start: UnsafeRawPointer, blocks: Int) {
        preconditionFailure("the SHA extensions exist only on x86-64")
    }
}

#endif
