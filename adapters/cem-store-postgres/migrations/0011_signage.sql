-- Signage: layouts, screens, playlists, news and the public information of branches.
--
-- Each record is a JSONB document (`doc`) beside the few columns that the store looks up,
-- orders by or keeps a rule with. A put replaces by id with one upsert whose update applies
-- only when the stored row has the same organization: a record never changes owner. Names
-- order in byte order (COLLATE "C"), as Rust's strings do.

-- UNIQUE (id, organization) is what the screens' foreign key points at: a screen's layout
-- must be its own organization's.
CREATE TABLE cem_layouts (
    id           UUID  PRIMARY KEY,
    organization UUID  NOT NULL,
    name         TEXT  NOT NULL,
    doc          JSONB NOT NULL CHECK (jsonb_typeof(doc) = 'object'),
    CONSTRAINT cem_layouts_id_organization_key UNIQUE (id, organization)
);
-- An organization's layouts by name then id.
CREATE INDEX cem_layouts_organization ON cem_layouts (organization, name COLLATE "C", id);

-- The foreign key keeps a screen's layout existing in the screen's organization, under
-- concurrency too: storing a screen locks its layout's row (FOR KEY SHARE) until the commit,
-- and deleting a layout waits for that lock, then finds the screen and fails; a screen
-- stored while a deletion is in flight waits for it, then finds no layout and fails.
-- `device` is unique, NULLs apart.
CREATE TABLE cem_screens (
    id           UUID  PRIMARY KEY,
    organization UUID  NOT NULL,
    branch       UUID  NOT NULL,
    name         TEXT  NOT NULL,
    layout       UUID  NOT NULL,
    device       UUID,
    doc          JSONB NOT NULL CHECK (jsonb_typeof(doc) = 'object'),
    CONSTRAINT cem_screens_device_key UNIQUE (device),
    CONSTRAINT cem_screens_layout_fkey FOREIGN KEY (layout, organization)
        REFERENCES cem_layouts (id, organization)
);
-- A branch's screens by name then id.
CREATE INDEX cem_screens_branch ON cem_screens (branch, name COLLATE "C", id);
-- Deleting a layout looks for the screens that show it.
CREATE INDEX cem_screens_layout ON cem_screens (layout, organization);

CREATE TABLE cem_playlists (
    id           UUID  PRIMARY KEY,
    organization UUID  NOT NULL,
    name         TEXT  NOT NULL,
    doc          JSONB NOT NULL CHECK (jsonb_typeof(doc) = 'object')
);
-- An organization's playlists by name then id.
CREATE INDEX cem_playlists_organization
    ON cem_playlists (organization, name COLLATE "C", id);

-- `publish_from` as in the document (both cut to the microsecond before they are written).
CREATE TABLE cem_news (
    id           UUID        PRIMARY KEY,
    organization UUID        NOT NULL,
    publish_from TIMESTAMPTZ NOT NULL,
    doc          JSONB       NOT NULL CHECK (jsonb_typeof(doc) = 'object')
);
-- An organization's news by publication then id.
CREATE INDEX cem_news_organization ON cem_news (organization, publish_from, id);

-- One row per branch that has information. The location is two DOUBLE PRECISION columns, not
-- part of the document: they keep an f64 to the bit, where JSON text read back by serde_json
-- without its `float_roundtrip` feature may be off by one unit in the last place.
CREATE TABLE cem_branch_info (
    branch       UUID             PRIMARY KEY,
    organization UUID             NOT NULL,
    lat          DOUBLE PRECISION,
    lon          DOUBLE PRECISION,
    doc          JSONB            NOT NULL CHECK (jsonb_typeof(doc) = 'object'),
    CHECK ((lat IS NULL) = (lon IS NULL))
);
-- An organization's branch information by branch.
CREATE INDEX cem_branch_info_organization ON cem_branch_info (organization, branch);
