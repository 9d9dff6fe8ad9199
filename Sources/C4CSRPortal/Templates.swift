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
            <html lang="{{l.overview.lblLanguage}}">
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
            <li><a href="{{links.overview}}">{{#l.overview}}{{> label}}{{/l.overview}}</a></li>
            <li><a href="{{links.list}}">{{#l.practices}}{{> label}}{{/l.practices}}</a></li>
            <li><a href="{{links.adoptions}}">{{#l.adoptions}}{{> label}}{{/l.adoptions}}</a></li>
            </ul></nav>
            </header>
            <main id="main">
            """#,
        "label": #"""
            {{% CONTENT_TYPE: C4CSR_HTML }}
            <span lang="{{lblLanguage}}">{{lblLocal}}</span>{{#lblEnglish}} <span class="en" lang="en">· {{.}}</span>{{/lblEnglish}}
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
            <h1>{{#l.network}}{{> label}}{{/l.network}}</h1>
            <section aria-labelledby="cities">
            <h2 id="cities">{{#l.cities}}{{> label}}{{/l.cities}}</h2>
            <table>
            <thead><tr><th scope="col">{{#l.city}}{{> label}}{{/l.city}}</th><th scope="col">{{#l.country}}{{> label}}{{/l.country}}</th><th scope="col">{{#l.practices}}{{> label}}{{/l.practices}}</th><th scope="col">{{#l.adoptedByOthers}}{{> label}}{{/l.adoptedByOthers}}</th><th scope="col">{{#l.sync}}{{> label}}{{/l.sync}}</th></tr></thead>
            <tbody>
            {{#cities}}
            <tr><th scope="row">{{#cityHref}}<a href="{{.}}">{{/cityHref}}<span lang="{{language}}">{{localName}}</span>{{#english}} ({{english}}){{/english}}{{#cityHref}}</a>{{/cityHref}}</th><td>{{country}}</td><td>{{practices}}</td><td>{{adoptedByOthers}}</td><td>{{sync}}</td></tr>
            {{/cities}}
            </tbody>
            </table>
            </section>
            <section aria-labelledby="latest">
            <h2 id="latest">{{#l.latest}}{{> label}}{{/l.latest}}</h2>
            {{^latest}}<p>{{#l.nothingYet}}{{> label}}{{/l.nothingYet}}</p>{{/latest}}
            <ol class="changes">
            {{#latest}}
            <li><time datetime="{{iso}}">{{date}}</time> {{city}}: {{what}}{{#href}} <a href="{{.}}">{{title}}</a>{{/href}}{{^href}} {{title}}{{/href}}</li>
            {{/latest}}
            </ol>
            </section>
            <section aria-labelledby="state">
            <h2 id="state">{{#l.state}}{{> label}}{{/l.state}}</h2>
            <dl>
            <dt>{{#l.entries}}{{> label}}{{/l.entries}}</dt><dd>{{entries}}</dd>
            <dt>{{#l.practices}}{{> label}}{{/l.practices}}</dt><dd>{{practiceCount}}</dd>
            <dt>{{#l.digest}}{{> label}}{{/l.digest}}</dt><dd><code>{{digest}}</code></dd>
            </dl>
            </section>
            {{> foot}}
            """#,
        "practices": #"""
            {{% CONTENT_TYPE: C4CSR_HTML }}
            {{> head}}
            <h1>{{#l.practices}}{{> label}}{{/l.practices}}</h1>
            {{#searchable}}<form method="get" action="{{links.list}}" class="filters" role="search">
            <p><label for="q">{{#l.search}}{{> label}}{{/l.search}}</label> <input id="q" name="q" type="search" maxlength="200" value="{{query.q}}"></p>
            <p><label for="city">{{#l.city}}{{> label}}{{/l.city}}</label> <select id="city" name="city"><option value="">{{l.any.lblText}}</option>{{#cityOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/cityOptions}}</select>
            <label for="theme">{{#l.theme}}{{> label}}{{/l.theme}}</label> <select id="theme" name="theme"><option value="">{{l.any.lblText}}</option>{{#themeOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/themeOptions}}</select>
            <label for="sdg">{{#l.sdg}}{{> label}}{{/l.sdg}}</label> <select id="sdg" name="sdg"><option value="">{{l.any.lblText}}</option>{{#sdgOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/sdgOptions}}</select>
            <label for="status">{{#l.status}}{{> label}}{{/l.status}}</label> <select id="status" name="status"><option value="">{{l.any.lblText}}</option>{{#statusOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statusOptions}}</select>
            <label for="year">{{#l.year}}{{> label}}{{/l.year}}</label> <input id="year" name="year" type="number" min="1970" max="9999" value="{{query.year}}">
            <button type="submit">{{l.show.lblText}}</button></p>
            </form>{{/searchable}}
            <p class="count">{{summary}} {{#l.download}}{{> label}}{{/l.download}}: <a href="{{links.csv}}">CSV</a> · <a href="{{links.json}}">JSON</a> · <a href="{{links.feed}}">{{#l.feedOfChanges}}{{> label}}{{/l.feedOfChanges}}</a></p>
            {{#hasResults}}
            <table class="practices">
            <thead><tr><th scope="col">{{#l.practice}}{{> label}}{{/l.practice}}</th><th scope="col">{{#l.city}}{{> label}}{{/l.city}}</th><th scope="col">{{#l.status}}{{> label}}{{/l.status}}</th><th scope="col">{{#l.themes}}{{> label}}{{/l.themes}}</th><th scope="col">{{#l.sdgs}}{{> label}}{{/l.sdgs}}</th><th scope="col">{{#l.published}}{{> label}}{{/l.published}}</th></tr></thead>
            <tbody>
            {{/hasResults}}
            {{#results}}
            <tr><td><a href="{{href}}"><span lang="{{language}}">{{titleLocal}}</span></a>{{#titleEnglish}}<br><span lang="en">{{titleEnglish}}</span>{{/titleEnglish}}{{#conflict}} <strong class="flag">conflict</strong>{{/conflict}}</td><td>{{publisher}}</td><td>{{status}}</td><td>{{themes}}</td><td>{{sdgs}}</td><td>{{published}}</td></tr>
            {{/results}}
            {{#hasResults}}
            </tbody>
            </table>
            {{/hasResults}}
            <nav aria-label="Pages" class="pages">{{#previous}}<a rel="prev" href="{{previous}}">{{#l.previous}}{{> label}}{{/l.previous}}</a> {{/previous}}{{#next}}<a rel="next" href="{{next}}">{{#l.next}}{{> label}}{{/l.next}}</a>{{/next}}</nav>
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
            <dt>{{#l.publishedBy}}{{> label}}{{/l.publishedBy}}</dt><dd>{{#publisherHref}}<a href="{{.}}">{{/publisherHref}}{{publisherName}}{{#publisherHref}}</a>{{/publisherHref}} on {{published}}</dd>
            <dt>{{#l.status}}{{> label}}{{/l.status}}</dt><dd>{{status}}</dd>
            <dt>{{#l.themes}}{{> label}}{{/l.themes}}</dt><dd>{{themes}}</dd>
            <dt>{{#l.sdgs}}{{> label}}{{/l.sdgs}}</dt><dd>{{sdgs}}</dd>
            {{#area}}<dt>{{#l.area}}{{> label}}{{/l.area}}</dt><dd>{{area}}</dd>{{/area}}
            {{#period}}<dt>{{#l.period}}{{> label}}{{/l.period}}</dt><dd>{{period}}</dd>{{/period}}
            {{#companies}}<dt>{{#l.companies}}{{> label}}{{/l.companies}}</dt><dd>{{companies}}</dd>{{/companies}}
            {{#partners}}<dt>{{#l.partners}}{{> label}}{{/l.partners}}</dt><dd>{{partners}}</dd>{{/partners}}
            {{#contact}}<dt>{{#l.contact}}{{> label}}{{/l.contact}}</dt><dd>{{contact}}</dd>{{/contact}}
            </dl>
            <div class="versions-side">
            {{#heads}}
            <section class="version" aria-label="{{label}}">
            <h2>{{label}}</h2>
            <h3>{{#l.summary}}{{> label}}{{/l.summary}}</h3>
            <p lang="{{language}}">{{summaryLocal}}</p>
            {{#summaryEnglish}}<p lang="en">{{summaryEnglish}}</p>{{/summaryEnglish}}
            {{#challenge}}<h3>{{#l.challenge}}{{> label}}{{/l.challenge}}</h3><p>{{challenge}}</p>{{/challenge}}
            {{#outcomes}}<h3>{{#l.outcomes}}{{> label}}{{/l.outcomes}}</h3><p>{{outcomes}}</p>{{/outcomes}}
            {{#hasLinks}}<h3>{{#l.links}}{{> label}}{{/l.links}}</h3><ul>{{/hasLinks}}{{#links}}<li>{{#followable}}<a href="{{href}}" rel="nofollow noopener">{{text}}</a>{{/followable}}{{^followable}}{{text}}{{/followable}}</li>{{/links}}{{#hasLinks}}</ul>{{/hasLinks}}
            </section>
            {{/heads}}
            </div>
            <section aria-labelledby="adoptions">
            <h2 id="adoptions">{{#l.adoptions}}{{> label}}{{/l.adoptions}}</h2>
            {{^adoptions}}<p>{{#l.noAdoption}}{{> label}}{{/l.noAdoption}}</p>{{/adoptions}}
            <ul>{{#adoptions}}<li>{{#cityHref}}<a href="{{.}}">{{/cityHref}}{{cityName}}{{#cityHref}}</a>{{/cityHref}} {{mode}} it on {{date}}{{#notes}}: {{notes}}{{/notes}}</li>{{/adoptions}}</ul>
            </section>
            <section aria-labelledby="history">
            <h2 id="history">{{#l.versions}}{{> label}}{{/l.versions}}</h2>
            <ol class="versions">{{#versions}}<li><code>{{entry}}</code> {{kind}} by {{origin}} #{{seq}}{{#officer}} (officer {{officer}}){{/officer}} on {{date}}
            {{#changes}}<dl class="diff">{{#diffAgainst}}<dt class="against">Changes against <code>{{.}}</code></dt><dd class="against"></dd>{{/diffAgainst}}{{#diffNone}}<dt>{{#l.changes}}{{> label}}{{/l.changes}}</dt><dd>none to the fields</dd>{{/diffNone}}{{#diffFields}}<dt>{{#diffLabel}}{{> label}}{{/diffLabel}}</dt><dd>{{#diffSegments}}{{#diffSame}}{{.}}{{/diffSame}}{{#diffRemoved}}<del><span class="vh">[removed: </span>{{.}}<span class="vh">]</span></del>{{/diffRemoved}}{{#diffAdded}}<ins><span class="vh">[added: </span>{{.}}<span class="vh">]</span></ins>{{/diffAdded}}{{/diffSegments}}{{#diffOld}}<del><span class="vh">[was: </span>{{.}}<span class="vh">]</span></del> → {{/diffOld}}{{#diffNew}}<ins><span class="vh">[now: </span>{{.}}<span class="vh">]</span></ins>{{/diffNew}}{{#diffSealed}}changed (personal data, not shown here){{/diffSealed}}</dd>{{/diffFields}}</dl>{{/changes}}{{#diffMore}}<p>It also revised {{.}} more versions, whose differences are not shown.</p>{{/diffMore}}</li>{{/versions}}</ol>
            </section>
            {{#hasProblems}}<section aria-labelledby="problems"><h2 id="problems">{{#l.problems}}{{> label}}{{/l.problems}}</h2><ul>{{/hasProblems}}{{#problems}}<li>{{.}}</li>{{/problems}}{{#hasProblems}}</ul></section>{{/hasProblems}}
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
            <h2 id="practices">{{#l.itsPractices}}{{> label}}{{/l.itsPractices}} ({{practiceCount}})</h2>
            {{^practices}}<p>{{#l.nothingYet}}{{> label}}{{/l.nothingYet}}</p>{{/practices}}
            <ul>{{#practices}}<li><a href="{{href}}"><span lang="{{language}}">{{title}}</span></a> · {{status}} · {{published}}{{#adoptions}} · adopted ×{{adoptions}}{{/adoptions}}</li>{{/practices}}</ul>
            {{#allHref}}<p><a href="{{.}}">All its practices, with filters</a></p>{{/allHref}}
            </section>
            <section aria-labelledby="adopted">
            <h2 id="adopted">{{#l.adoptedFromOthers}}{{> label}}{{/l.adoptedFromOthers}}</h2>
            {{^adopted}}<p>{{#l.nothingYet}}{{> label}}{{/l.nothingYet}}</p>{{/adopted}}
            <ul>{{#adopted}}<li><a href="{{href}}">{{title}}</a> from {{#cityHref}}<a href="{{.}}">{{/cityHref}}{{cityName}}{{#cityHref}}</a>{{/cityHref}}: {{mode}} on {{date}}{{#notes}} ({{notes}}){{/notes}}</li>{{/adopted}}</ul>
            </section>
            <section aria-labelledby="adoptedFrom">
            <h2 id="adoptedFrom">{{#l.adoptedFromIt}}{{> label}}{{/l.adoptedFromIt}}</h2>
            {{^adoptedFrom}}<p>{{#l.nothingYet}}{{> label}}{{/l.nothingYet}}</p>{{/adoptedFrom}}
            <ul>{{#adoptedFrom}}<li>{{#cityHref}}<a href="{{.}}">{{/cityHref}}{{cityName}}{{#cityHref}}</a>{{/cityHref}} {{mode}} <a href="{{href}}">{{title}}</a> on {{date}}{{#notes}} ({{notes}}){{/notes}}</li>{{/adoptedFrom}}</ul>
            </section>
            {{/city}}
            {{> foot}}
            """#,
        "adoptions": #"""
            {{% CONTENT_TYPE: C4CSR_HTML }}
            {{> head}}
            <h1>{{#l.adoptionsBetween}}{{> label}}{{/l.adoptionsBetween}}</h1>
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
            <thead><tr><th scope="col">{{#l.adopter}}{{> label}}{{/l.adopter}}</th>{{#columns}}<th scope="col">{{id}}</th>{{/columns}}</tr></thead>
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
            <p><a href="{{links.overview}}">{{#l.back}}{{> label}}{{/l.back}}</a></p>
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
        .en { color: var(--muted); font-weight: normal; }
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
        dl.diff { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: .25rem 0 1rem; }
        dl.diff dd { margin: 0; white-space: pre-wrap; }
        del { background: #fde2dd; color: #7a1500; }
        ins { background: #dcf3dc; color: #0b4d0b; text-decoration: none; border-bottom: 2px solid #2e7d32; }
        .vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        @media print {
          header.site nav, form.filters, nav.pages { display: none; }
          body { max-width: none; font-size: 11pt; }
          a { color: inherit; text-decoration: none; }
          del { text-decoration: line-through; } ins { text-decoration: underline; }
        }
        """
}
