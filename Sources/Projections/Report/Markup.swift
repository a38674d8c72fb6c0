/// A writer of well-formed XML text, for the HTML page and its inline SVG.
///
/// Every element is closed, empty ones with `/>`, every attribute is quoted and every
/// text escaped, so the page is at once HTML5 and XML that `XMLParser` accepts (the
/// tests read it that way). An attribute whose value is nil is left out.
struct Markup {
    private(set) var text = ""
    private var depth = 0
    /// Indent nested elements; off inside SVG text runs where white space would show.
    var indent = true

    typealias Attributes = KeyValuePairs<String, String?>

    mutating func open(_ name: String, _ attributes: Attributes = [:]) {
        newline()
        text += "<\(name)\(Markup.render(attributes))>"
        depth += 1
    }

    mutating func close(_ name: String, inline: Bool = false) {
        depth -= 1
        if !inline { newline() }
        text += "</\(name)>"
    }

    /// `<name …/>`.
    mutating func empty(_ name: String, _ attributes: Attributes = [:]) {
        newline()
        text += "<\(name)\(Markup.render(attributes))/>"
    }

    /// `<name …>text</name>` on one line.
    mutating func element(_ name: String, _ attributes: Attributes = [:], _ content: String) {
        newline()
        text += "<\(name)\(Markup.render(attributes))>\(Markup.escape(content))</\(name)>"
    }

    /// An element with a `<title>` child (the tooltip and accessible name of an SVG
    /// shape), and after it `content` as text.
    mutating func titled(_ name: String, _ attributes: Attributes, title: String, content: String = "") {
        newline()
        text += "<\(name)\(Markup.render(attributes))><title>\(Markup.escape(title))</title>\(Markup.escape(content))</\(name)>"
    }

    /// Escaped text at the current position.
    mutating func content(_ content: String) {
        text += Markup.escape(content)
    }

    /// Markup the caller built with this type or knows to be well-formed.
    mutating func raw(_ markup: String) {
        text += markup
    }

    private mutating func newline() {
        guard indent else { return }
        if !text.isEmpty { text += "\n" }
        text += String(repeating: " ", count: depth)
    }

    static func render(_ attributes: Attributes) -> String {
        var out = ""
        for (key, value) in attributes {
            guard let value else { continue }
            out += " \(key)=\"\(escape(value))\""
        }
        return out
    }

    /// Escapes the five characters XML gives meaning to, and drops the control
    /// characters XML 1.0 does not allow.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A coordinate with at most one decimal, never `-0`.
    static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        if rounded == 0 { return "0" }
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        return String(rounded)
    }
}
