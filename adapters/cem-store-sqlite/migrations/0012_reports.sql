-- Reports at scale: the hourly aggregates a projection folds from the queue history, and the
-- cursors of the projections (how far each has read the global history).
--
-- One row per branch, local date ('YYYY-MM-DD'), local hour and service. The KPI counts and
-- sums are INTEGER columns that reports add with SUM (the longest wait with MAX); the waits
-- histogram is a JSON array of [bucket, count] pairs, buckets ascending, that reports merge
-- with json_each … GROUP BY bucket. A write replaces every row of a (branch, day): the
-- primary key starts with those two columns.
CREATE TABLE report_hours (
    branch               BLOB    NOT NULL CHECK (length(branch) = 16),
    day                  TEXT    NOT NULL CHECK (length(day) = 10),
    hour                 INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
    service              BLOB    NOT NULL CHECK (length(service) = 16),
    arrived              INTEGER NOT NULL,
    transferred_in       INTEGER NOT NULL,
    called               INTEGER NOT NULL,
    served               INTEGER NOT NULL,
    no_show              INTEGER NOT NULL,
    cancelled            INTEGER NOT NULL,
    transferred_out      INTEGER NOT NULL,
    wait_ms              INTEGER NOT NULL,
    wait_max_ms          INTEGER NOT NULL,
    with_target          INTEGER NOT NULL,
    within_target        INTEGER NOT NULL,
    service_ms           INTEGER NOT NULL,
    appointments         INTEGER NOT NULL,
    appointments_on_time INTEGER NOT NULL,
    lateness_ms          INTEGER NOT NULL,
    waits                TEXT    NOT NULL CHECK (json_valid(waits) AND json_type(waits) = 'array'),
    PRIMARY KEY (branch, day, hour, service)
) WITHOUT ROWID;

-- A projection's cursor: the last global event position it folded. Writes move it with a
-- compare-and-set in the transaction that writes their rows.
CREATE TABLE report_cursors (
    name     TEXT    NOT NULL PRIMARY KEY,
    position INTEGER NOT NULL CHECK (position >= 0)
);
