-- The organization store: one table per kind of record, all of one shape.
--
-- `seq` keeps the order in which records were first put (an upsert keeps its row).
-- `id` is the record's UUID (16 bytes); `owner` the UUID of the organization or branch it belongs
-- to, a foreign key so a record can never name an owner that does not exist.
-- `key` is the normalized unique key (a class code, a service prefix, a counter number, a login),
-- NULL where the kind has none; its UNIQUE constraint is what turns a taken key into a conflict.
-- `doc` is the record as JSON.
CREATE TABLE organizations (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    id    BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    owner BLOB NOT NULL,
    key   TEXT,
    doc   TEXT NOT NULL
);

CREATE TABLE priority_classes (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    id    BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    owner BLOB NOT NULL REFERENCES organizations (id),
    key   TEXT NOT NULL,
    doc   TEXT NOT NULL,
    UNIQUE (owner, key)
);

CREATE TABLE branches (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    id    BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    owner BLOB NOT NULL REFERENCES organizations (id),
    key   TEXT,
    doc   TEXT NOT NULL
);
CREATE INDEX branches_owner ON branches (owner);

CREATE TABLE services (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    id    BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    owner BLOB NOT NULL REFERENCES branches (id),
    key   TEXT NOT NULL,
    doc   TEXT NOT NULL,
    UNIQUE (owner, key)
);

CREATE TABLE counters (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    id    BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    owner BLOB NOT NULL REFERENCES branches (id),
    key   TEXT NOT NULL,
    doc   TEXT NOT NULL,
    UNIQUE (owner, key)
);

CREATE TABLE agents (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    id    BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    owner BLOB NOT NULL REFERENCES organizations (id),
    key   TEXT,
    doc   TEXT NOT NULL
);
CREATE INDEX agents_owner ON agents (owner);

-- Logins are unique across the whole store: a user signs in before any organization is known.
CREATE TABLE users (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    id    BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    owner BLOB NOT NULL REFERENCES organizations (id),
    key   TEXT NOT NULL UNIQUE,
    doc   TEXT NOT NULL
);
CREATE INDEX users_owner ON users (owner);
