-- Signage: layouts, screens, playlists, news and the public information of branches.
--
-- Each record is a JSON document (`doc`) beside the few columns that the store looks up,
-- orders by or keeps a rule with. A put replaces by id with one upsert whose update applies
-- only when the stored row has the same organization: a record never changes owner.
-- Names compare by bytes (SQLite's BINARY collation), as Rust's strings do.

-- UNIQUE (id, organization) is what the screens' foreign key points at: a screen's layout
-- must be its own organization's.
CREATE TABLE layouts (
    id           BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    organization BLOB NOT NULL CHECK (length(organization) = 16),
    name         TEXT NOT NULL,
    doc          TEXT NOT NULL CHECK (json_valid(doc) AND json_type(doc) = 'object'),
    UNIQUE (id, organization)
);
-- An organization's layouts by name then id.
CREATE INDEX layouts_organization ON layouts (organization, name, id);

-- The foreign key keeps a screen's layout existing in the screen's organization: the store
-- opens every connection with `foreign_keys = ON`, and the constraint is checked inside the
-- writing statement, under SQLite's write lock, so of a client storing a screen and one
-- deleting its layout one fails whatever their order. `device` is unique, NULLs apart.
CREATE TABLE screens (
    id           BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    organization BLOB NOT NULL CHECK (length(organization) = 16),
    branch       BLOB NOT NULL CHECK (length(branch) = 16),
    name         TEXT NOT NULL,
    layout       BLOB NOT NULL CHECK (length(layout) = 16),
    device       BLOB UNIQUE CHECK (length(device) = 16),
    doc          TEXT NOT NULL CHECK (json_valid(doc) AND json_type(doc) = 'object'),
    FOREIGN KEY (layout, organization) REFERENCES layouts (id, organization)
);
-- A branch's screens by name then id.
CREATE INDEX screens_branch ON screens (branch, name, id);
-- Deleting a layout looks for the screens that show it.
CREATE INDEX screens_layout ON screens (layout, organization);

CREATE TABLE playlists (
    id           BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    organization BLOB NOT NULL CHECK (length(organization) = 16),
    name         TEXT NOT NULL,
    doc          TEXT NOT NULL CHECK (json_valid(doc) AND json_type(doc) = 'object')
);
-- An organization's playlists by name then id.
CREATE INDEX playlists_organization ON playlists (organization, name, id);

-- `publish_from` in microseconds since the Unix epoch, as in the document (both cut to the
-- microsecond before they are written).
CREATE TABLE news (
    id           BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    organization BLOB    NOT NULL CHECK (length(organization) = 16),
    publish_from INTEGER NOT NULL,
    doc          TEXT    NOT NULL CHECK (json_valid(doc) AND json_type(doc) = 'object')
);
-- An organization's news by publication then id.
CREATE INDEX news_organization ON news (organization, publish_from, id);

-- One row per branch that has information. The location is two REAL columns, not part of the
-- document: a REAL keeps an f64 to the bit, where JSON text read back by serde_json without
-- its `float_roundtrip` feature may be off by one unit in the last place.
CREATE TABLE branch_info (
    branch       BLOB NOT NULL PRIMARY KEY CHECK (length(branch) = 16),
    organization BLOB NOT NULL CHECK (length(organization) = 16),
    lat          REAL,
    lon          REAL,
    doc          TEXT NOT NULL CHECK (json_valid(doc) AND json_type(doc) = 'object'),
    CHECK ((lat IS NULL) = (lon IS NULL))
);
-- An organization's branch information by branch.
CREATE INDEX branch_info_organization ON branch_info (organization, branch);
