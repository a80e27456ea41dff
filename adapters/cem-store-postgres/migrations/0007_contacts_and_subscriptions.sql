-- How to reach the customer of a ticket, and the webhook subscriptions of integrations.
--
-- No foreign keys on `organization` or `ticket`: tickets live in the event history, not in a
-- table, and neither row is worth keeping an organization alive for.

-- One contact per ticket (saving again replaces it). `phone` and `email` are personal data:
-- they are deleted on request (erasure) and once old (`created_at`), never kept in the history.
CREATE TABLE cem_contacts (
    ticket       UUID        PRIMARY KEY,
    organization UUID        NOT NULL,
    phone        TEXT,
    email        TEXT,
    language     TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
-- Erasing a customer's data in an organization, by phone number or by e-mail address.
CREATE INDEX cem_contacts_phone ON cem_contacts (organization, phone);
CREATE INDEX cem_contacts_email ON cem_contacts (organization, email);
-- Forgetting old contacts.
CREATE INDEX cem_contacts_created_at ON cem_contacts (created_at);

-- An integration's subscription to an organization's events. `events` lists the event types
-- it wants (empty for every type); `secret` signs the requests. UNIQUE (organization, url) is
-- what turns a second subscription to one URL into a conflict, across any number of pools;
-- its index also serves listing an organization's subscriptions.
CREATE TABLE cem_webhook_subscriptions (
    id           UUID        PRIMARY KEY,
    organization UUID        NOT NULL,
    url          TEXT        NOT NULL,
    events       TEXT[]      NOT NULL CHECK (array_position(events, NULL) IS NULL),
    secret       TEXT        NOT NULL,
    active       BOOLEAN     NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (organization, url)
);
