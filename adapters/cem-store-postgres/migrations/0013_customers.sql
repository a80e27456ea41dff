-- Customers known to an organization, and their visits.
--
-- `cem_customers` has the shape of the organization tables; `key` is
-- `<organization>/<number>` (the number normalized), unique, NULL without a number.
CREATE TABLE cem_customers (
    seq   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id    UUID NOT NULL UNIQUE,
    owner UUID NOT NULL REFERENCES cem_organizations (id),
    key   TEXT UNIQUE,
    doc   JSONB NOT NULL
);

-- One row per ticket of a known customer, kept up to date from the queue's history.
-- `issued_at` orders a customer's visits; `open` marks those still going on.
CREATE TABLE cem_customer_visits (
    ticket    UUID PRIMARY KEY,
    customer  UUID NOT NULL,
    issued_at TIMESTAMPTZ NOT NULL,
    open      BOOLEAN NOT NULL,
    doc       JSONB NOT NULL
);
CREATE INDEX cem_customer_visits_customer ON cem_customer_visits (customer, issued_at DESC);
CREATE INDEX cem_customer_visits_open ON cem_customer_visits (ticket) WHERE open;
