import C4CSRCore
import Mustache

/// How every template of the portal escapes what it shows (`{{% CONTENT_TYPE: C4CSR_HTML }}`
/// opens each one; `PortalTemplates` refuses a template without it).
///
/// swift-mustache's own HTML escaping compares whole `Character`s, so a quote followed
/// by a combining mark (`"\u{301}`) is one grapheme that is not `"` and passes through
/// unescaped — and an HTML parser still ends the attribute at that quote. This escaper
/// works on Unicode scalars: `<`, `>`, `&`, `"`, `'` become entities wherever they are,
/// and the characters `TextRules` refuses (controls, C1, bidirectional controls) become
/// visible `\u{…}` escapes, so peer text can neither inject markup nor reorder the page.
public struct PortalHTML: MustacheContentType {
    public static let name = "C4CSR_HTML"

    public init() {}

    public func escapeText(_ text: String) -> String {
        Self.escape(text)
    }

    public static func escape(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        out.reserveCapacity(text.unicodeScalars.count)
        for c in text.unicodeScalars {
            switch c {
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "\"": out.append(contentsOf: "&quot;".unicodeScalars)
            case "'": out.append(contentsOf: "&#39;".unicodeScalars)
            default:
                // Noncharacters are not XML characters: an Atom feed holding one would not parse.
                if TextRules.isAllowed(c, multiline: true), c.value & 0xFFFE != 0xFFFE, !(0xFDD0...0xFDEF).contains(c.value) {
                    out.append(c)
                } else {
                    out.append(contentsOf: "\\u{\(String(c.value, radix: 16, uppercase: true))}".unicodeScalars)
                }
            }
        }
        return String(out)
    }

    /// Registers the content type once, before the first template is parsed.
    static let registered: Void = MustacheContentTypes.register(PortalHTML(), named: name)
}
