import C4CSRCore
import C4CSRStore

extension PracticeSummary {
    /// A practice in a list, as `list --json` prints it and the portal's `practices.json`
    /// serves it: one rendering for both.
    public var json: JSONValue {
        .object([
            "id": .string(id.hex), "city": .string(publisher.rawValue), "status": .string(status),
            "language": .string(language), "title": .object(["local": .string(titleLocal), "en": .string(titleEnglish)]),
            "themes": .array(themes.map { .string($0) }), "sdgs": .array(sdgs.map { .int(Int64($0)) }),
            "versions": .int(Int64(versions)), "adoptions": .int(Int64(adoptions)), "conflict": .bool(conflict),
            "problems": .int(Int64(problems)), "published_ms": .int(publishedAt),
        ])
    }
}
