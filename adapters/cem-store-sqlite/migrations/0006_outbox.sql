-- The outbox: messages waiting to leave, with their delivery record, and the cursors of the
-- projections that enqueue them.
--
-- `id` and `organization` are UUIDs (16 bytes); instants are microseconds since the Unix epoch,
-- as in `queue_events`. No foreign key on `organization`: messages outlive what caused them.
-- `lease_until` is set while an attempt is in progress and cleared when it is settled.
CREATE TABLE outbox_messages (
    id              BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    organization    BLOB    NOT NULL CHECK (length(organization) = 16),
    channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'email', 'webhook')),
    recipient       TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    language        TEXT    NOT NULL,
    subject         TEXT,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    last_error      TEXT,
    settled_at      INTEGER
);
-- Claiming: pending messages by due instant.
CREATE INDEX outbox_messages_due ON outbox_messages (state, next_attempt_at);
-- Listing an organization's dead messages, the latest to die first.
CREATE INDEX outbox_messages_dead ON outbox_messages (organization, settled_at)
    WHERE state = 'dead';
-- Erasing a recipient.
CREATE INDEX outbox_messages_recipient ON outbox_messages (recipient);

-- Named positions in the event history; they only move forwards.
CREATE TABLE outbox_cursors (
    name     TEXT    NOT NULL PRIMARY KEY,
    position INTEGER NOT NULL CHECK (position >= 0)
);
