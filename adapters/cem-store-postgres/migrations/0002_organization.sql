-- The organization store: one table per kind of record, all of one shape.
--
-- `seq` keeps the order in which records were first put (an upsert keeps its row).
-- `id` is the record's UUID; `owner` the UUID of the organization or branch it belongs
-- to, a foreign key so a record can never name an owner that does not exist.
-- `key` is the normalized unique key (a class code, a service prefix, a counter number, a login),
-- NULL where the kind has none; its UNIQUE constraint is what turns a taken key into a conflict.
-- `doc` is the record as JSONB.
CREATE TABLE cem_organizations (
    seq   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id    UUID NOT NULL UNIQUE,
    owner UUID NOT NULL,
    key   TEXT,
    doc   JSONB NOT NULL
);

CREATE TABLE cem_priority_classes (
    seq   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id    UUID NOT NULL UNIQUE,
    owner UUID NOT NULL REFERENCES cem_organizations (id),
    key   TEXT NOT NULL,
    doc   JSONB NOT NULL,
    UNIQUE (owner, key)
);

CREATE TABLE cem_branches (
    seq   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id    UUID NOT NULL UNIQUE,
    owner UUID NOT NULL REFERENCES cem_organizations (id),
    key   TEXT,
    doc   JSONB NOT NULL
);
CREATE INDEX cem_branches_owner ON cem_branches (owner);

CREATE TABLE cem_services (
    seq   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id    UUID NOT NULL UNIQUE,
    owner UUID NOT NULL REFERENCES cem_branches (id),
    key   TEXT NOT NULL,
    doc   JSONB NOT NULL,
    UNIQUE (owner, key)
);

CREATE TABLE cem_counters (
    seq   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id    UUID NOT NULL UNIQUE,
    owner UUID NOT NULL REFERENCES cem_branches (id),
    key   TEXT NOT NULL,
    doc   JSONB NOT NULL,
    UNIQUE (owner, key)
);

CREATE TABLE cem_agents (
    seq   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id    UUID NOT NULL UNIQUE,
    owner UUID NOT NULL REFERENCES cem_organizations (id),
    key   TEXT,
    doc   JSONB NOT NULL
);
CREATE INDEX cem_agents_owner ON cem_agents (owner);

-- Logins are unique across the whole store: a user signs in before any organization is known.
CREATE TABLE cem_users (
    seq   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id    UUID NOT NULL UNIQUE,
    owner UUID NOT NULL REFERENCES cem_organizations (id),
    key   TEXT NOT NULL UNIQUE,
    doc   JSONB NOT NULL
);
CREATE INDEX cem_users_owner ON cem_users (owner);
