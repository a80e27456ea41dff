-- The audit log: who changed what, and when. Append-only; `seq` orders it.
CREATE TABLE cem_audit_log (
    seq          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization UUID        NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    actor        TEXT        NOT NULL,
    action       TEXT        NOT NULL,
    target       TEXT        NOT NULL,
    detail       JSONB       NOT NULL
);
CREATE INDEX cem_audit_log_organization ON cem_audit_log (organization, seq);
