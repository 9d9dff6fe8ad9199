import GRDB

/// The store's schema, as named, append-only migrations. A migration is never edited
/// once released: later versions add new ones. Migrations reference no app types.
enum Schema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        // Never `eraseDatabaseOnSchemaChange`: the log is a city's institutional memory.
        m.registerMigration("v1: append-only log, heads, practices view") { db in
            try db.execute(sql: """
                -- The log. One row per signed entry, in local arrival order (`position`),
                -- which is always a causal order. Columns other than body and sig are
                -- read from body when the entry is inserted; `audit` re-derives and
                -- compares them.
                CREATE TABLE entry (
                    position    INTEGER PRIMARY KEY,
                    id          BLOB    NOT NULL UNIQUE CHECK (length(id) = 32),
                    origin      TEXT    NOT NULL CHECK (length(origin) BETWEEN 2 AND 32),
                    seq         INTEGER NOT NULL CHECK (seq >= 1),
                    prev        BLOB    CHECK ((seq = 1 AND prev IS NULL) OR (seq > 1 AND length(prev) = 32)),
                    rank        INTEGER NOT NULL CHECK (rank >= seq),
                    clock       TEXT    NOT NULL,
                    kind        TEXT    NOT NULL CHECK (kind IN ('publish', 'revise', 'retract', 'adopt')),
                    subject     BLOB    CHECK (subject IS NULL OR length(subject) = 32),
                    body        BLOB    NOT NULL CHECK (length(body) BETWEEN 2 AND 65536),
                    sig         BLOB    NOT NULL CHECK (length(sig) = 64),
                    received_at INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX entry_chain ON entry(origin, seq);
                CREATE INDEX entry_merged ON entry(rank, origin, seq, id);
                CREATE INDEX entry_subject ON entry(subject) WHERE subject IS NOT NULL;

                -- Insert-only, enforced by the database for every client, sqlite3 included.
                CREATE TRIGGER entry_no_update BEFORE UPDATE ON entry
                BEGIN SELECT RAISE(ABORT, 'c4csr: the log is append-only; entries cannot be updated'); END;
                CREATE TRIGGER entry_no_delete BEFORE DELETE ON entry
                BEGIN SELECT RAISE(ABORT, 'c4csr: the log is append-only; entries cannot be deleted'); END;
                -- Invariant 2 in the schema: an entry's predecessor must already be there.
                CREATE TRIGGER entry_chain_linked BEFORE INSERT ON entry
                WHEN NEW.seq > 1 AND NOT EXISTS (
                    SELECT 1 FROM entry WHERE id = NEW.prev AND origin = NEW.origin AND seq = NEW.seq - 1)
                BEGIN SELECT RAISE(ABORT, 'c4csr: entry inserted before its chain predecessor'); END;

                -- Derived state, kept in the same transaction as each insert.
                -- head: per origin, the entries at its highest seq (two only after a fork).
                CREATE TABLE head (
                    origin TEXT    NOT NULL,
                    seq    INTEGER NOT NULL,
                    id     BLOB    NOT NULL,
                    PRIMARY KEY (origin, id)
                ) STRICT;
                -- fork: positions (origin, seq) that hold more than one entry.
                CREATE TABLE fork (
                    origin TEXT    NOT NULL,
                    seq    INTEGER NOT NULL,
                    PRIMARY KEY (origin, seq)
                ) STRICT;

                -- practice: the current state of each practice (PracticeRules), rebuilt
                -- from its entries whenever one of them arrives.
                CREATE TABLE practice (
                    pid           INTEGER PRIMARY KEY,
                    id            BLOB    NOT NULL UNIQUE CHECK (length(id) = 32),
                    hex           TEXT    NOT NULL UNIQUE,
                    publisher     TEXT    NOT NULL,
                    status        TEXT    NOT NULL,
                    language      TEXT    NOT NULL,
                    title_local   TEXT    NOT NULL,
                    title_en      TEXT    NOT NULL,
                    themes        TEXT    NOT NULL,   -- JSON array of strings
                    sdgs          TEXT    NOT NULL,   -- JSON array of integers
                    versions      INTEGER NOT NULL,
                    adoptions     INTEGER NOT NULL,
                    conflict      INTEGER NOT NULL,
                    problems      INTEGER NOT NULL,
                    published_at  INTEGER NOT NULL,
                    changed_rank  INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX practice_publisher ON practice(publisher);

                -- Full-text search over every text of the current version. unicode61 folds
                -- case in every script (Cyrillic included) and, with remove_diacritics 2,
                -- matches "Budaors" to "Budaörs".
                CREATE VIRTUAL TABLE practice_fts USING fts5(
                    title_local, title_en, summary_local, summary_en, challenge, themes,
                    companies, partners, area, outcomes,
                    tokenize = 'unicode61 remove_diacritics 2'
                );
                """)
        }
        m.registerMigration("v2: sync index and peer status") { db in
            try db.execute(sql: """
                -- Sync reads one origin's entries above a seq in merged order (LogStore.lacking).
                CREATE INDEX entry_origin_rank ON entry(origin, rank, seq, id);

                -- What the daemon last learned about each peer (c4csr status). Not part of
                -- the log: rows are replaced after every round.
                CREATE TABLE peer_status (
                    city           TEXT    PRIMARY KEY,
                    endpoint       TEXT    NOT NULL,
                    last_attempt   INTEGER,
                    last_success   INTEGER,
                    last_error     TEXT,
                    failures       INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
                    remote_digest  TEXT,
                    remote_entries INTEGER,
                    we_lack        INTEGER,
                    they_lack      INTEGER,
                    in_sync        INTEGER NOT NULL DEFAULT 0,
                    received       INTEGER NOT NULL DEFAULT 0,
                    sent           INTEGER NOT NULL DEFAULT 0,
                    refused        INTEGER NOT NULL DEFAULT 0,
                    last_refusal   TEXT
                ) STRICT;
                """)
        }
        m.registerMigration("v3: kind of a peer's last error") { db in
            // `pin_mismatch`, `timeout`, … beside the sentence: `c4csr status` tells a
            // wrong key from a host that does not answer.
            try db.execute(sql: "ALTER TABLE peer_status ADD COLUMN last_error_kind TEXT")
        }
        m.registerMigration("v4: restore mark") { db in
            try db.execute(sql: """
                -- Set by `c4csr restore`: while this row exists the city signs nothing, so that
                -- a store put back from a backup never re-uses a sequence number the network
                -- already holds. Cleared once a pull from every peer it syncs with has completed, or by an admin
                -- (`c4csr restore --confirm-latest`). Not part of the log.
                CREATE TABLE restore_mark (
                    id          INTEGER PRIMARY KEY CHECK (id = 1),
                    restored_at INTEGER NOT NULL,
                    source      TEXT    NOT NULL,
                    own_top     INTEGER NOT NULL CHECK (own_top >= 0),
                    confirmed   TEXT    NOT NULL DEFAULT ''  -- peers whose pull completed, space-separated
                ) STRICT;
                """)
        }
        m.registerMigration("v5: key rotation") { db in
            // Format c4csr/2 adds the kind `rotate`, which the v1 CHECK on `kind` refuses,
            // and each entry's key in force after it (docs/PROTOCOL.md §12). SQLite cannot
            // change a CHECK in place: the table is rebuilt (same rows, same positions),
            // once, inside this migration's transaction.
            try db.execute(sql: """
                CREATE TABLE entry_v5 (
                    position    INTEGER PRIMARY KEY,
                    id          BLOB    NOT NULL UNIQUE CHECK (length(id) = 32),
                    origin      TEXT    NOT NULL CHECK (length(origin) BETWEEN 2 AND 32),
                    seq         INTEGER NOT NULL CHECK (seq >= 1),
                    prev        BLOB    CHECK ((seq = 1 AND prev IS NULL) OR (seq > 1 AND length(prev) = 32)),
                    rank        INTEGER NOT NULL CHECK (rank >= seq),
                    clock       TEXT    NOT NULL,
                    kind        TEXT    NOT NULL CHECK (kind IN ('publish', 'revise', 'retract', 'adopt', 'rotate')),
                    subject     BLOB    CHECK (subject IS NULL OR length(subject) = 32),
                    body        BLOB    NOT NULL CHECK (length(body) BETWEEN 2 AND 65536),
                    sig         BLOB    NOT NULL CHECK (length(sig) = 64),
                    received_at INTEGER NOT NULL,
                    -- The key in force after this entry when a rotation in its chain changed
                    -- it; NULL: the founding key on the origin's card.
                    key_after   BLOB    CHECK (key_after IS NULL OR length(key_after) = 32)
                ) STRICT;
                INSERT INTO entry_v5 (position, id, origin, seq, prev, rank, clock, kind, subject, body, sig, received_at)
                    SELECT position, id, origin, seq, prev, rank, clock, kind, subject, body, sig, received_at FROM entry;
                DROP TRIGGER IF EXISTS entry_no_update;
                DROP TRIGGER IF EXISTS entry_no_delete;
                DROP TRIGGER IF EXISTS entry_chain_linked;
                DROP TABLE entry;
                ALTER TABLE entry_v5 RENAME TO entry;
                CREATE INDEX entry_chain ON entry(origin, seq);
                CREATE INDEX entry_merged ON entry(rank, origin, seq, id);
                CREATE INDEX entry_subject ON entry(subject) WHERE subject IS NOT NULL;
                CREATE INDEX entry_origin_rank ON entry(origin, rank, seq, id);
                -- A city's key history (peers list, peers show) without reading the log.
                CREATE INDEX entry_rotate ON entry(origin, seq) WHERE kind = 'rotate';
                CREATE TRIGGER entry_no_update BEFORE UPDATE ON entry
                BEGIN SELECT RAISE(ABORT, 'c4csr: the log is append-only; entries cannot be updated'); END;
                CREATE TRIGGER entry_no_delete BEFORE DELETE ON entry
                BEGIN SELECT RAISE(ABORT, 'c4csr: the log is append-only; entries cannot be deleted'); END;
                CREATE TRIGGER entry_chain_linked BEFORE INSERT ON entry
                WHEN NEW.seq > 1 AND NOT EXISTS (
                    SELECT 1 FROM entry WHERE id = NEW.prev AND origin = NEW.origin AND seq = NEW.seq - 1)
                BEGIN SELECT RAISE(ABORT, 'c4csr: entry inserted before its chain predecessor'); END;
                """)
        }
        m.registerMigration("v6: portal indexes") { db in
            try db.execute(sql: """
                -- Who adopted what (the portal's city pages and adoption matrix) without
                -- reading the log: adoptions are a small part of it.
                CREATE INDEX entry_adopt ON entry(origin, subject) WHERE kind = 'adopt';
                -- The practice lists' order (newest first), whole or of one city, read from
                -- an index instead of sorting every row for each page.
                CREATE INDEX practice_published ON practice(published_at, hex);
                DROP INDEX practice_publisher;
                CREATE INDEX practice_publisher ON practice(publisher, published_at, hex);
                """)
        }
        m.registerMigration("v7: officers") { db in
            // The officers in force after each entry (docs/PROTOCOL.md §13) and the kinds
            // of protocol version 2. A CHECK cannot change in place: the table is rebuilt
            // once (same rows, same positions), and its kind CHECK already names every
            // kind version 2 plans (docs/design/protocol-v2.md §7), so that the next ones
            // need no rebuild.
            try db.execute(sql: """
                -- Each distinct set of officers in force, once (canonical JSON: officer
                -- id -> base64 key). Insert-only, like the log it is derived from.
                CREATE TABLE officer_roll (
                    id   INTEGER PRIMARY KEY,
                    roll BLOB NOT NULL UNIQUE CHECK (length(roll) BETWEEN 2 AND 1048576)
                ) STRICT;
                CREATE TRIGGER officer_roll_no_update BEFORE UPDATE ON officer_roll
                BEGIN SELECT RAISE(ABORT, 'c4csr: officer rolls are derived from the log and cannot be updated'); END;
                CREATE TRIGGER officer_roll_no_delete BEFORE DELETE ON officer_roll
                BEGIN SELECT RAISE(ABORT, 'c4csr: officer rolls are derived from the log and cannot be deleted'); END;
                CREATE TABLE entry_v7 (
                    position    INTEGER PRIMARY KEY,
                    id          BLOB    NOT NULL UNIQUE CHECK (length(id) = 32),
                    origin      TEXT    NOT NULL CHECK (length(origin) BETWEEN 2 AND 32),
                    seq         INTEGER NOT NULL CHECK (seq >= 1),
                    prev        BLOB    CHECK ((seq = 1 AND prev IS NULL) OR (seq > 1 AND length(prev) = 32)),
                    rank        INTEGER NOT NULL CHECK (rank >= seq),
                    clock       TEXT    NOT NULL,
                    kind        TEXT    NOT NULL CHECK (kind IN (
                        'publish', 'revise', 'retract', 'adopt', 'rotate', 'officer',
                        'vouch', 'recover', 'member', 'erase', 'ack')),
                    subject     BLOB    CHECK (subject IS NULL OR length(subject) = 32),
                    body        BLOB    NOT NULL CHECK (length(body) BETWEEN 2 AND 65536),
                    sig         BLOB    NOT NULL CHECK (length(sig) = 64),
                    received_at INTEGER NOT NULL,
                    -- The key in force after this entry when a rotation in its chain changed
                    -- it; NULL: the founding key on the origin's card.
                    key_after   BLOB    CHECK (key_after IS NULL OR length(key_after) = 32),
                    -- The officers in force after this entry (officer_roll.id); NULL: none.
                    roll_after  INTEGER
                ) STRICT;
                INSERT INTO entry_v7 (position, id, origin, seq, prev, rank, clock, kind, subject, body, sig, received_at, key_after)
                    SELECT position, id, origin, seq, prev, rank, clock, kind, subject, body, sig, received_at, key_after FROM entry;
                DROP TRIGGER IF EXISTS entry_no_update;
                DROP TRIGGER IF EXISTS entry_no_delete;
                DROP TRIGGER IF EXISTS entry_chain_linked;
                DROP TABLE entry;
                ALTER TABLE entry_v7 RENAME TO entry;
                CREATE INDEX entry_chain ON entry(origin, seq);
                CREATE INDEX entry_merged ON entry(rank, origin, seq, id);
                CREATE INDEX entry_subject ON entry(subject) WHERE subject IS NOT NULL;
                CREATE INDEX entry_origin_rank ON entry(origin, rank, seq, id);
                CREATE INDEX entry_rotate ON entry(origin, seq) WHERE kind = 'rotate';
                CREATE INDEX entry_adopt ON entry(origin, subject) WHERE kind = 'adopt';
                -- A city's enrolments (officer list, peers show) without reading the log.
                CREATE INDEX entry_officer ON entry(origin, seq) WHERE kind = 'officer';
                CREATE TRIGGER entry_no_update BEFORE UPDATE ON entry
                BEGIN SELECT RAISE(ABORT, 'c4csr: the log is append-only; entries cannot be updated'); END;
                CREATE TRIGGER entry_no_delete BEFORE DELETE ON entry
                BEGIN SELECT RAISE(ABORT, 'c4csr: the log is append-only; entries cannot be deleted'); END;
                CREATE TRIGGER entry_chain_linked BEFORE INSERT ON entry
                WHEN NEW.seq > 1 AND NOT EXISTS (
                    SELECT 1 FROM entry WHERE id = NEW.prev AND origin = NEW.origin AND seq = NEW.seq - 1)
                BEGIN SELECT RAISE(ABORT, 'c4csr: entry inserted before its chain predecessor'); END;
                """)
        }
        m.registerMigration("v8: personal content") { db in
            // Sealed personal fields (docs/PROTOCOL.md §14): the log holds their
            // commitments; their values live here, beside it, where an erasure deletes them.
            try db.execute(sql: """
                -- The value of one sealed field of one entry, checked against its seal when
                -- stored (`LogStore.storeContent`). Deletable, unlike the log.
                CREATE TABLE content (
                    entry       BLOB    NOT NULL CHECK (length(entry) = 32),
                    field       TEXT    NOT NULL CHECK (field IN ('area', 'challenge', 'contact', 'outcomes', 'summary')),
                    salt        BLOB    NOT NULL CHECK (length(salt) = 32),
                    value       TEXT    NOT NULL CHECK (length(value) BETWEEN 2 AND 65536),  -- canonical JSON
                    received_at INTEGER NOT NULL,
                    PRIMARY KEY (entry, field)
                ) STRICT, WITHOUT ROWID;
                -- What valid erasures erased, derived from the log in the transaction that
                -- inserts the erasure; insert-only, like the log. A content of a pair
                -- named here, or whose seal (`seal`, the commitment) is named here, is
                -- never stored again, by c4csr or any other client.
                CREATE TABLE erased (
                    entry BLOB NOT NULL CHECK (length(entry) = 32),
                    field TEXT NOT NULL,
                    seal  BLOB CHECK (seal IS NULL OR length(seal) = 32),
                    erase BLOB NOT NULL CHECK (length(erase) = 32),
                    PRIMARY KEY (entry, field)
                ) STRICT, WITHOUT ROWID;
                CREATE INDEX erased_seal ON erased(seal) WHERE seal IS NOT NULL;
                CREATE TRIGGER erased_no_update BEFORE UPDATE ON erased
                BEGIN SELECT RAISE(ABORT, 'c4csr: erasures are derived from the log and cannot be updated'); END;
                CREATE TRIGGER erased_no_delete BEFORE DELETE ON erased
                BEGIN SELECT RAISE(ABORT, 'c4csr: erasures are derived from the log and cannot be deleted'); END;
                CREATE TRIGGER content_not_erased BEFORE INSERT ON content
                WHEN EXISTS (SELECT 1 FROM erased WHERE entry = NEW.entry AND field = NEW.field)
                BEGIN SELECT RAISE(ABORT, 'c4csr: this content was erased; it is never stored again'); END;
                -- A city's erasures and the acks (status, audit --peers) without reading the log.
                CREATE INDEX entry_erasure ON entry(kind, subject) WHERE kind IN ('erase', 'ack');
                """)
        }
        m.registerMigration("v9: erased seals by their hex") { db in
            // A content round asks of every sealed field it lacks whether its seal was
            // erased; the seal comes from the entry's JSON body as hex. Without this, each
            // such question read every erased seal (a member's many erasures times its
            // many sealed entries without content).
            try db.execute(sql: "CREATE INDEX erased_seal_hex ON erased(lower(hex(seal))) WHERE seal IS NOT NULL")
        }
        m.registerMigration("v10: practice tags") { db in
            try db.execute(sql: """
                -- Each practice's themes and SDGs, a row each (kept by the practices view
                -- with the practice's row), so that a theme's or an SDG's list, count and
                -- feed, and the themes of the filter form, read an index instead of every
                -- practice's JSON (the portal at 100,000 practices).
                CREATE TABLE practice_tag (
                    kind   TEXT    NOT NULL CHECK (kind IN ('theme', 'sdg')),
                    value  TEXT    NOT NULL,
                    pid    INTEGER NOT NULL,
                    PRIMARY KEY (kind, value, pid)
                ) STRICT, WITHOUT ROWID;
                CREATE INDEX practice_tag_pid ON practice_tag(pid);
                INSERT OR IGNORE INTO practice_tag SELECT 'theme', value, pid FROM practice, json_each(practice.themes);
                INSERT OR IGNORE INTO practice_tag SELECT 'sdg', CAST(value AS TEXT), pid FROM practice, json_each(practice.sdgs);
                -- How many practices carry each tag, and per publishing city how many
                -- practices it has and how many of them others adopted: kept by triggers
                -- as the rows change, so that the filter form's themes, a tag's or a
                -- city's count and the overview's figures are a read of a few rows, also
                -- on the first request after a new entry.
                CREATE TABLE tag_count (
                    kind       TEXT    NOT NULL,
                    value      TEXT    NOT NULL,
                    practices  INTEGER NOT NULL,
                    PRIMARY KEY (kind, value)
                ) STRICT, WITHOUT ROWID;
                INSERT INTO tag_count SELECT kind, value, count(*) FROM practice_tag GROUP BY kind, value;
                CREATE TRIGGER practice_tag_counted AFTER INSERT ON practice_tag BEGIN
                    INSERT INTO tag_count (kind, value, practices) VALUES (NEW.kind, NEW.value, 1)
                        ON CONFLICT (kind, value) DO UPDATE SET practices = practices + 1;
                END;
                CREATE TRIGGER practice_tag_uncounted AFTER DELETE ON practice_tag BEGIN
                    UPDATE tag_count SET practices = practices - 1 WHERE kind = OLD.kind AND value = OLD.value;
                    DELETE FROM tag_count WHERE kind = OLD.kind AND value = OLD.value AND practices <= 0;
                END;
                CREATE TABLE city_figure (
                    publisher  TEXT    PRIMARY KEY,
                    practices  INTEGER NOT NULL,
                    adopted    INTEGER NOT NULL
                ) STRICT, WITHOUT ROWID;
                INSERT INTO city_figure SELECT publisher, count(*), sum(adoptions > 0) FROM practice GROUP BY publisher;
                CREATE TRIGGER practice_counted AFTER INSERT ON practice BEGIN
                    INSERT INTO city_figure (publisher, practices, adopted) VALUES (NEW.publisher, 1, NEW.adoptions > 0)
                        ON CONFLICT (publisher) DO UPDATE SET practices = practices + 1, adopted = adopted + (NEW.adoptions > 0);
                END;
                CREATE TRIGGER practice_adoption_counted AFTER UPDATE OF adoptions ON practice
                WHEN (NEW.adoptions > 0) != (OLD.adoptions > 0) BEGIN
                    UPDATE city_figure SET adopted = adopted + (NEW.adoptions > 0) - (OLD.adoptions > 0) WHERE publisher = NEW.publisher;
                END;
                """)
        }
        m.registerMigration("v11: chain ids") { db in
            // A chain id (docs/PROTOCOL.md §15) is a city id, `~` and a generation up to
            // 999: up to 36 characters, which the CHECK on `origin` (32) refuses. The table
            // is rebuilt once (same rows, same positions); its indexes and triggers are
            // created again from their own SQL, so that none added since v7 is forgotten.
            let objects = try Row.fetchAll(db, sql: """
                SELECT type, name, sql FROM sqlite_master
                WHERE tbl_name = 'entry' AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name
                """)
            try db.execute(sql: """
                CREATE TABLE entry_v11 (
                    position    INTEGER PRIMARY KEY,
                    id          BLOB    NOT NULL UNIQUE CHECK (length(id) = 32),
                    origin      TEXT    NOT NULL CHECK (length(origin) BETWEEN 2 AND 36),
                    seq         INTEGER NOT NULL CHECK (seq >= 1),
                    prev        BLOB    CHECK ((seq = 1 AND prev IS NULL) OR (seq > 1 AND length(prev) = 32)),
                    rank        INTEGER NOT NULL CHECK (rank >= seq),
                    clock       TEXT    NOT NULL,
                    kind        TEXT    NOT NULL CHECK (kind IN (
                        'publish', 'revise', 'retract', 'adopt', 'rotate', 'officer',
                        'vouch', 'recover', 'member', 'erase', 'ack')),
                    subject     BLOB    CHECK (subject IS NULL OR length(subject) = 32),
                    body        BLOB    NOT NULL CHECK (length(body) BETWEEN 2 AND 65536),
                    sig         BLOB    NOT NULL CHECK (length(sig) = 64),
                    received_at INTEGER NOT NULL,
                    key_after   BLOB    CHECK (key_after IS NULL OR length(key_after) = 32),
                    roll_after  INTEGER
                ) STRICT;
                INSERT INTO entry_v11 (position, id, origin, seq, prev, rank, clock, kind, subject, body, sig, received_at, key_after, roll_after)
                    SELECT position, id, origin, seq, prev, rank, clock, kind, subject, body, sig, received_at, key_after, roll_after FROM entry;
                DROP TABLE entry;
                ALTER TABLE entry_v11 RENAME TO entry;
                """)
            for object in objects { try db.execute(sql: object["sql"]) }
        }
        m.registerMigration("v12: membership verdicts") { db in
            // The verdicts of docs/PROTOCOL.md §15, derived from the log and recomputed in
            // the merge transaction whenever a membership entry, a fork or an entry of a
            // recovered city's chains arrives: the revoked entries, and the `member` and
            // `recover` entries that are not valid (with why). Not insert-only: a verdict
            // may change when a member equivocates.
            try db.execute(sql: """
                CREATE TABLE revoked (id BLOB PRIMARY KEY CHECK (length(id) = 32)) STRICT, WITHOUT ROWID;
                CREATE TABLE membership_invalid (
                    id     BLOB PRIMARY KEY CHECK (length(id) = 32),
                    reason TEXT NOT NULL
                ) STRICT, WITHOUT ROWID;
                CREATE INDEX entry_membership ON entry(kind) WHERE kind IN ('vouch', 'member', 'recover');
                -- A practice whose publish a recovery revoked is no longer one.
                CREATE TRIGGER practice_uncounted AFTER DELETE ON practice BEGIN
                    UPDATE city_figure SET practices = practices - 1, adopted = adopted - (OLD.adoptions > 0)
                    WHERE publisher = OLD.publisher;
                END;
                """)
        }
        return m
    }

    /// The newest migration this build knows.
    static let latest = "v12: membership verdicts"
}
