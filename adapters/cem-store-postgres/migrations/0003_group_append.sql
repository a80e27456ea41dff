-- Appends of several callers in one transaction (group commit), each with its own version
-- check: one WAL flush for the whole batch instead of one per append.
--
-- Member i appends `p_count[i]` events to stream `p_branch[i]` if that stream is at version
-- `p_expected[i]`; its events are the next `p_count[i]` entries of the flat arrays `p_at`,
-- `p_kind` and `p_payload` (members in order). Members are checked and written in order, as if
-- appended one after the other: a member whose stream is not at its expected version writes
-- nothing and does not stop the others, and a later member of the same stream sees the
-- version the earlier ones left.
--
-- Returns one row per member, ordered by `member` (1-based): `first_position` (NULL when the
-- stream was not at the expected version) and `current_version` (the stream's version just
-- before that member).
--
-- It takes the same global advisory lock as `cem_append_events` (0001) before reading the last
-- position, so both functions can be used side by side and positions still become visible in
-- commit order without holes.
CREATE FUNCTION cem_append_batch(
    p_branch   UUID[],
    p_expected BIGINT[],
    p_count    INT[],
    p_at       TIMESTAMPTZ[],
    p_kind     TEXT[],
    p_payload  JSONB[]
)
RETURNS TABLE (member INT, first_position BIGINT, current_version BIGINT)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    last_position BIGINT;
    -- The version of every stream seen so far in this batch (small: one entry per stream).
    seen_branch   UUID[]   := '{}';
    seen_version  BIGINT[] := '{}';
    seen          INT;
    first_event   INT := 1;
BEGIN
    IF cardinality(p_expected) IS DISTINCT FROM cardinality(p_branch)
        OR cardinality(p_count) IS DISTINCT FROM cardinality(p_branch)
        OR cardinality(p_kind) IS DISTINCT FROM cardinality(p_at)
        OR cardinality(p_payload) IS DISTINCT FROM cardinality(p_at)
    THEN
        RAISE EXCEPTION 'cem_append_batch: arrays of different lengths';
    END IF;

    PERFORM pg_advisory_xact_lock(4847365585652503877);

    SELECT COALESCE(MAX(e.position), 0) INTO last_position FROM cem_queue_events e;

    FOR i IN 1 .. cardinality(p_branch) LOOP
        member := i;
        IF p_count[i] IS NULL OR p_count[i] < 1 THEN
            RAISE EXCEPTION 'cem_append_batch: append % has no events', i;
        END IF;
        seen := array_position(seen_branch, p_branch[i]);
        IF seen IS NULL THEN
            SELECT COALESCE(MAX(e.version), 0) INTO current_version
                FROM cem_queue_events e WHERE e.branch = p_branch[i];
            seen_branch := seen_branch || p_branch[i];
            seen_version := seen_version || current_version;
            seen := cardinality(seen_branch);
        ELSE
            current_version := seen_version[seen];
        END IF;

        IF current_version = p_expected[i] THEN
            first_position := last_position + 1;
            -- The unique (branch, version) key stays the last word, as in 0001.
            INSERT INTO cem_queue_events (position, branch, version, at, kind, payload)
                SELECT last_position + x.n, p_branch[i], p_expected[i] + x.n,
                       x.at, x.kind, x.payload
                FROM unnest(
                    p_at[first_event : first_event + p_count[i] - 1],
                    p_kind[first_event : first_event + p_count[i] - 1],
                    p_payload[first_event : first_event + p_count[i] - 1]
                ) WITH ORDINALITY AS x (at, kind, payload, n);
            last_position := last_position + p_count[i];
            seen_version[seen] := p_expected[i] + p_count[i];
        ELSE
            first_position := NULL;
        END IF;

        first_event := first_event + p_count[i];
        RETURN NEXT;
    END LOOP;

    -- Checked last, so the usual call pays no extra query; raising rolls everything back.
    IF first_event - 1 IS DISTINCT FROM cardinality(p_at) THEN
        RAISE EXCEPTION 'cem_append_batch: % events given, the counts add up to %',
            cardinality(p_at), first_event - 1;
    END IF;
END
$$;
