#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte strings numbered 0, 1, 2 … in the order first seen: what `KPIFigures` keys its
/// entries by. An id read from a line is looked up by its bytes, with no `String` made
/// and no SipHash; the entries then live in arrays indexed by these numbers.
///
/// Complexity: a lookup hashes the bytes once and compares them with one entry in the
/// usual case. Memory: the bytes of each distinct string, and 16 bytes a string.
struct Interner: Sendable {
    /// The strings, end to end: number `n` is `arena[starts[n]..<starts[n + 1]]`.
    private var arena: [UInt8] = []
    private var starts: [Int32] = [0]
    /// Open addressing: each slot holds a number + 1 (0 = empty) and that string's hash.
    private var slots: [Slot]
    private var mask: Int

    private struct Slot {
        var numberPlusOne: UInt32 = 0
        var hash: UInt32 = 0
    }

    init() {
        slots = [Slot](repeating: Slot(), count: 64)
        mask = 63
    }

    var count: Int { starts.count - 1 }

    /// The number of `bytes`, given a new one when it was not seen before.
    mutating func number(_ bytes: UnsafeRawBufferPointer) -> Int {
        let hash = Interner.hash(bytes)
        var slot = Int(hash) & mask
        while true {
            let entry = slots[slot]
            if entry.numberPlusOne == 0 { break }
            if entry.hash == hash, holds(Int(entry.numberPlusOne) - 1, bytes) { return Int(entry.numberPlusOne) - 1 }
            slot = (slot + 1) & mask
        }
        let number = count
        arena.append(contentsOf: bytes)
        starts.append(Int32(arena.count))
        slots[slot] = Slot(numberPlusOne: UInt32(number + 1), hash: hash)
        // At most half full, so a probe ends soon.
        if count * 2 > slots.count { grow() }
        return number
    }

    mutating func number(_ string: String) -> Int {
        var string = string
        return string.withUTF8 { number(UnsafeRawBufferPointer($0)) }
    }

    /// Number `number` as a string.
    func string(_ number: Int) -> String {
        String(decoding: arena[Int(starts[number])..<Int(starts[number + 1])], as: UTF8.self)
    }

    private func holds(_ number: Int, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let start = Int(starts[number]), end = Int(starts[number + 1])
        guard end - start == bytes.count else { return false }
        if bytes.isEmpty { return true }
        return arena.withUnsafeBytes { memcmp($0.baseAddress! + start, bytes.baseAddress!, bytes.count) == 0 }
    }

    private mutating func grow() {
        var grown = [Slot](repeating: Slot(), count: slots.count * 2)
        let newMask = grown.count - 1
        for entry in slots where entry.numberPlusOne != 0 {
            var slot = Int(entry.hash) & newMask
            while grown[slot].numberPlusOne != 0 { slot = (slot + 1) & newMask }
            grown[slot] = entry
        }
        slots = grown
        mask = newMask
    }

    /// A multiply-and-shift hash over eight bytes at a time. Ids are short, so its speed
    /// matters more than its strength: a log written to collide would slow its own read,
    /// never change what it says.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        var h = UInt64(truncatingIfNeeded: bytes.count) &* multiplier
        var i = 0
        while i + 8 <= bytes.count {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* multiplier
            h ^= h >> 29
            i += 8
        }
        if i < bytes.count {
            var tail: UInt64 = 0
            for k in i..<bytes.count { tail = tail << 8 | UInt64(bytes[k]) }
            h = (h ^ tail) &* multiplier
            h ^= h >> 29
        }
        return UInt32(truncatingIfNeeded: h ^ (h >> 32))
    }
}
