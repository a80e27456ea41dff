-- The outbox's delivery log: one row per settled attempt of a message, written by the
-- statement that settles it.
--
-- `at` is when the attempt was settled and `state` the message's state afterwards ('pending'
-- for an attempt to retry). `number` restarts at 1 when a dead message is replayed, so
-- (message, number) is not unique: `seq` orders the log. Settles of one message take turns on
-- its row's lock, so their `seq` follows the order they were settled in. `error` is cleared
-- when the recipient is erased (it may quote the address).
CREATE TABLE cem_outbox_attempts (
    seq     BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message UUID        NOT NULL REFERENCES cem_outbox_messages (id),
    number  INTEGER     NOT NULL CHECK (number >= 1),
    at      TIMESTAMPTZ NOT NULL,
    state   TEXT        NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    error   TEXT
);
-- Reading a message's log in order; erasing its errors.
CREATE INDEX cem_outbox_attempts_message ON cem_outbox_attempts (message, seq);

-- A recipient's messages in an organization, the latest created first.
CREATE INDEX cem_outbox_messages_sent_to
    ON cem_outbox_messages (organization, recipient, created_at DESC, id DESC);
