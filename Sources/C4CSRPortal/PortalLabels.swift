/// The portal's interface labels, in English and in the language of the city that serves
/// it (its card's `language`): a page shows each label in that language followed by the
/// English, so a visitor from another city still reads it. Practice texts keep their own
/// languages; sentences the portal computes (counts, dates, sync states) are in English.
struct PortalLabels: Sendable {
    /// The serving city's language, when the portal has its labels; nil for English.
    let language: String?
    /// Each label as the templates read it (`values(for:)`), built once.
    let values: [String: [String: String]]

    init(language: String) {
        let primary = language.split(separator: "-").first.map { String($0).lowercased() } ?? ""
        self.language = Self.catalogue[primary] != nil ? primary : nil
        values = Self.values(for: self.language)
    }

    /// The language of the page's interface (`<html lang>`).
    var pageLanguage: String { language ?? "en" }

    /// Each label as the templates read it (the `label` partial): `lblLocal` (in the
    /// serving city's language, or English), `lblLanguage`, and `lblEnglish` when it
    /// differs; `lblText` is both as one plain string, for places that cannot hold markup
    /// (options, buttons, titles). The keys are unique so that mustache never finds a
    /// missing one in an enclosing context.
    private static func values(for language: String?) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        for (key, english) in english {
            let local = language.flatMap { catalogue[$0]?[key] } ?? english
            var label = ["lblLocal": local, "lblLanguage": language ?? "en", "lblText": local]
            if local != english {
                label["lblEnglish"] = english
                label["lblText"] = "\(local) · \(english)"
            }
            out[key] = label
        }
        return out
    }

    static let english: [String: String] = [
        "overview": "Overview", "practices": "Practices", "adoptions": "Adoptions", "network": "The network",
        "cities": "Cities", "city": "City", "country": "Country", "adoptedByOthers": "Practices adopted by other cities",
        "sync": "Sync", "latest": "Latest changes", "nothingYet": "Nothing yet.", "state": "State of this node",
        "entries": "Entries", "digest": "Network digest", "search": "Search", "theme": "Theme", "sdg": "SDG",
        "status": "Status", "year": "Year", "any": "any", "show": "Show", "download": "Download every practice",
        "feedOfChanges": "Atom feed of changes", "practice": "Practice", "themes": "Themes", "sdgs": "SDGs",
        "published": "Published", "publishedBy": "Published by", "area": "Area", "period": "Period",
        "companies": "Companies", "partners": "Partners", "contact": "Contact", "summary": "Summary",
        "challenge": "Challenge", "outcomes": "Outcomes", "links": "Links", "noAdoption": "No city has adopted it yet.",
        "versions": "Versions", "problems": "Problems", "changes": "Changes", "itsPractices": "Its practices",
        "adoptedFromOthers": "What it adopted from other cities", "adoptedFromIt": "What other cities adopted from it",
        "adoptionsBetween": "Adoptions between cities", "adopter": "Adopter", "back": "Back to the overview",
        "previous": "Previous", "next": "Next",
        "title": "Title", "titleEnglish": "Title in English", "summaryEnglish": "Summary in English", "language": "Language",
    ]

    /// The labels of each partner city's language. A test checks that each has every key.
    static let catalogue: [String: [String: String]] = [
        "bg": [
            "overview": "Обзор", "practices": "Практики", "adoptions": "Възприемания", "network": "Мрежата",
            "cities": "Градове", "city": "Град", "country": "Държава", "adoptedByOthers": "Практики, възприети от други градове",
            "sync": "Синхронизация", "latest": "Последни промени", "nothingYet": "Все още нищо.", "state": "Състояние на този възел",
            "entries": "Записи", "digest": "Отпечатък на мрежата", "search": "Търсене", "theme": "Тема", "sdg": "ЦУР",
            "status": "Статус", "year": "Година", "any": "всички", "show": "Покажи", "download": "Изтегляне на всички практики",
            "feedOfChanges": "Atom емисия с промените", "practice": "Практика", "themes": "Теми", "sdgs": "ЦУР",
            "published": "Публикувана", "publishedBy": "Публикувана от", "area": "Район", "period": "Период",
            "companies": "Компании", "partners": "Партньори", "contact": "Контакт", "summary": "Резюме",
            "challenge": "Предизвикателство", "outcomes": "Резултати", "links": "Връзки", "noAdoption": "Още никой град не я е възприел.",
            "versions": "Версии", "problems": "Проблеми", "changes": "Промени", "itsPractices": "Неговите практики",
            "adoptedFromOthers": "Какво е възприел от други градове", "adoptedFromIt": "Какво други градове са възприели от него",
            "adoptionsBetween": "Възприемания между градовете", "adopter": "Възприел", "back": "Обратно към обзора",
            "previous": "Предишна", "next": "Следваща",
            "title": "Заглавие", "titleEnglish": "Заглавие на английски", "summaryEnglish": "Резюме на английски", "language": "Език",
        ],
        "sk": [
            "overview": "Prehľad", "practices": "Postupy", "adoptions": "Prevzatia", "network": "Sieť",
            "cities": "Mestá", "city": "Mesto", "country": "Krajina", "adoptedByOthers": "Postupy prevzaté inými mestami",
            "sync": "Synchronizácia", "latest": "Posledné zmeny", "nothingYet": "Zatiaľ nič.", "state": "Stav tohto uzla",
            "entries": "Záznamy", "digest": "Odtlačok siete", "search": "Hľadať", "theme": "Téma", "sdg": "CUR",
            "status": "Stav", "year": "Rok", "any": "všetky", "show": "Zobraziť", "download": "Stiahnuť všetky postupy",
            "feedOfChanges": "Atom kanál zmien", "practice": "Postup", "themes": "Témy", "sdgs": "CUR",
            "published": "Zverejnené", "publishedBy": "Zverejnil", "area": "Oblasť", "period": "Obdobie",
            "companies": "Firmy", "partners": "Partneri", "contact": "Kontakt", "summary": "Zhrnutie",
            "challenge": "Výzva", "outcomes": "Výsledky", "links": "Odkazy", "noAdoption": "Zatiaľ ho neprevzalo žiadne mesto.",
            "versions": "Verzie", "problems": "Problémy", "changes": "Zmeny", "itsPractices": "Jeho postupy",
            "adoptedFromOthers": "Čo prevzalo od iných miest", "adoptedFromIt": "Čo od neho prevzali iné mestá",
            "adoptionsBetween": "Prevzatia medzi mestami", "adopter": "Preberajúce mesto", "back": "Späť na prehľad",
            "previous": "Predchádzajúca", "next": "Ďalšia",
            "title": "Názov", "titleEnglish": "Názov v angličtine", "summaryEnglish": "Zhrnutie v angličtine", "language": "Jazyk",
        ],
        "hu": [
            "overview": "Áttekintés", "practices": "Gyakorlatok", "adoptions": "Átvételek", "network": "A hálózat",
            "cities": "Városok", "city": "Város", "country": "Ország", "adoptedByOthers": "Más városok által átvett gyakorlatok",
            "sync": "Szinkronizálás", "latest": "Legutóbbi változások", "nothingYet": "Még semmi.", "state": "E csomópont állapota",
            "entries": "Bejegyzések", "digest": "A hálózat lenyomata", "search": "Keresés", "theme": "Téma", "sdg": "FFC",
            "status": "Állapot", "year": "Év", "any": "bármely", "show": "Mutasd", "download": "Minden gyakorlat letöltése",
            "feedOfChanges": "A változások Atom-hírcsatornája", "practice": "Gyakorlat", "themes": "Témák", "sdgs": "FFC-k",
            "published": "Közzétéve", "publishedBy": "Közzétette", "area": "Terület", "period": "Időszak",
            "companies": "Vállalatok", "partners": "Partnerek", "contact": "Kapcsolat", "summary": "Összefoglaló",
            "challenge": "Kihívás", "outcomes": "Eredmények", "links": "Hivatkozások", "noAdoption": "Még egy város sem vette át.",
            "versions": "Változatok", "problems": "Problémák", "changes": "Változások", "itsPractices": "Gyakorlatai",
            "adoptedFromOthers": "Amit más városoktól átvett", "adoptedFromIt": "Amit más városok átvettek tőle",
            "adoptionsBetween": "Átvételek a városok között", "adopter": "Átvevő", "back": "Vissza az áttekintéshez",
            "previous": "Előző", "next": "Következő",
            "title": "Cím", "titleEnglish": "Cím angolul", "summaryEnglish": "Összefoglaló angolul", "language": "Nyelv",
        ],
        "pt": [
            "overview": "Visão geral", "practices": "Práticas", "adoptions": "Adoções", "network": "A rede",
            "cities": "Cidades", "city": "Cidade", "country": "País", "adoptedByOthers": "Práticas adotadas por outras cidades",
            "sync": "Sincronização", "latest": "Alterações recentes", "nothingYet": "Ainda nada.", "state": "Estado deste nó",
            "entries": "Entradas", "digest": "Resumo da rede", "search": "Pesquisar", "theme": "Tema", "sdg": "ODS",
            "status": "Estado", "year": "Ano", "any": "todos", "show": "Mostrar", "download": "Descarregar todas as práticas",
            "feedOfChanges": "Feed Atom das alterações", "practice": "Prática", "themes": "Temas", "sdgs": "ODS",
            "published": "Publicada", "publishedBy": "Publicada por", "area": "Área", "period": "Período",
            "companies": "Empresas", "partners": "Parceiros", "contact": "Contacto", "summary": "Resumo",
            "challenge": "Desafio", "outcomes": "Resultados", "links": "Ligações", "noAdoption": "Nenhuma cidade a adotou ainda.",
            "versions": "Versões", "problems": "Problemas", "changes": "Alterações", "itsPractices": "As suas práticas",
            "adoptedFromOthers": "O que adotou de outras cidades", "adoptedFromIt": "O que outras cidades lhe adotaram",
            "adoptionsBetween": "Adoções entre cidades", "adopter": "Cidade que adota", "back": "Voltar à visão geral",
            "previous": "Anterior", "next": "Seguinte",
            "title": "Título", "titleEnglish": "Título em inglês", "summaryEnglish": "Resumo em inglês", "language": "Língua",
        ],
        "lv": [
            "overview": "Pārskats", "practices": "Prakses", "adoptions": "Pārņemšanas", "network": "Tīkls",
            "cities": "Pilsētas", "city": "Pilsēta", "country": "Valsts", "adoptedByOthers": "Citu pilsētu pārņemtās prakses",
            "sync": "Sinhronizācija", "latest": "Jaunākās izmaiņas", "nothingYet": "Pagaidām nekā.", "state": "Šī mezgla stāvoklis",
            "entries": "Ieraksti", "digest": "Tīkla nospiedums", "search": "Meklēt", "theme": "Tēma", "sdg": "IAM",
            "status": "Statuss", "year": "Gads", "any": "jebkurš", "show": "Rādīt", "download": "Lejupielādēt visas prakses",
            "feedOfChanges": "Izmaiņu Atom plūsma", "practice": "Prakse", "themes": "Tēmas", "sdgs": "IAM",
            "published": "Publicēta", "publishedBy": "Publicēja", "area": "Apkaime", "period": "Periods",
            "companies": "Uzņēmumi", "partners": "Partneri", "contact": "Kontakts", "summary": "Kopsavilkums",
            "challenge": "Izaicinājums", "outcomes": "Rezultāti", "links": "Saites", "noAdoption": "Neviena pilsēta to vēl nav pārņēmusi.",
            "versions": "Versijas", "problems": "Problēmas", "changes": "Izmaiņas", "itsPractices": "Tās prakses",
            "adoptedFromOthers": "Ko tā pārņēmusi no citām pilsētām", "adoptedFromIt": "Ko citas pilsētas pārņēmušas no tās",
            "adoptionsBetween": "Pārņemšanas starp pilsētām", "adopter": "Pārņēmēja", "back": "Atpakaļ uz pārskatu",
            "previous": "Iepriekšējā", "next": "Nākamā",
            "title": "Nosaukums", "titleEnglish": "Nosaukums angliski", "summaryEnglish": "Kopsavilkums angliski", "language": "Valoda",
        ],
        "it": [
            "overview": "Panoramica", "practices": "Pratiche", "adoptions": "Adozioni", "network": "La rete",
            "cities": "Città", "city": "Città", "country": "Paese", "adoptedByOthers": "Pratiche adottate da altre città",
            "sync": "Sincronizzazione", "latest": "Ultime modifiche", "nothingYet": "Ancora niente.", "state": "Stato di questo nodo",
            "entries": "Voci", "digest": "Impronta della rete", "search": "Cerca", "theme": "Tema", "sdg": "OSS",
            "status": "Stato", "year": "Anno", "any": "tutti", "show": "Mostra", "download": "Scarica tutte le pratiche",
            "feedOfChanges": "Feed Atom delle modifiche", "practice": "Pratica", "themes": "Temi", "sdgs": "OSS",
            "published": "Pubblicata", "publishedBy": "Pubblicata da", "area": "Zona", "period": "Periodo",
            "companies": "Imprese", "partners": "Partner", "contact": "Contatto", "summary": "Sintesi",
            "challenge": "Sfida", "outcomes": "Risultati", "links": "Collegamenti", "noAdoption": "Nessuna città l'ha ancora adottata.",
            "versions": "Versioni", "problems": "Problemi", "changes": "Modifiche", "itsPractices": "Le sue pratiche",
            "adoptedFromOthers": "Che cosa ha adottato da altre città", "adoptedFromIt": "Che cosa altre città hanno adottato da essa",
            "adoptionsBetween": "Adozioni tra città", "adopter": "Città che adotta", "back": "Torna alla panoramica",
            "previous": "Precedente", "next": "Successiva",
            "title": "Titolo", "titleEnglish": "Titolo in inglese", "summaryEnglish": "Sintesi in inglese", "language": "Lingua",
        ],
        "es": [
            "overview": "Resumen", "practices": "Prácticas", "adoptions": "Adopciones", "network": "La red",
            "cities": "Ciudades", "city": "Ciudad", "country": "País", "adoptedByOthers": "Prácticas adoptadas por otras ciudades",
            "sync": "Sincronización", "latest": "Últimos cambios", "nothingYet": "Nada todavía.", "state": "Estado de este nodo",
            "entries": "Entradas", "digest": "Huella de la red", "search": "Buscar", "theme": "Tema", "sdg": "ODS",
            "status": "Estado", "year": "Año", "any": "todos", "show": "Mostrar", "download": "Descargar todas las prácticas",
            "feedOfChanges": "Canal Atom de cambios", "practice": "Práctica", "themes": "Temas", "sdgs": "ODS",
            "published": "Publicada", "publishedBy": "Publicada por", "area": "Zona", "period": "Periodo",
            "companies": "Empresas", "partners": "Socios", "contact": "Contacto", "summary": "Resumen",
            "challenge": "Reto", "outcomes": "Resultados", "links": "Enlaces", "noAdoption": "Ninguna ciudad la ha adoptado todavía.",
            "versions": "Versiones", "problems": "Problemas", "changes": "Cambios", "itsPractices": "Sus prácticas",
            "adoptedFromOthers": "Lo que adoptó de otras ciudades", "adoptedFromIt": "Lo que otras ciudades le adoptaron",
            "adoptionsBetween": "Adopciones entre ciudades", "adopter": "Ciudad que adopta", "back": "Volver al resumen",
            "previous": "Anterior", "next": "Siguiente",
            "title": "Título", "titleEnglish": "Título en inglés", "summaryEnglish": "Resumen en inglés", "language": "Idioma",
        ],
        "fr": [
            "overview": "Vue d'ensemble", "practices": "Pratiques", "adoptions": "Adoptions", "network": "Le réseau",
            "cities": "Villes", "city": "Ville", "country": "Pays", "adoptedByOthers": "Pratiques adoptées par d'autres villes",
            "sync": "Synchronisation", "latest": "Derniers changements", "nothingYet": "Rien pour l'instant.", "state": "État de ce nœud",
            "entries": "Entrées", "digest": "Empreinte du réseau", "search": "Rechercher", "theme": "Thème", "sdg": "ODD",
            "status": "Statut", "year": "Année", "any": "tous", "show": "Afficher", "download": "Télécharger toutes les pratiques",
            "feedOfChanges": "Flux Atom des changements", "practice": "Pratique", "themes": "Thèmes", "sdgs": "ODD",
            "published": "Publiée", "publishedBy": "Publiée par", "area": "Quartier", "period": "Période",
            "companies": "Entreprises", "partners": "Partenaires", "contact": "Contact", "summary": "Résumé",
            "challenge": "Enjeu", "outcomes": "Résultats", "links": "Liens", "noAdoption": "Aucune ville ne l'a encore adoptée.",
            "versions": "Versions", "problems": "Problèmes", "changes": "Changements", "itsPractices": "Ses pratiques",
            "adoptedFromOthers": "Ce qu'elle a adopté d'autres villes", "adoptedFromIt": "Ce que d'autres villes lui ont adopté",
            "adoptionsBetween": "Adoptions entre villes", "adopter": "Ville adoptante", "back": "Retour à la vue d'ensemble",
            "previous": "Précédente", "next": "Suivante",
            "title": "Titre", "titleEnglish": "Titre en anglais", "summaryEnglish": "Résumé en anglais", "language": "Langue",
        ],
        "hr": [
            "overview": "Pregled", "practices": "Prakse", "adoptions": "Preuzimanja", "network": "Mreža",
            "cities": "Gradovi", "city": "Grad", "country": "Država", "adoptedByOthers": "Prakse koje su preuzeli drugi gradovi",
            "sync": "Sinkronizacija", "latest": "Najnovije promjene", "nothingYet": "Još ništa.", "state": "Stanje ovog čvora",
            "entries": "Zapisi", "digest": "Otisak mreže", "search": "Pretraži", "theme": "Tema", "sdg": "COR",
            "status": "Status", "year": "Godina", "any": "sve", "show": "Prikaži", "download": "Preuzmi sve prakse",
            "feedOfChanges": "Atom kanal promjena", "practice": "Praksa", "themes": "Teme", "sdgs": "COR",
            "published": "Objavljeno", "publishedBy": "Objavio", "area": "Područje", "period": "Razdoblje",
            "companies": "Tvrtke", "partners": "Partneri", "contact": "Kontakt", "summary": "Sažetak",
            "challenge": "Izazov", "outcomes": "Rezultati", "links": "Poveznice", "noAdoption": "Još je nijedan grad nije preuzeo.",
            "versions": "Verzije", "problems": "Problemi", "changes": "Promjene", "itsPractices": "Njegove prakse",
            "adoptedFromOthers": "Što je preuzeo od drugih gradova", "adoptedFromIt": "Što su drugi gradovi preuzeli od njega",
            "adoptionsBetween": "Preuzimanja među gradovima", "adopter": "Grad koji preuzima", "back": "Natrag na pregled",
            "previous": "Prethodna", "next": "Sljedeća",
            "title": "Naslov", "titleEnglish": "Naslov na engleskom", "summaryEnglish": "Sažetak na engleskom", "language": "Jezik",
        ],
    ]
}
