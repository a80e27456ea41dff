-- The authentication store: devices of branches and access tokens.
--
-- (Numbered as in the PostgreSQL adapter, whose 0003 has no SQLite counterpart; sqlx applies
-- migrations in version order and accepts the gap.)
--
-- `devices` has the shape of the organization tables (0002): `owner` is the branch, a foreign
-- key, and there is no unique key.
CREATE TABLE devices (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    id    BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    owner BLOB NOT NULL REFERENCES branches (id),
    key   TEXT,
    doc   TEXT NOT NULL
);
CREATE INDEX devices_owner ON devices (owner);

-- One row per token. `digest` (hex SHA-256 of the secret) is unique: that constraint is what
-- turns a duplicate into a conflict. `seq` keeps the order of insertion. The subject is a user
-- or a device (no foreign key: it names one of two tables). Instants are microseconds since the
-- Unix epoch, as in `queue_events`.
CREATE TABLE access_tokens (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    digest       TEXT NOT NULL UNIQUE,
    organization BLOB NOT NULL REFERENCES organizations (id),
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('user', 'device')),
    subject_id   BLOB NOT NULL CHECK (length(subject_id) = 16),
    label        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX access_tokens_subject ON access_tokens (subject_kind, subject_id, seq);
