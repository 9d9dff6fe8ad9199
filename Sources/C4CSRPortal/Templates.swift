import Mustache

/// The portal's pages as mustache templates. Every one opens with the pragma that selects
/// `PortalHTML`'s escaping, and none uses `{{{…}}}` or `{{&…}}` (a test reads them all):
/// nothing a peer wrote reaches a page unescaped.
enum PortalTemplates {
    static let pragma = "{{% CONTENT_TYPE: C4CSR_HTML }}"

    static let sources: [String: String] = [
        "head": #"""
            {{% CONTENT_TYPE: C4CSR_HTML }}
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{title}} · CITIES4CSR</title>
            <link rel="stylesheet" href="{{links.style}}">
            <link rel="icon" type="image/svg+xml" href="{{links.icon}}">
            {{#feed}}<link rel="alternate" type="application/atom+xml" title="{{title}}" href="{{href}}">{{/feed}}
            </head>
            <body>
            <header class="site">
            <p class="brand"><a href="{{links.overview}}">CITIES4CSR</a> <span>practices of the network, served by {{node.name}} ({{node.id}})</span></p>
            <nav aria-label="Main"><ul>
            <li><a href="{{links.overview}}">Overview</a></li>
            <li><a href="{{links.list}}">Practices</a></li>
            <li><a href="{{links.adoptions}}">Adoptions</a></li>
            </ul></nav>
            </header>
            <main id="main">
            """#,
        "foot": #"""
            {{% CONTENT_TYPE: C4CSR_HTML }}
            </main>
            <footer class="site">
            <p>Built by {{node.name}}'s c4csr node from {{entries}} entries whose signatures it verified. Network digest <code>{{digestShort}}</code>.</p>
            </footer>
            </body>
            </html>
            """#,
        "overview": #"""
            {{% CONTENT_TYPE: C4CSR_HTML }}
            {{> head}}
            <h1>The network</h1>
            <section aria-labelledby="cities">
            <h2 id="cities">Cities</h2>
            <table>
            <thead><tr><th scope="col">City</th><th scope="col">Country</th><th scope="col">Practices</th><th scope="col">Practices adopted by other cities</th><th scope="col">Sync</th></tr></thead>
            <tbody>
            {{#cities}}
            <tr><th scope="row">{{#cityHref}}<a href="{{.}}">{{/cityHref}}<span lang="{{language}}">{{localName}}</span>{{#english}} ({{english}}){{/english}}{{#cityHref}}</a>{{/cityHref}}</th><td>{{country}}</td><td>{{practices}}</td><td>{{adoptedByOthers}}</td><td>{{sync}}</td></tr>
            {{/cities}}
            </tbody>
            </table>
            </section>
            <section aria-labelledby="latest">
            <h2 id="latest">Latest changes</h2>
            {{^latest}}<p>Nothing yet.</p>{{/latest}}
            <ol class="changes">
            {{#latest}}
            <li><time datetime="{{iso}}">{{date}}</time> {{city}}: {{what}}{{#href}} <a href="{{.}}">{{title}}</a>{{/href}}{{^href}} {{title}}{{/href}}</li>
            {{/latest}}
            </ol>
            </section>
            <section aria-labelledby="state">
            <h2 id="state">State of this node</h2>
            <dl>
            <dt>Entries</dt><dd>{{entries}}</dd>
            <dt>Practices</dt><dd>{{practiceCount}}</dd>
            <dt>Network digest</dt><dd><code>{{digest}}</code></dd>
            </dl>
            </section>
            {{> foot}}
            """#,
        "practices": #"""
            {{% CONTENT_TYPE: C4CSR_HTML }}
            {{> head}}
            <h1>Practices</h1>
            {{#searchable}}<form method="get" action="{{links.list}}" class="filters" role="search">
            <p><label for="q">Search</label> <input id="q" name="q" type="search" maxlength="200" value="{{query.q}}"></p>
            <p><label for="city">City</label> <select id="city" name="city"><option value="">any</option>{{#cityOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/cityOptions}}</select>
            <label for="theme">Theme</label> <select id="theme" name="theme"><option value="">any</option>{{#themeOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/themeOptions}}</select>
            <label for="sdg">SDG</label> <select id="sdg" name="sdg"><option value="">any</option>{{#sdgOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/sdgOptions}}</select>
            <label for="status">Status</label> <select id="status" name="status"><option value="">any</option>{{#statusOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statusOptions}}</select>
            <label for="year">Year</label> <input id="year" name="year" type="number" min="1970" max="9999" value="{{query.year}}">
            <button type="submit">Show</button></p>
            </form>{{/searchable}}
            <p class="count">{{summary}} Download every practice: <a href="{{links.csv}}">CSV</a> · <a href="{{links.json}}">JSON</a> · <a href="{{links.feed}}">Atom feed of changes</a></p>
            {{#hasResults}}
            <table class="practices">
            <thead><tr><th scope="col">Practice</th><th scope="col">City</th><th scope="col">Status</th><th scope="col">Themes</th><th scope="col">SDGs</th><th scope="col">Published</th></tr></thead>
            <tbody>
            {{/hasResults}}
            {{#results}}
            <tr><td><a href="{{href}}"><span lang="{{language}}">{{titleLocal}}</span></a>{{#titleEnglish}}<br><span lang="en">{{titleEnglish}}</span>{{/titleEnglish}}{{#conflict}} <strong class="flag">conflict</strong>{{/conflict}}</td><td>{{publisher}}</td><td>{{status}}</td><td>{{themes}}</td><td>{{sdgs}}</td><td>{{published}}</td></tr>
            {{/results}}
            {{#hasResults}}
            </tbody>
            </table>
            {{/hasResults}}
            <nav aria-label="Pages" class="pages">{{#previous}}<a rel="prev" href="{{previous}}">Previous</a> {{/previous}}{{#next}}<a rel="next" href="{{next}}">Next</a>{{/next}}</nav>
            {{> foot}}
            """#,
        "practice": #"""
            {{% CONTENT_TYPE: C4CSR_HTML }}
            {{> head}}
            {{#practice}}
            <article>
            <h1><span lang="{{language}}">{{titleLocal}}</span></h1>
            {{#titleEnglish}}<p class="english" lang="en">{{titleEnglish}}</p>{{/titleEnglish}}
            {{#retracted}}<p class="flag">Retracted{{#retractReason}}: {{retractReason}}{{/retractReason}}</p>{{/retracted}}
            {{#conflict}}<p class="flag">Conflict: {{headCount}} versions stand side by side below; the publisher can merge them with <code>c4csr revise</code>.</p>{{/conflict}}
            <dl class="facts">
            <dt>Published by</dt><dd>{{#publisherHref}}<a href="{{.}}">{{/publisherHref}}{{publisherName}}{{#publisherHref}}</a>{{/publisherHref}} on {{published}}</dd>
            <dt>Status</dt><dd>{{status}}</dd>
            <dt>Themes</dt><dd>{{themes}}</dd>
            <dt>SDGs</dt><dd>{{sdgs}}</dd>
            {{#area}}<dt>Area</dt><dd>{{area}}</dd>{{/area}}
            {{#period}}<dt>Period</dt><dd>{{period}}</dd>{{/period}}
            {{#companies}}<dt>Companies</dt><dd>{{companies}}</dd>{{/companies}}
            {{#partners}}<dt>Partners</dt><dd>{{partners}}</dd>{{/partners}}
            {{#contact}}<dt>Contact</dt><dd>{{contact}}</dd>{{/contact}}
            </dl>
            <div class="versions-side">
            {{#heads}}
            <section class="version" aria-label="{{label}}">
            <h2>{{label}}</h2>
            <h3>Summary</h3>
            <p lang="{{language}}">{{summaryLocal}}</p>
            {{#summaryEnglish}}<p lang="en">{{summaryEnglish}}</p>{{/summaryEnglish}}
            {{#challenge}}<h3>Challenge</h3><p>{{challenge}}</p>{{/challenge}}
            {{#outcomes}}<h3>Outcomes</h3><p>{{outcomes}}</p>{{/outcomes}}
            {{#hasLinks}}<h3>Links</h3><ul>{{/hasLinks}}{{#links}}<li>{{#followable}}<a href="{{href}}" rel="nofollow noopener">{{text}}</a>{{/followable}}{{^followable}}{{text}}{{/followable}}</li>{{/links}}{{#hasLinks}}</ul>{{/hasLinks}}
            </section>
            {{/heads}}
            </div>
            <section aria-labelledby="adoptions">
            <h2 id="adoptions">Adoptions</h2>
            {{^adoptions}}<p>No city has adopted it yet.</p>{{/adoptions}}
            <ul>{{#adoptions}}<li>{{#cityHref}}<a href="{{.}}">{{/cityHref}}{{cityName}}{{#cityHref}}</a>{{/cityHref}} {{mode}} it on {{date}}{{#notes}}: {{notes}}{{/notes}}</li>{{/adoptions}}</ul>
            </section>
            <section aria-labelledby="history">
            <h2 id="history">Versions</h2>
            <ol class="versions">{{#versions}}<li><code>{{entry}}</code> {{kind}} by {{origin}} #{{seq}}{{#officer}} (officer {{officer}}){{/officer}} on {{date}}</li>{{/versions}}</ol>
            </section>
            {{#hasProblems}}<section aria-labelledby="problems"><h2 id="problems">Problems</h2><ul>{{/hasProblems}}{{#problems}}<li>{{.}}</li>{{/problems}}{{#hasProblems}}</ul></section>{{/hasProblems}}
            <p class="verified">This page was built from {{entryCount}} entries whose signatures this node verified.</p>
            </article>
            {{/practice}}
            {{> foot}}
            """#,
        "city": #"""
            {{% CONTENT_TYPE: C4CSR_HTML }}
            {{> head}}
            {{#city}}
            <h1><span lang="{{language}}">{{localName}}</span>{{#english}} <span class="english">({{english}})</span>{{/english}}</h1>
            <p>{{country}} · <a href="{{feedHref}}">Atom feed of its entries</a></p>
            <section aria-labelledby="practices">
            <h2 id="practices">Its practices ({{practiceCount}})</h2>
            {{^practices}}<p>None yet.</p>{{/practices}}
            <ul>{{#practices}}<li><a href="{{href}}"><span lang="{{language}}">{{title}}</span></a> · {{status}} · {{published}}{{#adoptions}} · adopted ×{{adoptions}}{{/adoptions}}</li>{{/practices}}</ul>
            {{#allHref}}<p><a href="{{.}}">All its practices, with filters</a></p>{{/allHref}}
            </section>
            <section aria-labelledby="adopted">
            <h2 id="adopted">What it adopted from other cities</h2>
            {{^adopted}}<p>Nothing yet.</p>{{/adopted}}
            <ul>{{#adopted}}<li><a href="{{href}}">{{title}}</a> from {{#cityHref}}<a href="{{.}}">{{/cityHref}}{{cityName}}{{#cityHref}}</a>{{/cityHref}}: {{mode}} on {{date}}{{#notes}} ({{notes}}){{/notes}}</li>{{/adopted}}</ul>
            </section>
            <section aria-labelledby="adoptedFrom">
            <h2 id="adoptedFrom">What other cities adopted from it</h2>
            {{^adoptedFrom}}<p>Nothing yet.</p>{{/adoptedFrom}}
            <ul>{{#adoptedFrom}}<li>{{#cityHref}}<a href="{{.}}">{{/cityHref}}{{cityName}}{{#cityHref}}</a>{{/cityHref}} {{mode}} <a href="{{href}}">{{title}}</a> on {{date}}{{#notes}} ({{notes}}){{/notes}}</li>{{/adoptedFrom}}</ul>
            </section>
            {{/city}}
            {{> foot}}
            """#,
        "adoptions": #"""
            {{% CONTENT_TYPE: C4CSR_HTML }}
            {{> head}}
            <h1>Adoptions between cities</h1>
            <p>How many distinct practices each city (a row) adopted or adapted from each other city (a column): {{total}} in all.</p>
            <figure>
            <svg xmlns="http://www.w3.org/2000/svg" width="{{size}}" height="{{size}}" viewBox="0 0 {{size}} {{size}}" role="img" aria-labelledby="matrix-title">
            <title id="matrix-title">Adoptions: rows adopted from columns</title>
            {{#columns}}<text x="{{x}}" y="{{y}}" transform="rotate(-45 {{x}} {{y}})" class="label">{{id}}</text>{{/columns}}
            {{#rows}}<text x="{{x}}" y="{{y}}" text-anchor="end" class="label">{{id}}</text>{{#cells}}<rect x="{{x}}" y="{{y}}" width="{{w}}" height="{{w}}" fill="{{fill}}"><title>{{tip}}</title></rect>{{#count}}<text x="{{tx}}" y="{{ty}}" text-anchor="middle" class="count{{#dark}} dark{{/dark}}">{{count}}</text>{{/count}}{{/cells}}{{/rows}}
            </svg>
            <figcaption>Darker: more practices adopted. The same figures as a table follow.</figcaption>
            </figure>
            <table>
            <caption>Distinct practices adopted (rows) from (columns)</caption>
            <thead><tr><th scope="col">Adopter</th>{{#columns}}<th scope="col">{{id}}</th>{{/columns}}</tr></thead>
            <tbody>{{#rows}}<tr><th scope="row">{{#cityHref}}<a href="{{.}}">{{/cityHref}}{{id}}{{#cityHref}}</a>{{/cityHref}}</th>{{#cells}}<td>{{value}}</td>{{/cells}}</tr>{{/rows}}</tbody>
            </table>
            {{> foot}}
            """#,
        "feed": #"""
            {{% CONTENT_TYPE: C4CSR_HTML }}
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom">
            <id>{{id}}</id>
            <title>{{title}}</title>
            <updated>{{updated}}</updated>
            <author><name>{{author}}</name></author>
            <generator>c4csr</generator>
            {{#selfHref}}<link rel="self" href="{{.}}"/>{{/selfHref}}
            {{#entries}}
            <entry>
            <id>{{id}}</id>
            <title>{{title}}</title>
            <updated>{{updated}}</updated>
            <author><name>{{author}}</name></author>
            {{#href}}<link rel="alternate" type="text/html" href="{{.}}"/>{{/href}}
            {{#summary}}<summary type="text">{{.}}</summary>{{/summary}}
            </entry>
            {{/entries}}
            </feed>
            """#,
        "error": #"""
            {{% CONTENT_TYPE: C4CSR_HTML }}
            {{> head}}
            <h1>{{title}}</h1>
            <p>{{message}}</p>
            <p><a href="{{links.overview}}">Back to the overview</a></p>
            {{> foot}}
            """#,
    ]

    /// Parsed once; a template that does not parse is a programming error the tests catch.
    static let library: MustacheLibrary = {
        PortalHTML.registered
        var library = MustacheLibrary()
        for (name, source) in sources {
            do {
                try library.register(source, named: name)
            } catch {
                fatalError("portal template \(name) does not parse: \(error)")
            }
        }
        return library
    }()

    /// The tab's icon: two linked nodes, the network.
    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b5394"/>\
        <circle cx="10" cy="16" r="5" fill="#fff"/><circle cx="22" cy="16" r="5" fill="#fff"/><rect x="10" y="15" width="12" height="2" fill="#fff"/></svg>

        """

    static let stylesheet = """
        :root { color-scheme: light; --ink: #1a1a1a; --muted: #555; --accent: #0b5394; --flag: #9c2a00; }
        body { font: 16px/1.5 system-ui, sans-serif; color: var(--ink); background: #fff; margin: 0 auto; max-width: 70rem; padding: 0 1rem; }
        a { color: var(--accent); }
        a:focus, button:focus, input:focus, select:focus { outline: 3px solid #f9a825; outline-offset: 2px; }
        header.site { border-bottom: 1px solid #ccc; padding: .5rem 0; }
        header.site nav ul { list-style: none; padding: 0; margin: 0; display: flex; gap: 1rem; }
        .brand span { color: var(--muted); }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
        .flag { color: var(--flag); font-weight: bold; }
        .version { border-left: 4px solid #ccc; padding-left: 1rem; margin: 1rem 0; }
        .versions-side { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 0 1.5rem; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
        dl.facts dd { margin: 0; }
        svg .label { font-size: 12px; fill: var(--ink); }
        svg .count { font-size: 11px; fill: var(--ink); }
        svg .count.dark { fill: #fff; }
        footer.site { border-top: 1px solid #ccc; color: var(--muted); margin-top: 2rem; }
        code { overflow-wrap: anywhere; }
        @media print {
          header.site nav, form.filters, nav.pages { display: none; }
          body { max-width: none; font-size: 11pt; }
          a { color: inherit; text-decoration: none; }
        }
        """
}
