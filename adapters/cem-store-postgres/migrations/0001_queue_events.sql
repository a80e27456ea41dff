-- The queue event streams of all branches, one row per event.
--
-- `position` is the global history order. It is not a sequence: `cem_append_events` assigns it
-- under a global advisory lock, so positions become visible in commit order and never leave holes.
CREATE TABLE cem_queue_events (
    position BIGINT      PRIMARY KEY,
    branch   UUID        NOT NULL,
    version  BIGINT      NOT NULL,
    at       TIMESTAMPTZ NOT NULL,
    kind     TEXT        NOT NULL,
    payload  JSONB       NOT NULL,
    -- Optimistic concurrency: of two writers of the same version, the second gets 23505.
    CONSTRAINT cem_queue_events_stream_version UNIQUE (branch, version),
    CONSTRAINT cem_queue_events_position_positive CHECK (position > 0),
    CONSTRAINT cem_queue_events_version_positive CHECK (version > 0)
);

-- read_time_range and reports by period and by event type.
CREATE INDEX cem_queue_events_at ON cem_queue_events (at, position);
CREATE INDEX cem_queue_events_kind_at ON cem_queue_events (kind, at);

-- The latest snapshot of each stream.
CREATE TABLE cem_queue_snapshots (
    branch  UUID   PRIMARY KEY,
    version BIGINT NOT NULL,
    format  BIGINT NOT NULL,
    data    BYTEA  NOT NULL
);

-- Appends events to one stream if it is at version `p_expected`.
--
-- Returns one row: `first_position` (NULL when the stream was not at `p_expected`, in which case
-- nothing was written) and `current_version` (the stream's version before the append).
--
-- Why a lock and not a BIGSERIAL: a sequence hands out numbers in call order, but transactions
-- commit in any order, so a reader could see position 11 committed while 10 is still in flight
-- and then miss 10 when it commits (it would appear below a position already seen). Taking one
-- transaction-scoped advisory lock before reading the last position makes appends hold the
-- position counter one at a time: the lock is released only after the commit is visible, so the
-- next appender's positions are higher than, and become visible after, every earlier one.
-- The key 4847365585652503877 is b"CEMQUEUE" read as a big-endian integer.
--
-- A function (VOLATILE plpgsql: each statement takes a fresh snapshot, so the reads below see
-- everything committed before the lock was granted) keeps the whole append to one round trip,
-- so the global lock is never held across the network.
CREATE FUNCTION cem_append_events(
    p_branch   UUID,
    p_expected BIGINT,
    p_at       TIMESTAMPTZ[],
    p_kind     TEXT[],
    p_payload  JSONB[],
    OUT first_position  BIGINT,
    OUT current_version BIGINT
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    last_position BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(4847365585652503877);

    SELECT COALESCE(MAX(e.version), 0) INTO current_version
        FROM cem_queue_events e WHERE e.branch = p_branch;
    IF current_version <> p_expected THEN
        first_position := NULL;
        RETURN;
    END IF;

    SELECT COALESCE(MAX(e.position), 0) INTO last_position FROM cem_queue_events e;
    first_position := last_position + 1;

    -- The unique (branch, version) key stays the last word: a writer that bypassed this
    -- function still cannot create a second event at the same version.
    INSERT INTO cem_queue_events (position, branch, version, at, kind, payload)
        SELECT last_position + i.n, p_branch, p_expected + i.n, i.at, i.kind, i.payload
        FROM unnest(p_at, p_kind, p_payload) WITH ORDINALITY AS i (at, kind, payload, n);
END
$$;
