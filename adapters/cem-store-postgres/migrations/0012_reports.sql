-- Reports at scale: the hourly aggregates a projection folds from the queue history, and the
-- cursors of the projections (how far each has read the global history).
--
-- One row per branch, local date, local hour and service. The KPI counts and sums are plain
-- BIGINT columns that reports add with SUM (the longest wait with MAX); the waits histogram is
-- two arrays of equal length, buckets ascending and their counts, that reports merge with
-- unnest … GROUP BY bucket. A write replaces every row of a (branch, day): the primary key
-- starts with those two columns, so both the replacement and a report over a range of days of
-- some branches walk the index.
CREATE TABLE cem_report_hours (
    branch               UUID     NOT NULL,
    day                  DATE     NOT NULL,
    hour                 SMALLINT NOT NULL CHECK (hour BETWEEN 0 AND 23),
    service              UUID     NOT NULL,
    arrived              BIGINT   NOT NULL,
    transferred_in       BIGINT   NOT NULL,
    called               BIGINT   NOT NULL,
    served               BIGINT   NOT NULL,
    no_show              BIGINT   NOT NULL,
    cancelled            BIGINT   NOT NULL,
    transferred_out      BIGINT   NOT NULL,
    wait_ms              BIGINT   NOT NULL,
    wait_max_ms          BIGINT   NOT NULL,
    with_target          BIGINT   NOT NULL,
    within_target        BIGINT   NOT NULL,
    service_ms           BIGINT   NOT NULL,
    appointments         BIGINT   NOT NULL,
    appointments_on_time BIGINT   NOT NULL,
    lateness_ms          BIGINT   NOT NULL,
    wait_buckets         SMALLINT[] NOT NULL,
    wait_counts          BIGINT[]   NOT NULL
        CHECK (cardinality(wait_buckets) = cardinality(wait_counts)),
    PRIMARY KEY (branch, day, hour, service)
);

-- The same figures summed over each day's hours, written in the transaction that writes the
-- hours: a report over whole days reads one row per branch, day and service instead of one
-- per hour (about ten times fewer rows and histogram entries to merge).
CREATE TABLE cem_report_days (
    branch               UUID     NOT NULL,
    day                  DATE     NOT NULL,
    service              UUID     NOT NULL,
    arrived              BIGINT   NOT NULL,
    transferred_in       BIGINT   NOT NULL,
    called               BIGINT   NOT NULL,
    served               BIGINT   NOT NULL,
    no_show              BIGINT   NOT NULL,
    cancelled            BIGINT   NOT NULL,
    transferred_out      BIGINT   NOT NULL,
    wait_ms              BIGINT   NOT NULL,
    wait_max_ms          BIGINT   NOT NULL,
    with_target          BIGINT   NOT NULL,
    within_target        BIGINT   NOT NULL,
    service_ms           BIGINT   NOT NULL,
    appointments         BIGINT   NOT NULL,
    appointments_on_time BIGINT   NOT NULL,
    lateness_ms          BIGINT   NOT NULL,
    wait_buckets         SMALLINT[] NOT NULL,
    wait_counts          BIGINT[]   NOT NULL
        CHECK (cardinality(wait_buckets) = cardinality(wait_counts)),
    PRIMARY KEY (branch, day, service)
);

-- A projection's cursor: the last global event position it folded. Writes move it with a
-- compare-and-set in the transaction that writes their rows.
CREATE TABLE cem_report_cursors (
    name     TEXT   NOT NULL PRIMARY KEY,
    position BIGINT NOT NULL CHECK (position >= 0)
);
