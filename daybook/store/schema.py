"""The store's schema: every migration, in order (``PRAGMA user_version`` counts them)."""

from __future__ import annotations

import re


def _sources_to_search(row: str) -> str:
    """In a trigger on source_articles (``row``: new or old): the search index takes again
    the ledes and titles of every event citing the source."""
    return f"""
        UPDATE event_search SET
            ledes = (SELECT group_concat(a.lede, char(10)) FROM event_sources es
                     JOIN source_articles a ON a.source_id = es.source_id
                     WHERE es.event_id = (SELECT event_id FROM search_docs WHERE doc = event_search.rowid)
                     AND a.outcome = 'ok'),
            titles = (SELECT group_concat(a.title, char(10)) FROM event_sources es
                      JOIN source_articles a ON a.source_id = es.source_id
                      WHERE es.event_id = (SELECT event_id FROM search_docs WHERE doc = event_search.rowid)
                      AND a.outcome = 'ok')
        WHERE rowid IN (SELECT d.doc FROM event_sources es JOIN search_docs d ON d.event_id = es.event_id
                        WHERE es.source_id = {row}.source_id);"""


# Each entry upgrades the schema by one version (PRAGMA user_version). Never edit a
# released entry: append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE days (
        date TEXT PRIMARY KEY,            -- ISO date of the portal day
        origin TEXT NOT NULL,             -- file or page the day was read from
        format TEXT NOT NULL,             -- wikitext | html | jsonl
        content_sha TEXT NOT NULL,        -- hash of the events, to tell real changes
        ingested_at TEXT NOT NULL
    );
    CREATE TABLE events (
        id TEXT PRIMARY KEY,
        date TEXT NOT NULL REFERENCES days(date) ON DELETE CASCADE,
        position INTEGER NOT NULL,        -- order on the day's page
        category TEXT NOT NULL,
        story TEXT NOT NULL,              -- JSON list, outermost first
        text TEXT NOT NULL
    );
    CREATE INDEX events_by_date ON events(date, position);
    CREATE TABLE entities (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL UNIQUE        -- canonical Wikipedia article title
    );
    CREATE TABLE event_entities (
        event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        entity_id INTEGER NOT NULL REFERENCES entities(id),
        position INTEGER NOT NULL,
        PRIMARY KEY (event_id, entity_id)
    ) WITHOUT ROWID;
    CREATE INDEX event_entities_by_entity ON event_entities(entity_id, event_id);
    CREATE TABLE sources (
        id TEXT PRIMARY KEY,              -- hash of the normalized URL (model.url_key)
        url TEXT NOT NULL,                -- the URL as first cited
        normalized_url TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE event_sources (
        event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        source_id TEXT NOT NULL REFERENCES sources(id),
        outlet TEXT NOT NULL,             -- the outlet as this citation names it
        url TEXT NOT NULL,                -- the URL exactly as this citation gives it
        PRIMARY KEY (event_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX event_sources_by_source ON event_sources(source_id);
    """,
    # 2: enrich (issue 3). Each source's page as fetched, and what was made of it.
    """
    CREATE TABLE source_responses (
        source_id TEXT PRIMARY KEY REFERENCES sources(id),
        status INTEGER NOT NULL,          -- HTTP status of the answer kept
        final_url TEXT NOT NULL,          -- after redirects; the snapshot's address when archived
        headers TEXT NOT NULL,            -- JSON list of [name, value], as received
        body BLOB NOT NULL,               -- zlib-compressed, for re-extraction (enrich --offline)
        archived INTEGER NOT NULL,        -- 1: a Wayback Machine snapshot stands in for a dead link
        fetched_at TEXT NOT NULL
    );
    CREATE TABLE source_articles (
        source_id TEXT PRIMARY KEY REFERENCES sources(id),
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed')),
        status TEXT NOT NULL,             -- '200', '404'..., or an error word: 'timeout', 'robots'...
        reason TEXT,                      -- for a failure: what happened, in a few words
        dead_status TEXT,                 -- when archived: why the live page was not used ('404', 'dns')
        final_url TEXT,
        archived INTEGER NOT NULL DEFAULT 0,
        title TEXT,
        lede TEXT,
        image TEXT,
        publisher TEXT,
        published TEXT,                   -- ISO date
        enriched_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX source_articles_by_outcome ON source_articles(outcome);
    """,
    # 3: relate (issue 4). Each event's related events, and what the lists were computed from.
    """
    CREATE TABLE related (
        event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        rank INTEGER NOT NULL,            -- 1 = most related
        related_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        score REAL NOT NULL,              -- shared entities (ranker shared) or summed weight (weighted)
        context TEXT NOT NULL,            -- JSON list of the shared entity titles, alphabetical
        PRIMARY KEY (event_id, rank)
    ) WITHOUT ROWID;
    CREATE INDEX related_by_related ON related(related_id);
    CREATE TABLE relation (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        settings TEXT NOT NULL,           -- JSON: ranker, k and the weighted ranker's tuning
        computed_at TEXT NOT NULL
    );
    -- The events as the lists were computed from them. No foreign key: a row outlives its
    -- event until the next relate, which diffs this against the events to update the lists.
    CREATE TABLE relation_basis (
        event_id TEXT PRIMARY KEY,
        date TEXT NOT NULL,
        entities TEXT NOT NULL,           -- JSON list of entity titles, in the event's order
        listed INTEGER NOT NULL           -- length of its list then (fewer rows now: damaged)
    ) WITHOUT ROWID;
    """,
    # 4: explore (issue 7). Full-text search over each event's text, its entities and story
    # lines, and its sources' ledes and titles. Ingest fills it a day at a time
    # (``Store._index_day``); these triggers keep it current as events go and enrich
    # records what a source says.
    f"""
    CREATE TABLE search_docs (
        doc INTEGER PRIMARY KEY,          -- the event's rowid in event_search (an alias, so VACUUM keeps it)
        event_id TEXT NOT NULL UNIQUE
    );
    CREATE VIRTUAL TABLE event_search USING fts5(
        text, names, ledes, titles,       -- names: entities and story lines, one per line
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER events_leave_search AFTER DELETE ON events BEGIN
        DELETE FROM event_search WHERE rowid = (SELECT doc FROM search_docs WHERE event_id = old.id);
        DELETE FROM search_docs WHERE event_id = old.id;
    END;
    CREATE TRIGGER articles_enter_search AFTER INSERT ON source_articles BEGIN
        {_sources_to_search("new")}
    END;
    CREATE TRIGGER articles_change_search AFTER UPDATE ON source_articles BEGIN
        {_sources_to_search("new")}
    END;
    CREATE TRIGGER articles_leave_search AFTER DELETE ON source_articles BEGIN
        {_sources_to_search("old")}
    END;
    -- The events already stored, in site order.
    INSERT INTO search_docs (event_id) SELECT id FROM events ORDER BY date, position;
    INSERT INTO event_search (rowid, text, names, ledes, titles)
    SELECT d.doc, e.text,
        coalesce((SELECT group_concat(n.title, char(10)) FROM event_entities ee
                  JOIN entities n ON n.id = ee.entity_id WHERE ee.event_id = e.id), '')
        || char(10) || coalesce((SELECT group_concat(value, char(10)) FROM json_each(e.story)), ''),
        (SELECT group_concat(a.lede, char(10)) FROM event_sources es
         JOIN source_articles a ON a.source_id = es.source_id WHERE es.event_id = e.id AND a.outcome = 'ok'),
        (SELECT group_concat(a.title, char(10)) FROM event_sources es
         JOIN source_articles a ON a.source_id = es.source_id WHERE es.event_id = e.id AND a.outcome = 'ok')
    FROM events e JOIN search_docs d ON d.event_id = e.id;
    """,
    # 5: update (issue 6). The portal's day pages as pulled from the MediaWiki API, and
    # what changed since an update last published the site. Each change is recorded in
    # the transaction that makes it (replace_day, and the triggers below for related lists
    # and sources' metadata) and cleared only once the site is committed, so an update
    # killed at any point leaves the next one all it needs to finish the job.
    """
    CREATE TABLE portal_pages (
        date TEXT PRIMARY KEY,            -- the portal day
        title TEXT NOT NULL,              -- its wiki page: 'Portal:Current events/2024 May 7'
        revision INTEGER NOT NULL,        -- MediaWiki revision id of the text kept
        saved_at TEXT NOT NULL,           -- when that revision was saved on the wiki (ISO 8601, UTC)
        wikitext TEXT NOT NULL,
        pulled_at TEXT NOT NULL,
        ingested INTEGER                  -- the revision whose events the store holds (NULL: none)
    );
    -- One row from the first `daybook update` on: from then on changes are recorded below.
    CREATE TABLE publish_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        relate_due INTEGER NOT NULL DEFAULT 0,   -- a day changed since the related lists did
        publishing INTEGER NOT NULL DEFAULT 0    -- an update was writing the site and had not committed
    );
    CREATE TABLE publish_days (date TEXT PRIMARY KEY) WITHOUT ROWID;        -- day pages to render again
    CREATE TABLE publish_events (event_id TEXT PRIMARY KEY) WITHOUT ROWID;  -- event pages to render again
    CREATE TABLE publish_changes (                                          -- for the commit message
        event_id TEXT PRIMARY KEY,
        change TEXT NOT NULL CHECK (change IN ('added', 'edited', 'removed'))
    ) WITHOUT ROWID;
    -- Every list relate writes (new or changed) gets a basis row.
    CREATE TRIGGER lists_to_publish AFTER INSERT ON relation_basis
    WHEN EXISTS (SELECT 1 FROM publish_state) BEGIN
        INSERT OR IGNORE INTO publish_events (event_id) VALUES (new.event_id);
    END;
    -- A source's metadata shows on its events' pages and on their day pages.
    CREATE TRIGGER articles_to_publish AFTER INSERT ON source_articles
    WHEN new.outcome = 'ok' AND EXISTS (SELECT 1 FROM publish_state) BEGIN
        INSERT OR IGNORE INTO publish_days (date)
        SELECT DISTINCT e.date FROM event_sources es JOIN events e ON e.id = es.event_id
        WHERE es.source_id = new.source_id;
    END;
    """,
    # 6: relate incrementally (issue 4). The relation as relate last saved it, which the
    # next refresh resumes from instead of reading every event and list, and the days
    # whose events changed since: triggers note them, whatever changes events.
    """
    CREATE TABLE relation_snapshot (
        part INTEGER PRIMARY KEY,         -- 0: the relation packed; 1, 2...: each refresh's changes
        format INTEGER NOT NULL,          -- relation.SNAPSHOT_FORMAT
        data BLOB NOT NULL                -- marshal of Relation.state() (and the settings) or .delta()
    );
    -- A new change number at each change (AUTOINCREMENT never reuses one): a refresh
    -- clears the days it saw, not one changed again meanwhile.
    CREATE TABLE relate_days (
        change INTEGER PRIMARY KEY AUTOINCREMENT,
        date TEXT NOT NULL UNIQUE
    );
    CREATE TRIGGER events_to_relate AFTER INSERT ON events BEGIN
        DELETE FROM relate_days WHERE date = new.date;
        INSERT INTO relate_days (date) VALUES (new.date);
    END;
    CREATE TRIGGER events_from_relate AFTER DELETE ON events BEGIN
        DELETE FROM relate_days WHERE date = old.date;
        INSERT INTO relate_days (date) VALUES (old.date);
    END;
    CREATE TRIGGER events_moved_relate AFTER UPDATE OF id, date ON events BEGIN
        DELETE FROM relate_days WHERE date IN (old.date, new.date);
        INSERT INTO relate_days (date) VALUES (old.date);
        INSERT OR IGNORE INTO relate_days (date) VALUES (new.date);
    END;
    """,
    # 7: enrich (issue 6). Each origin's robots.txt as last read, so that updates every
    # few hours ask a host for it once a day (RFC 9309 allows a day's caching).
    """
    CREATE TABLE robots (
        origin TEXT PRIMARY KEY,          -- scheme://host[:port]
        status INTEGER NOT NULL,          -- HTTP status of the answer (a 4xx allows everything)
        body BLOB NOT NULL,
        fetched_at TEXT NOT NULL          -- ISO 8601, UTC
    ) WITHOUT ROWID;
    """,
    # 8: update (issue 6). Event pages are rendered again when their related list changes
    # as a page shows it (which events, the shared entities), not at every list rewritten
    # (a score that moved shows nowhere): save_relation records those, not a trigger.
    """
    DROP TRIGGER IF EXISTS lists_to_publish;
    """,
    # 9: fidelity. An event nested under a sourced event follows it up; and the portal's
    # own rendering of each pulled revision, which update ingests (the wikitext stays).
    """
    ALTER TABLE events ADD COLUMN parent TEXT;  -- the id of the event this one follows up
    ALTER TABLE portal_pages ADD COLUMN html TEXT;  -- action=parse of the same revision
    """,
    # 10: entities as Wikidata knows them (issue 15). What the MediaWiki API said of each
    # entity title, and when it was asked: the article a redirect leads to (its events'
    # entity rows are then the target's), the Wikidata item, the short description, the
    # Chinese Wikipedia's title, and whether it is a disambiguation page (kept out of relate).
    """
    CREATE TABLE entity_info (
        title TEXT PRIMARY KEY,           -- the entity title as events held it
        target TEXT,                      -- the article it redirects to (NULL: it is one)
        missing INTEGER NOT NULL DEFAULT 0,  -- 1: no such page on the wiki
        qid TEXT,                         -- Wikidata item, 'Q42' (of the target, for a redirect)
        description TEXT,                 -- the article's short description
        zh_title TEXT,                    -- its title on the Chinese Wikipedia
        disambiguation INTEGER NOT NULL DEFAULT 0,
        asked_at TEXT NOT NULL            -- ISO 8601, UTC
    );
    CREATE INDEX entity_info_by_target ON entity_info(target);
    """,
    # 11: update (issue 11). Each story line's events in site order, so that an update finds
    # the neighbours in its story of the events it shows (earlier and later in the story)
    # without reading every event's story. Written with the events (``_insert_event``).
    """
    CREATE TABLE story_events (
        line TEXT NOT NULL,               -- a story line the event is filed under, at any depth
        date TEXT NOT NULL,               -- the event's, and its position: site order
        position INTEGER NOT NULL,
        event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        innermost INTEGER NOT NULL,       -- 1: the line is the event's innermost (the last of its path)
        PRIMARY KEY (line, date, position)
    ) WITHOUT ROWID;
    CREATE INDEX story_events_by_event ON story_events(event_id);
    INSERT INTO story_events (line, date, position, event_id, innermost)
    SELECT j.value, e.date, e.position, e.id, max(j.key = json_array_length(e.story) - 1)
    FROM events e, json_each(e.story) j GROUP BY e.id, j.value;
    """,
    # 12: history (issue 21). Every wording an event has had, one row per pulled portal
    # revision that changed it (or first showed it); the last row is its wording now. No
    # foreign key: an event's history outlives it, should it come back. Pulled days already
    # ingested start with the revision their events were read from.
    """
    CREATE TABLE event_versions (
        event_id TEXT NOT NULL,
        revision INTEGER NOT NULL,        -- the portal revision (MediaWiki id) that held this wording
        saved_at TEXT NOT NULL,           -- when that revision was saved on the wiki (ISO 8601, UTC)
        text TEXT NOT NULL,
        PRIMARY KEY (event_id, revision)
    );
    -- Category pages and feeds (issue 21) read a category's events in site order.
    CREATE INDEX events_by_category ON events(category, date, position);
    INSERT INTO event_versions (event_id, revision, saved_at, text)
        SELECT e.id, p.revision, p.saved_at, e.text FROM events e JOIN portal_pages p ON p.date = e.date
        WHERE p.ingested = p.revision;
    """,
    # 13: speed (issue 13). A build asks each day for its events' follow-ups: without an
    # index on ``parent`` each asking read every event (at 150,000 events, most of a build).
    """
    CREATE INDEX events_by_parent ON events(parent) WHERE parent IS NOT NULL;
    """,
    # 14: many enrich workers on one store (issue 16). Each source a worker is fetching is
    # leased to it until ``expires`` (renewed while it lives; a dead worker's lapse), and each
    # host's next allowed request start is kept here, so workers share one politeness.
    # Times are seconds since the epoch by the database's clock (``Backend.clock``).
    """
    CREATE TABLE enrich_leases (
        source_id TEXT PRIMARY KEY REFERENCES sources(id),
        worker TEXT NOT NULL,             -- host:pid:nonce of the enrich run holding it
        expires REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX enrich_leases_by_worker ON enrich_leases(worker);
    CREATE TABLE host_turns (
        host TEXT PRIMARY KEY,
        next_start REAL NOT NULL          -- no request to the host starts before this
    ) WITHOUT ROWID;
    """,
    # 15: speed of an update (issue 11). Each new day makes its categories' pages again, and
    # a category holds up to a fifth of the archive: the index now holds the event's id too,
    # so its events in site order are read from the index alone (0.24 to 0.47 s for the 8
    # largest at 150,000 events, 0.13 s now).
    """
    DROP INDEX events_by_category;
    CREATE INDEX events_by_category ON events(category, date, position, id);
    """,
)


# -- PostgreSQL -------------------------------------------------------------------
# The same migrations, the same version numbers. A migration of plain tables, indexes and
# columns is translated (``postgresql``); one that SQLite and PostgreSQL cannot share
# (triggers, full-text search) has its PostgreSQL text here, under its index in MIGRATIONS.
# Text is compared byte by byte (COLLATE "C"), as SQLite does: the same ORDER BY, the same
# output, whatever the database's locale.


def _pg_sources_to_search(row: str) -> str:
    """PostgreSQL's ``_sources_to_search``: a trigger function's body."""
    agg = "string_agg({0}, chr(10) ORDER BY es.position)"
    return f"""
        UPDATE event_search s SET
            ledes = (SELECT {agg.format("a.lede")} FROM event_sources es
                     JOIN source_articles a ON a.source_id = es.source_id
                     WHERE es.event_id = d.event_id AND a.outcome = 'ok'),
            titles = (SELECT {agg.format("a.title")} FROM event_sources es
                      JOIN source_articles a ON a.source_id = es.source_id
                      WHERE es.event_id = d.event_id AND a.outcome = 'ok')
        FROM search_docs d
        WHERE d.doc = s.doc AND d.event_id IN
            (SELECT es.event_id FROM event_sources es WHERE es.source_id = {row}.source_id);"""


# The search index's words: text search configuration 'english' (Snowball stemmer, English
# stopwords) for FTS5's porter tokenizer; the columns weighted A-D as bm25's 10, 4, 1.5, 1.5.
PG_SEARCH_CONFIG = "english"

PG_MIGRATIONS: dict[int, str] = {
    3: f"""
    CREATE TABLE search_docs (
        doc BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        event_id TEXT COLLATE "C" NOT NULL UNIQUE
    );
    CREATE TABLE event_search (
        doc BIGINT PRIMARY KEY,
        text TEXT COLLATE "C" NOT NULL,
        names TEXT COLLATE "C" NOT NULL,
        ledes TEXT COLLATE "C",
        titles TEXT COLLATE "C",
        words tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('{PG_SEARCH_CONFIG}', text), 'A')
            || setweight(to_tsvector('{PG_SEARCH_CONFIG}', names), 'B')
            || setweight(to_tsvector('{PG_SEARCH_CONFIG}', coalesce(ledes, '')), 'C')
            || setweight(to_tsvector('{PG_SEARCH_CONFIG}', coalesce(titles, '')), 'D')
        ) STORED
    );
    CREATE INDEX event_search_words ON event_search USING GIN (words);
    CREATE FUNCTION events_leave_search() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM event_search WHERE doc = (SELECT doc FROM search_docs WHERE event_id = old.id);
        DELETE FROM search_docs WHERE event_id = old.id;
        RETURN NULL;
    END $$;
    CREATE TRIGGER events_leave_search AFTER DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION events_leave_search();
    CREATE FUNCTION articles_new_search() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {_pg_sources_to_search("new")} RETURN NULL; END $$;
    CREATE FUNCTION articles_old_search() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN {_pg_sources_to_search("old")} RETURN NULL; END $$;
    CREATE TRIGGER articles_enter_search AFTER INSERT OR UPDATE ON source_articles
        FOR EACH ROW EXECUTE FUNCTION articles_new_search();
    CREATE TRIGGER articles_leave_search AFTER DELETE ON source_articles
        FOR EACH ROW EXECUTE FUNCTION articles_old_search();
    INSERT INTO search_docs (event_id) SELECT id FROM events ORDER BY date, position;
    INSERT INTO event_search (doc, text, names, ledes, titles)
    SELECT d.doc, e.text,
        coalesce((SELECT string_agg(n.title, chr(10) ORDER BY ee.entity_id) FROM event_entities ee
                  JOIN entities n ON n.id = ee.entity_id WHERE ee.event_id = e.id), '')
        || chr(10) || coalesce((SELECT string_agg(value, chr(10))
                                FROM json_array_elements_text(CAST(e.story AS json))), ''),
        (SELECT string_agg(a.lede, chr(10) ORDER BY es.position) FROM event_sources es
         JOIN source_articles a ON a.source_id = es.source_id WHERE es.event_id = e.id AND a.outcome = 'ok'),
        (SELECT string_agg(a.title, chr(10) ORDER BY es.position) FROM event_sources es
         JOIN source_articles a ON a.source_id = es.source_id WHERE es.event_id = e.id AND a.outcome = 'ok')
    FROM events e JOIN search_docs d ON d.event_id = e.id;
    """,
    4: """
    CREATE TABLE portal_pages (
        date TEXT COLLATE "C" PRIMARY KEY,
        title TEXT COLLATE "C" NOT NULL,
        revision BIGINT NOT NULL,
        saved_at TEXT COLLATE "C" NOT NULL,
        wikitext TEXT COLLATE "C" NOT NULL,
        pulled_at TEXT COLLATE "C" NOT NULL,
        ingested BIGINT
    );
    CREATE TABLE publish_state (
        id BIGINT PRIMARY KEY CHECK (id = 1),
        relate_due BIGINT NOT NULL DEFAULT 0,
        publishing BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE publish_days (date TEXT COLLATE "C" PRIMARY KEY);
    CREATE TABLE publish_events (event_id TEXT COLLATE "C" PRIMARY KEY);
    CREATE TABLE publish_changes (
        event_id TEXT COLLATE "C" PRIMARY KEY,
        change TEXT COLLATE "C" NOT NULL CHECK (change IN ('added', 'edited', 'removed'))
    );
    CREATE FUNCTION lists_to_publish() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM publish_state) THEN
            INSERT INTO publish_events (event_id) VALUES (new.event_id) ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER lists_to_publish AFTER INSERT ON relation_basis
        FOR EACH ROW EXECUTE FUNCTION lists_to_publish();
    CREATE FUNCTION articles_to_publish() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF new.outcome = 'ok' AND EXISTS (SELECT 1 FROM publish_state) THEN
            INSERT INTO publish_days (date)
            SELECT DISTINCT e.date FROM event_sources es JOIN events e ON e.id = es.event_id
            WHERE es.source_id = new.source_id ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER articles_to_publish AFTER INSERT ON source_articles
        FOR EACH ROW EXECUTE FUNCTION articles_to_publish();
    """,
    5: """
    CREATE TABLE relation_snapshot (
        part BIGINT PRIMARY KEY,
        format BIGINT NOT NULL,
        data BYTEA NOT NULL
    );
    CREATE TABLE relate_days (
        change BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        date TEXT COLLATE "C" NOT NULL UNIQUE
    );
    CREATE FUNCTION events_to_relate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF tg_op IN ('INSERT', 'UPDATE') THEN
            DELETE FROM relate_days WHERE date = new.date;
        END IF;
        IF tg_op IN ('DELETE', 'UPDATE') THEN
            DELETE FROM relate_days WHERE date = old.date;
            INSERT INTO relate_days (date) VALUES (old.date);
        END IF;
        IF tg_op IN ('INSERT', 'UPDATE') THEN
            INSERT INTO relate_days (date) VALUES (new.date) ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER events_to_relate AFTER INSERT OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION events_to_relate();
    CREATE TRIGGER events_moved_relate AFTER UPDATE OF id, date ON events
        FOR EACH ROW EXECUTE FUNCTION events_to_relate();
    """,
    7: """
    DROP TRIGGER IF EXISTS lists_to_publish ON relation_basis;
    """,
}

# Migration 11 (index 10) fills its table from each event's story, a JSON list.
PG_MIGRATIONS[10] = """
    CREATE TABLE story_events (
        line TEXT COLLATE "C" NOT NULL,
        date TEXT COLLATE "C" NOT NULL,
        position BIGINT NOT NULL,
        event_id TEXT COLLATE "C" NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        innermost BIGINT NOT NULL,
        PRIMARY KEY (line, date, position)
    );
    CREATE INDEX story_events_by_event ON story_events(event_id);
    INSERT INTO story_events (line, date, position, event_id, innermost)
    SELECT j.value, e.date, e.position, e.id,
        max(CASE WHEN j.n = json_array_length(CAST(e.story AS json)) THEN 1 ELSE 0 END)
    FROM events e, json_array_elements_text(CAST(e.story AS json)) WITH ORDINALITY j(value, n)
    GROUP BY e.id, j.value;
    """

_PG_TYPES = (
    (re.compile(r"\bWITHOUT ROWID\b"), ""),
    (
        re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"),
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    (
        re.compile(r"\bINTEGER PRIMARY KEY(?=\s*,|\s*$)", re.M),
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    ),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
    (re.compile(r"\bTEXT\b"), 'TEXT COLLATE "C"'),
)


def postgresql(number: int) -> str:
    """Migration ``number`` (0-based) for PostgreSQL: its own text, else the SQLite one
    translated (comments dropped; SQLite's types as PostgreSQL's, text compared as bytes)."""
    if number in PG_MIGRATIONS:
        return PG_MIGRATIONS[number]
    script = re.sub(r"--[^\n]*", "", MIGRATIONS[number])
    for pattern, replacement in _PG_TYPES:
        script = pattern.sub(replacement, script)
    return script
