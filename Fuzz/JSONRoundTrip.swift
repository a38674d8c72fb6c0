// libFuzzer target: the strict JSON parser and the RFC 8785 canonical encoder.
//
// Built by scripts/fuzz.sh together with Sources/EventStore (one module, so internal API
// is reachable). For any input: parsing never crashes; what parses, encodes to a form
// that parses back to the same value and encodes to the same bytes again (a fixed
// point); the integers-only mode accepts a subset of what the general mode accepts,
// with the same value; every refusal carries a place. "The same value" compares numbers
// by value: RFC 8785 writes 0e1 and 1.0 as 0 and 1, which read back as integers.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONRoundTrip(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let general: JSONValue
    do {
        general = try JSONParser.parse(bytes)
    } catch {
        if (try? JSONParser.parse(bytes, integersOnly: true)) != nil {
            fatalError("integers-only mode accepted what the general mode refused")
        }
        guard error.line >= 1, error.column >= 1, (0...size).contains(error.offset) else {
            fatalError("an error without a place: \(error)")
        }
        return 0
    }
    if let strict = try? JSONParser.parse(bytes, integersOnly: true), strict != general {
        fatalError("the two modes read different values")
    }
    let encoded = CanonicalJSON.encode(general)
    let reparsed: JSONValue
    do {
        reparsed = try JSONParser.parse(encoded)
    } catch {
        fatalError("the canonical form does not parse: \(error)\n\(String(decoding: encoded, as: UTF8.self))")
    }
    guard sameJSON(reparsed, general) else { fatalError("parse(encode(x)) != x") }
    guard CanonicalJSON.encode(reparsed) == encoded else { fatalError("the canonical form is not a fixed point") }
    return 0
}

/// Equal JSON values, numbers compared by value and member names scalar by scalar.
private func sameJSON(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.integer(let i), .number(let d)), (.number(let d), .integer(let i)):
        return Double(i) == d
    case (.array(let x), .array(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { sameJSON($0, $1) }
    case (.object(let x), .object(let y)):
        return x.count == y.count && zip(x.members, y.members).allSatisfy {
            $0.key.unicodeScalars.elementsEqual($1.key.unicodeScalars) && sameJSON($0.value, $1.value)
        }
    default:
        return a == b
    }
}
