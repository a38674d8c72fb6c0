@testable import EventStore
import Foundation
import XCTest

final class SHA256Tests: XCTestCase {
    // MARK: Known answers

    func testAllNISTShortMessageVectorsMatch() throws {
        let file = Self.sharedFolder.appendingPathComponent("testdata/nist/SHA256ShortMsg.rsp")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw XCTSkip("NIST vectors not found at \(file.path): the shared folder must sit next to the package root")
        }
        let text = try String(contentsOf: file, encoding: .utf8)
        var length: Int?
        var message: [UInt8]?
        var checked = 0
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if let value = line.value(after: "Len =") {
                length = try XCTUnwrap(Int(value), "bad Len line: \(line)")
            } else if let value = line.value(after: "Msg =") {
                message = try XCTUnwrap(Self.bytes(fromHex: value), "bad Msg line: \(line)")
            } else if let value = line.value(after: "MD =") {
                let bits = try XCTUnwrap(length, "MD before Len")
                let msg = try XCTUnwrap(message, "MD before Msg")
                XCTAssertEqual(bits % 8, 0, "vector with \(bits) bits is not byte oriented")
                // The file writes the empty message as "00" (or nothing); Len says how much counts.
                let input = Array(msg.prefix(bits / 8))
                XCTAssertEqual(input.count, bits / 8, "Msg shorter than Len = \(bits)")
                XCTAssertEqual(SHA256.hex(input), value.lowercased(), "Len = \(bits)")
                for compression in SHA256.Compression.available {
                    var hasher = SHA256(compression: compression)
                    hasher.update(input)
                    XCTAssertEqual(Hex.encode(hasher.finalize()), value.lowercased(), "Len = \(bits), \(compression)")
                }
                checked += 1
                length = nil
                message = nil
            }
        }
        XCTAssertEqual(checked, 65, "expected all 65 vectors of \(file.path) to be checked")
    }

    func testFIPSExamplesMatch() {
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(
            SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testSHAExtensionsCompressAsThePortableCodeDoes() throws {
        guard SHA256.Compression.available.contains(.shaExtensions) else {
            throw XCTSkip("this CPU has no SHA extensions: only the portable compression runs here")
        }
        XCTAssertEqual(SHA256.Compression.fastest, .shaExtensions)
        var random = SplitMix64(seed: 0x5EED_0003)
        let input = random.bytes(64 * 1000)
        // Lengths around the padding's edges, then random ones, fed whole and in pieces.
        var lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 64 * 1000]
        for _ in 0..<50 { lengths.append(Int.random(in: 0...input.count, using: &random)) }
        for length in lengths {
            let cut = Int.random(in: 0...length, using: &random)
            var portable = SHA256(compression: .portable)
            var extensions = SHA256(compression: .shaExtensions)
            input.withUnsafeBytes { bytes in
                portable.update(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
                extensions.update(UnsafeRawBufferPointer(rebasing: bytes[0..<cut]))
                extensions.update(UnsafeRawBufferPointer(rebasing: bytes[cut..<length]))
            }
            XCTAssertEqual(Hex.encode(extensions.finalize()), Hex.encode(portable.finalize()), "length \(length), cut at \(cut)")
        }
    }

    func testEmptyInputHasTheWellKnownDigest() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        XCTAssertEqual(SHA256.hex([]), empty)
        var hasher = SHA256()
        hasher.update(UnsafeRawBufferPointer(start: nil, count: 0))
        hasher.update([UInt8]())
        XCTAssertEqual(Hex.encode(hasher.finalize()), empty)
    }

    func testHexStringIsLowerCaseTwoCharactersPerByte() {
        XCTAssertEqual(Hex.encode([0x00, 0x0f, 0xa0, 0xff, 0x7e]), "000fa0ff7e")
        XCTAssertEqual(Hex.encode([]), "")
        let digest = SHA256.hash(Array("abc".utf8))
        XCTAssertEqual(digest.count, 32)
        XCTAssertEqual(Hex.encode(digest), SHA256.hex(Array("abc".utf8)))
    }

    // MARK: Incremental use

    func testUpdatesSplitAtRandomPointsEqualOneShot() {
        var random = SplitMix64(seed: 0x5EED_0001)
        // Every length around the padding boundaries, then random ones.
        var lengths = Array(0...200)
        for _ in 0..<40 { lengths.append(Int.random(in: 200...20_000, using: &random)) }
        for length in lengths {
            let input = random.bytes(length)
            let expected = SHA256.hash(input)
            var hasher = SHA256()
            var start = 0
            while start < length {
                let piece = Int.random(in: 0...min(length - start, 150), using: &random)
                input[start..<(start + piece)].withUnsafeBytes { hasher.update($0) }
                start += piece
            }
            XCTAssertEqual(hasher.finalize(), expected, "length \(length)")
        }
    }

    func testSequenceUpdateReadsNonContiguousSequences() {
        let input = Array("The quick brown fox jumps over the lazy dog".utf8)
        var hasher = SHA256()
        hasher.update(input.lazy.map { $0 })  // not contiguous: copied once
        XCTAssertEqual(Hex.encode(hasher.finalize()), "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")
        hasher.update("The quick brown fox jumps over the lazy dog".utf8)
        XCTAssertEqual(Hex.encode(hasher.finalize()), "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")
    }

    func testFinalizeResetsTheHasher() {
        var hasher = SHA256()
        hasher.update(Array("first".utf8))
        _ = hasher.finalize()
        hasher.update(Array("abc".utf8))
        XCTAssertEqual(Hex.encode(hasher.finalize()), SHA256.hex(Array("abc".utf8)))
    }

    // MARK: Against the system's sha256sum

    func testRandomLongInputsMatchSystemSha256sum() throws {
        guard let tool = Self.executable(named: "sha256sum") else {
            throw XCTSkip("sha256sum not found on PATH (\(ProcessInfo.processInfo.environment["PATH"] ?? "")); cannot compare")
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("SHA256Tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var random = SplitMix64(seed: 0x5EED_0002)
        var expected: [String: String] = [:]
        var files: [String] = []
        // The padding boundaries, then 20 random sizes up to 1 MiB.
        var sizes = [0, 1, 55, 56, 63, 64, 65, 119, 120, 128]
        for _ in 0..<20 { sizes.append(Int.random(in: 0...1_048_576, using: &random)) }
        for (i, size) in sizes.enumerated() {
            let input = random.bytes(size)
            let file = directory.appendingPathComponent("input-\(i).bin")
            try Data(input).write(to: file)
            files.append(file.path)
            expected[file.path] = SHA256.hex(input)
        }

        let process = Process()
        process.executableURL = tool
        process.arguments = files
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)

        var compared = 0
        for line in String(decoding: printed, as: UTF8.self).split(separator: "\n") {
            // "<hex>  <path>"
            let digest = String(line.prefix(64))
            let path = String(line.dropFirst(66))
            XCTAssertEqual(expected[path], digest, path)
            compared += 1
        }
        XCTAssertEqual(compared, sizes.count)
    }

    // MARK: Helpers

    /// `<package root>/../shared`, found from this file: the root is three levels up.
    static let sharedFolder: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // EventStoreTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .deletingLastPathComponent()
        .appendingPathComponent("shared")

    static func bytes(fromHex hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    static func executable(named name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }
    /// RFC 4231 test cases 1, 2 and 6 (a key longer than a block).
    func testHMACMatchesRFC4231() {
        XCTAssertEqual(Hex.encode(SHA256.hmac(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))),
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        XCTAssertEqual(Hex.encode(SHA256.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(Hex.encode(SHA256.hmac(key: [UInt8](repeating: 0xaa, count: 131),
                                              message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }
}

private extension SplitMix64 {
    mutating func bytes(_ count: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        result.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < count {
                var word = next()
                let n = min(8, count - offset)
                withUnsafeBytes(of: &word) { buffer.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: n) }
                offset += n
            }
        }
        return result
    }
}

private extension String {
    /// The trimmed text after `prefix`, when the line starts with it.
    func value(after prefix: String) -> String? {
        hasPrefix(prefix) ? dropFirst(prefix.count).trimmingCharacters(in: .whitespaces) : nil
    }
}
