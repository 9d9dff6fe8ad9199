import C4CSRCore

/// The ten CITIES4CSR partners and a few practices each, drawn from the local CSR
/// challenge each city brought to the network, in the city's language and English.
enum DemoData {
    struct City {
        let id: String
        let name: String
        let localName: String
        let country: String
        let language: String
        let practices: [Practice]
    }

    static func practice(
        _ language: String, _ titleLocal: String, _ titleEn: String, _ summaryLocal: String, _ summaryEn: String,
        challenge: String, themes: [String], sdgs: [Int], companies: [String] = [], partners: [String] = [], area: String? = nil,
        start: String? = nil
    ) -> Practice {
        Practice(
            language: language, title: .init(local: titleLocal, en: titleEn), summary: .init(local: summaryLocal, en: summaryEn),
            challenge: challenge, themes: themes, companies: companies, partners: partners, sdgs: sdgs, area: area,
            period: start.map { Practice.Period(start: $0) }, status: .running)
    }

    /// In network order; the demo's mesh joins each city to its two neighbours in this
    /// ring and to the city five places on.
    /// Each city's officer (in the order of `cities`): who writes its practices.
    static let officers = ["gbianchi", "ipetrova", "dnikolov", "lberzina", "ahorvat", "jsilva", "cgarcia", "knagy", "mnovak", "cmartin"]

    static let cities: [City] = [
        City(id: "milano", name: "Milan", localName: "Milano", country: "IT", language: "it", practices: [
            practice("it", "Piattaforma RSE del Comune di Milano", "Milan's municipal CSR platform",
                     "Una piattaforma dove le imprese propongono progetti di responsabilità sociale ai quartieri periferici.",
                     "A platform where companies offer social-responsibility projects to the outer neighbourhoods.",
                     challenge: "Orientare la RSE delle imprese verso le periferie", themes: ["csr platform", "urban regeneration"],
                     sdgs: [11, 17], companies: ["Fondazione Cariplo"], area: "Municipio 9", start: "2019-05"),
            practice("it", "Patti di collaborazione per il verde di quartiere", "Collaboration pacts for neighbourhood green",
                     "Imprese e cittadini firmano patti con il Comune per curare insieme giardini e aiuole.",
                     "Firms and residents sign pacts with the city to look after gardens and flowerbeds together.",
                     challenge: "Curare gli spazi verdi con risorse limitate", themes: ["environment", "participation"], sdgs: [11, 15]),
        ]),
        City(id: "sofia", name: "Sofia", localName: "София", country: "BG", language: "bg", practices: [
            practice("bg", "Зелени училищни дворове", "Green schoolyards",
                     "Фирми осиновяват училищни дворове и ги превръщат в зелени площи за целия квартал.",
                     "Companies adopt schoolyards and turn them into green spaces for the whole neighbourhood.",
                     challenge: "Малко зелени площи в гъсто застроените квартали", themes: ["environment", "education"],
                     sdgs: [4, 13], area: "Лозенец", start: "2023-09"),
            practice("bg", "Корпоративно доброволчество за квартала", "Corporate volunteering for the neighbourhood",
                     "Служители на местни фирми помагат на читалища и социални центрове един ден в месеца.",
                     "Staff of local firms help community centres and social services one day a month.",
                     challenge: "Слабо участие на бизнеса в живота на кварталите", themes: ["volunteering", "inclusion"], sdgs: [10, 17]),
        ]),
        City(id: "vratsa", name: "Vratsa", localName: "Враца", country: "BG", language: "bg", practices: [
            practice("bg", "Младежка заетост с местни фирми", "Youth employment with local firms",
                     "Стажове и наставничество за младежи от Враца в партньорство с местни производители.",
                     "Internships and mentoring for young people of Vratsa, in partnership with local manufacturers.",
                     challenge: "Младите хора напускат града", themes: ["employment", "youth"], sdgs: [8]),
            practice("bg", "Дарителски фонд на общността", "Community giving fund",
                     "Фирми и граждани събират средства за малки проекти, избрани от жителите.",
                     "Firms and citizens pool money for small projects chosen by residents.",
                     challenge: "Липса на средства за граждански инициативи", themes: ["philanthropy", "participation"], sdgs: [11, 17]),
        ]),
        City(id: "kekava", name: "Kekava", localName: "Ķekava", country: "LV", language: "lv", practices: [
            practice("lv", "Uzņēmumi atbalsta jauniešu iniciatīvas", "Companies support youth initiatives",
                     "Vietējie uzņēmumi finansē un konsultē jauniešu projektus Ķekavas novadā.",
                     "Local companies fund and advise young people's projects in the Ķekava municipality.",
                     challenge: "Vāja sadarbība starp uzņēmumiem un pašvaldību", themes: ["youth", "entrepreneurship"], sdgs: [4, 8]),
            practice("lv", "Zaļā ceļa partnerība", "Green route partnership",
                     "Uzņēmumi kopā ar pašvaldību ierīko veloceliņu gar Daugavu.",
                     "Companies and the municipality build a cycle route along the Daugava together.",
                     challenge: "Ilgtspējīga mobilitāte piepilsētā", themes: ["mobility", "environment"], sdgs: [11, 13]),
        ]),
        City(id: "rijeka", name: "Rijeka", localName: "Rijeka", country: "HR", language: "hr", practices: [
            practice("hr", "Društveno odgovorno poslovanje u lučkoj zajednici", "CSR in the port community",
                     "Lučke tvrtke ulažu u kulturne i sportske programe četvrti uz luku.",
                     "Port companies invest in cultural and sports programmes of the districts by the port.",
                     challenge: "Povezati gospodarstvo i lokalnu zajednicu", themes: ["culture", "urban regeneration"], sdgs: [11]),
            practice("hr", "Forum poslodavaca za zapošljavanje mladih", "Employers' forum for youth employment",
                     "Poslodavci i škole zajedno planiraju prakse i prve poslove za mlade.",
                     "Employers and schools plan internships and first jobs for young people together.",
                     challenge: "Nezaposlenost mladih", themes: ["employment", "youth"], sdgs: [4, 8]),
        ]),
        City(id: "guimaraes", name: "Guimarães", localName: "Guimarães", country: "PT", language: "pt", practices: [
            practice("pt", "Empresas pela regeneração do rio Ave", "Companies for the regeneration of the Ave river",
                     "Empresas têxteis financiam a limpeza das margens e a monitorização da qualidade da água.",
                     "Textile companies fund the cleaning of the banks and the monitoring of water quality.",
                     challenge: "Recuperar o rio depois de décadas de indústria", themes: ["environment", "water"], sdgs: [6, 14]),
            practice("pt", "Rede de responsabilidade social", "Social responsibility network",
                     "Uma rede local que liga empresas a associações com necessidades concretas.",
                     "A local network matching companies with associations that have concrete needs.",
                     challenge: "Coordenar a responsabilidade social das empresas", themes: ["csr platform"], sdgs: [17]),
        ]),
        City(id: "molina-de-segura", name: "Molina de Segura", localName: "Molina de Segura", country: "ES", language: "es", practices: [
            practice("es", "Empresas por la inclusión laboral", "Companies for job inclusion",
                     "Empresas locales reservan puestos y formación para personas en riesgo de exclusión.",
                     "Local companies set aside jobs and training for people at risk of exclusion.",
                     challenge: "Desempleo de larga duración", themes: ["employment", "inclusion"], sdgs: [8, 10]),
            practice("es", "Huertos urbanos con patrocinio empresarial", "Company-sponsored urban gardens",
                     "Empresas patrocinan huertos urbanos gestionados por vecinos y escuelas.",
                     "Companies sponsor urban gardens run by residents and schools.",
                     challenge: "Espacios públicos infrautilizados", themes: ["environment", "food"], sdgs: [2, 11]),
        ]),
        City(id: "budaors", name: "Budaörs", localName: "Budaörs", country: "HU", language: "hu", practices: [
            practice("hu", "Vállalati önkéntesség a budaörsi iskolákért", "Corporate volunteering for Budaörs schools",
                     "A helyi vállalatok munkatársai iskolai programokat és felújításokat támogatnak.",
                     "Staff of local companies support school programmes and renovations.",
                     challenge: "Sok nagyvállalat, kevés kapcsolat a helyi közösséggel", themes: ["volunteering", "education"], sdgs: [4]),
            practice("hu", "Helyi vállalkozások klímapartnersége", "Climate partnership of local businesses",
                     "Vállalkozások közös célokat vállalnak az energiafogyasztás csökkentésére.",
                     "Businesses commit to shared targets for cutting energy use.",
                     challenge: "Klímavédelem a gazdasági övezetben", themes: ["climate", "energy"], sdgs: [7, 13]),
        ]),
        City(id: "bratislava", name: "Bratislava", localName: "Bratislava", country: "SK", language: "sk", practices: [
            practice("sk", "Firmy pre zelenšie sídliská", "Companies for greener housing estates",
                     "Firmy financujú výsadbu stromov a dažďové záhrady na sídliskách.",
                     "Companies fund tree planting and rain gardens on housing estates.",
                     challenge: "Prehrievanie sídlisk v lete", themes: ["environment", "climate"], sdgs: [11, 13]),
            practice("sk", "Mestská platforma zodpovedného podnikania", "City platform for responsible business",
                     "Mesto spája firmy s mestskými časťami pri spoločných projektoch.",
                     "The city brings companies and boroughs together on joint projects.",
                     challenge: "Roztrieštená spolupráca s firmami", themes: ["csr platform"], sdgs: [17]),
        ]),
        City(id: "nantes", name: "Nantes Métropole", localName: "Nantes Métropole", country: "FR", language: "fr", practices: [
            practice("fr", "Mécénat de compétences dans les quartiers prioritaires", "Skills-based volunteering in priority districts",
                     "Les entreprises mettent des salariés à disposition des associations de quartier.",
                     "Firms lend employees' skills to neighbourhood associations.",
                     challenge: "Rapprocher entreprises et quartiers prioritaires", themes: ["inclusion", "volunteering"], sdgs: [8, 10],
                     partners: ["Maison de quartier Bellevue"]),
            practice("fr", "Charte des entreprises engagées", "Charter of committed companies",
                     "Une charte métropolitaine où les entreprises s'engagent sur l'emploi local et l'environnement.",
                     "A metropolitan charter in which companies commit to local jobs and the environment.",
                     challenge: "Rendre visibles les engagements des entreprises", themes: ["csr platform", "employment"], sdgs: [8, 12]),
        ]),
    ]

    /// Adoptions: (adopting city, publishing city, practice index, mode, notes in the adopter's language).
    static let adoptions: [(String, String, Int, AdoptionMode, String)] = [
        ("nantes", "sofia", 0, .adapted, "Adapté aux cours d'école de Nantes avec les entreprises du quartier"),
        ("vratsa", "milano", 0, .adapted, "Платформата е пренесена в по-малък мащаб за Враца"),
        ("budaors", "kekava", 0, .adopted, "A budaörsi ifjúsági alap ugyanígy működik"),
        ("guimaraes", "molina-de-segura", 1, .adapted, "Hortas com escolas e empresas têxteis"),
    ]

    /// The ring-with-chords mesh: city i peers with i ± 1 and i + 5 (mod 10).
    static func neighbours(of index: Int) -> [Int] {
        let n = cities.count
        return Array(Set([(index + 1) % n, (index + n - 1) % n, (index + n / 2) % n])).sorted()
    }
}
