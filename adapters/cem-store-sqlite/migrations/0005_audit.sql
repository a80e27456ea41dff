-- The audit log: who changed what, and when. Append-only; `seq` orders it.
-- `organization` is the organization's UUID (16 bytes); `at` microseconds since the epoch;
-- `detail` the record written, as JSON text.
CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    organization BLOB    NOT NULL CHECK (length(organization) = 16),
    at           INTEGER NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    target       TEXT    NOT NULL,
    detail       TEXT    NOT NULL
);
CREATE INDEX audit_log_organization ON audit_log (organization, seq);
