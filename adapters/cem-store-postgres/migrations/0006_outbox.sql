-- The outbox: messages waiting to leave, with their delivery record, and the cursors of the
-- projections that enqueue them.
--
-- `state` is 'pending', 'delivered' or 'dead'. A pending message is due at `next_attempt_at`
-- and, while an attempt is in progress, leased until `lease_until`. `attempts` counts the
-- attempts claimed (the one in progress included); `settle` compares it to tell a late
-- outcome from the current one.
CREATE TABLE cem_outbox_messages (
    id              UUID        PRIMARY KEY,
    organization    UUID        NOT NULL,
    channel         TEXT        NOT NULL CHECK (channel IN ('sms', 'email', 'webhook')),
    recipient       TEXT        NOT NULL,
    kind            TEXT        NOT NULL,
    language        TEXT        NOT NULL,
    subject         TEXT,
    body            TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    state           TEXT        NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT,
    settled_at      TIMESTAMPTZ
);
-- Claiming: the due pending messages, earliest first.
CREATE INDEX cem_outbox_messages_due ON cem_outbox_messages (state, next_attempt_at, id);
-- Listing an organization's dead messages, the latest to die first.
CREATE INDEX cem_outbox_messages_dead ON cem_outbox_messages (organization, settled_at DESC, id DESC)
    WHERE state = 'dead';
-- Erasing a recipient.
CREATE INDEX cem_outbox_messages_recipient ON cem_outbox_messages (recipient);

-- A named position in the event history, moved in the transaction that enqueues what the
-- events before it caused; it never moves backwards.
CREATE TABLE cem_outbox_cursors (
    name     TEXT   PRIMARY KEY,
    position BIGINT NOT NULL CHECK (position >= 0)
);
