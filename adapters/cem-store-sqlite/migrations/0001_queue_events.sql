-- The event streams of branch queues and their snapshots.
--
-- `position` is the global history: AUTOINCREMENT never reuses a value, and SQLite's single
-- writer assigns positions in commit order.
-- `branch` is the branch UUID's 16 bytes.
-- `at` is the domain instant in microseconds since the Unix epoch (UTC), so it sorts and compares
-- as an integer and round-trips exactly.
-- `payload` is the event's JSON text.
-- UNIQUE (branch, version) is the optimistic-concurrency key, and its index serves stream reads.
CREATE TABLE queue_events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    branch   BLOB    NOT NULL CHECK (length(branch) = 16),
    version  INTEGER NOT NULL CHECK (version >= 1),
    at       INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    payload  TEXT    NOT NULL,
    UNIQUE (branch, version)
);

-- Reports read by time range; SQLite appends the rowid (position) to every index entry.
CREATE INDEX queue_events_at ON queue_events (at);

CREATE TABLE queue_snapshots (
    branch  BLOB    PRIMARY KEY NOT NULL CHECK (length(branch) = 16),
    version INTEGER NOT NULL,
    format  INTEGER NOT NULL,
    data    BLOB    NOT NULL
) WITHOUT ROWID;
