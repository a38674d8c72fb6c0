#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A derived file sealed page by page under the user's checkpoint key, so a reader
/// checks only the pages it reads: an append looks up a few keys in a checkpoint of
/// many megabytes, and checking the whole of it cost more than everything else the
/// append does.
///
/// The form on disk:
/// - `recovery-sealed-pages/1\n`;
/// - a nonce of 16 random bytes, the contents' length and the page size (8 bytes each,
///   little-endian);
/// - the MAC of the file's name, a zero byte and the lines above;
/// - one MAC per page: of the name, a zero byte, the nonce, the page's number (8 bytes,
///   little-endian) and the page;
/// - the contents, in pages of the page size (the last one shorter).
///
/// The nonce ties every page to this one file (a page copied in from another
/// checkpoint does not match), the number to its place, and the length in the sealed
/// head to the file's end: a page moved, swapped, cut or edited fails its MAC.
public final class PageSealedFile: @unchecked Sendable {
    static let magic = Array("recovery-sealed-pages/1\n".utf8)
    static let pageSize = 4096
    private static let headLength = magic.count + 16 + 8 + 8
    private static let macLength = 32
    /// Where the pages' MACs start: after the head and its MAC.
    private static let macsStart = headLength + macLength

    /// The contents' length in bytes.
    public let count: Int
    /// Whether a page failed its MAC (or could not be read): the file is not to be believed.
    public private(set) var failed = false

    private let fd: Int32
    private let path: String
    private let name: String
    private let key: HMACKey
    private let nonce: [UInt8]
    private let pageSize: Int
    private let pageCount: Int
    private let contentsStart: Int
    /// Pages read and checked, by number. An instance is used by one thread at a time
    /// (the writer validating an append), which is why it may be unchecked `Sendable`.
    private var pages: [Int: [UInt8]] = [:]

    /// How many pages were read and checked so far.
    public var pagesChecked: Int { pages.count }

    /// Opens `path` and checks its head; nil when it is missing, not of this form, or
    /// the head's MAC does not match.
    init?(path: String, name: String, key: [UInt8]) {
        guard let fd = try? FileIO.open(path, O_RDONLY) else { return nil }
        var opened = false
        defer { if !opened { close(fd) } }
        let key = HMACKey(key)
        let headLength = PageSealedFile.headLength, nonceStart = PageSealedFile.magic.count
        guard let size = try? FileIO.size(of: fd, path: path),
              let head = try? FileIO.readBytes(fd, count: PageSealedFile.macsStart, at: 0, path: path),
              head.starts(with: PageSealedFile.magic),
              PageSealedFile.headMAC(key, name, head[..<headLength]) == Array(head[headLength...]) else { return nil }
        func int(_ at: Int) -> Int {
            head.withUnsafeBytes { Int(truncatingIfNeeded: Int64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: Int64.self))) }
        }
        let count = int(nonceStart + 16), pageSize = int(nonceStart + 24)
        guard count >= 0, count <= size, pageSize > 0, pageSize <= 1 << 24 else { return nil }
        let pageCount = (count + pageSize - 1) / pageSize
        let contentsStart = PageSealedFile.macsStart + pageCount * PageSealedFile.macLength
        guard size == contentsStart + count else { return nil }
        (self.fd, self.path, self.name, self.key, self.count, self.pageSize, self.pageCount, self.contentsStart)
            = (fd, path, name, key, count, pageSize, pageCount, contentsStart)
        nonce = Array(head[nonceStart..<(nonceStart + 16)])
        opened = true
    }

    deinit { close(fd) }

    /// The bytes at `range` of the contents, every page they lie on checked; nil (and
    /// `failed` set) when one fails, or when the range is not within the contents.
    public func bytes(_ range: Range<Int>) -> [UInt8]? {
        guard !failed else { return nil }
        guard range.lowerBound >= 0, range.upperBound <= count else { failed = true; return nil }
        guard !range.isEmpty else { return [] }
        var result: [UInt8] = []
        result.reserveCapacity(range.count)
        for number in (range.lowerBound / pageSize)...((range.upperBound - 1) / pageSize) {
            guard let page = page(number) else { return nil }
            let start = number * pageSize
            result += page[(max(range.lowerBound, start) - start)..<(min(range.upperBound, start + page.count) - start)]
        }
        return result
    }

    /// The whole contents, every page checked (on every core); nil when one fails.
    public func contents() -> [UInt8]? {
        guard !failed else { return nil }
        guard let all = try? FileIO.readBytes(fd, count: count, at: contentsStart, path: path),
              let macs = try? FileIO.readBytes(fd, count: pageCount * PageSealedFile.macLength, at: PageSealedFile.macsStart, path: path) else {
            failed = true
            return nil
        }
        let matches = all.withUnsafeBytes { raw in
            Parallel.map(count: pageCount, threshold: 64) { number in
                let start = number * pageSize
                let page = UnsafeRawBufferPointer(rebasing: raw[start..<min(start + pageSize, count)])
                return pageMAC(number, page).elementsEqual(macs[(number * PageSealedFile.macLength)..<((number + 1) * PageSealedFile.macLength)])
            }
        }
        guard !matches.contains(false) else { failed = true; return nil }
        return all
    }

    private func page(_ number: Int) -> [UInt8]? {
        if let page = pages[number] { return page }
        let start = number * pageSize
        guard let page = try? FileIO.readBytes(fd, count: min(pageSize, count - start), at: contentsStart + start, path: path),
              let stored = try? FileIO.readBytes(fd, count: PageSealedFile.macLength, at: PageSealedFile.macsStart + number * PageSealedFile.macLength, path: path) else {
            failed = true
            return nil
        }
        guard page.withUnsafeBytes({ pageMAC(number, $0) }) == stored else { failed = true; return nil }
        pages[number] = page
        return page
    }

    private func pageMAC(_ number: Int, _ page: UnsafeRawBufferPointer) -> [UInt8] {
        PageSealedFile.pageMAC(key, name, nonce, number, page)
    }

    private static func pageMAC(_ key: HMACKey, _ name: String, _ nonce: [UInt8], _ number: Int, _ page: UnsafeRawBufferPointer) -> [UInt8] {
        key.mac(ofFileNamed: name) { hasher in
            hasher.update(nonce)
            withUnsafeBytes(of: Int64(number).littleEndian) { hasher.update($0) }
            hasher.update(page)
        }
    }

    private static func headMAC(_ key: HMACKey, _ name: String, _ head: ArraySlice<UInt8>) -> [UInt8] {
        key.mac(ofFileNamed: name) { hasher in head.withUnsafeBytes { hasher.update($0) } }
    }

    /// What goes before `contents` in the file: the head and the pages' MACs, computed
    /// on every core.
    static func seal(_ contents: [UInt8], name: String, key: [UInt8]) -> [UInt8] {
        let key = HMACKey(key)
        let nonce = RandomBytes.make(16)
        var file = magic + nonce
        for value in [contents.count, pageSize] { withUnsafeBytes(of: Int64(value).littleEndian) { file.append(contentsOf: $0) } }
        file += headMAC(key, name, file[...])
        let pageCount = (contents.count + pageSize - 1) / pageSize
        let macs = contents.withUnsafeBytes { raw in
            Parallel.map(count: pageCount, threshold: 64) { number in
                let start = number * pageSize
                return pageMAC(key, name, nonce, number, UnsafeRawBufferPointer(rebasing: raw[start..<min(start + pageSize, contents.count)]))
            }
        }
        file.reserveCapacity(file.count + pageCount * macLength)
        for mac in macs { file += mac }
        return file
    }
}

extension EventLog {
    /// Writes a derived file sealed page by page (`PageSealedFile`), atomically. Writes
    /// nothing when there is no key.
    public func writePageSealedDerivedFile(_ name: String, bytes: [UInt8]) throws(LogError) {
        guard let key = CheckpointKey.load() else { return }
        try writeDerivedFile(name, parts: [PageSealedFile.seal(bytes, name: name, key: key), bytes])
    }

    /// A derived file written by `writePageSealedDerivedFile`, its head checked; nil when
    /// it is missing, there is no key, or the head's MAC does not match. Its pages are
    /// checked as they are read.
    public func openPageSealedDerivedFile(_ name: String) -> PageSealedFile? {
        guard let key = CheckpointKey.load() else { return nil }
        return PageSealedFile(path: "\(path)/\(name)", name: name, key: key)
    }
}
