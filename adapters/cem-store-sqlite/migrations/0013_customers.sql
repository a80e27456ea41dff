-- Customers known to an organization, and their visits.
--
-- `customers` has the shape of the organization tables; `key` is `<organization>/<number>`
-- (the number normalized), unique, NULL for a customer without a number.
CREATE TABLE customers (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    id    BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    owner BLOB NOT NULL REFERENCES organizations (id),
    key   TEXT UNIQUE,
    doc   TEXT NOT NULL
);

-- One row per ticket of a known customer, kept up to date from the queue's history.
-- `issued_ms` orders a customer's visits; `open` marks those still going on.
CREATE TABLE customer_visits (
    ticket    BLOB PRIMARY KEY CHECK (length(ticket) = 16),
    customer  BLOB NOT NULL,
    issued_ms INTEGER NOT NULL,
    open      INTEGER NOT NULL,
    doc       TEXT NOT NULL
);
CREATE INDEX customer_visits_customer ON customer_visits (customer, issued_ms DESC);
CREATE INDEX customer_visits_open ON customer_visits (open) WHERE open = 1;
