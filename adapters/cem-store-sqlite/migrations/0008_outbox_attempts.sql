-- The outbox's delivery log: one row per settled attempt of a message, written in the
-- transaction that settles it.
--
-- `message` is the message's id (16 bytes), `at` when the attempt was settled in microseconds
-- since the Unix epoch, `state` the message's state afterwards ('pending' for an attempt to
-- retry). `number` restarts at 1 when a dead message is replayed, so (message, number) is not
-- unique: `seq` orders the log, and AUTOINCREMENT keeps it growing even past deleted rows.
-- `error` is cleared when the recipient is erased (it may quote the address).
CREATE TABLE outbox_attempts (
    seq     INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    message BLOB    NOT NULL REFERENCES outbox_messages (id) CHECK (length(message) = 16),
    number  INTEGER NOT NULL CHECK (number >= 1),
    at      INTEGER NOT NULL,
    state   TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    error   TEXT
);
-- Reading a message's log in order; erasing its errors.
CREATE INDEX outbox_attempts_message ON outbox_attempts (message, seq);

-- A recipient's messages in an organization, the latest created first.
CREATE INDEX outbox_messages_sent_to ON outbox_messages (organization, recipient, created_at);
