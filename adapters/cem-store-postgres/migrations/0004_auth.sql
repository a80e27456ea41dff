-- The authentication store: devices of branches and access tokens.
--
-- `cem_devices` has the shape of the organization tables (0002): `owner` is the branch, a
-- foreign key, and there is no unique key.
CREATE TABLE cem_devices (
    seq   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id    UUID NOT NULL UNIQUE,
    owner UUID NOT NULL REFERENCES cem_branches (id),
    key   TEXT,
    doc   JSONB NOT NULL
);
CREATE INDEX cem_devices_owner ON cem_devices (owner);

-- One row per token. `digest` (hex SHA-256 of the secret) is unique: that constraint is what
-- turns a duplicate into a conflict. `seq` keeps the order of insertion. The subject is a user
-- or a device (no foreign key: it names one of two tables; a token for a device is inserted
-- under a key-share lock on the device's row, so it cannot outlive a concurrent deletion).
CREATE TABLE cem_access_tokens (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    digest       TEXT NOT NULL UNIQUE,
    organization UUID NOT NULL REFERENCES cem_organizations (id),
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('user', 'device')),
    subject_id   UUID NOT NULL,
    label        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX cem_access_tokens_subject ON cem_access_tokens (subject_kind, subject_id, seq);
