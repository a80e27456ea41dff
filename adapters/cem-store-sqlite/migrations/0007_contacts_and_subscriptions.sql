-- How to reach the customer of a ticket, and the webhook subscriptions of integrations.
--
-- UUIDs are 16-byte BLOBs; instants are microseconds since the Unix epoch, as in
-- `queue_events`. No foreign keys on `organization` or `ticket`: tickets live in the event
-- history, not in a table, and neither row is worth keeping an organization alive for.

-- One contact per ticket (saving again replaces it). `phone` and `email` are personal data:
-- they are deleted on request (erasure) and once old (`created_at`), never kept in the history.
CREATE TABLE contacts (
    ticket       BLOB    NOT NULL PRIMARY KEY CHECK (length(ticket) = 16),
    organization BLOB    NOT NULL CHECK (length(organization) = 16),
    phone        TEXT,
    email        TEXT,
    language     TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
-- Erasing a customer's data in an organization, by phone number or by e-mail address.
CREATE INDEX contacts_phone ON contacts (organization, phone);
CREATE INDEX contacts_email ON contacts (organization, email);
-- Forgetting old contacts.
CREATE INDEX contacts_created_at ON contacts (created_at);

-- An integration's subscription to an organization's events. `events` is a JSON array of event
-- types (`[]` for every type); `secret` signs the requests; `active` is 0 or 1.
-- UNIQUE (organization, url) is what turns a second subscription to one URL into a conflict;
-- its index also serves listing an organization's subscriptions.
CREATE TABLE webhook_subscriptions (
    id           BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    organization BLOB    NOT NULL CHECK (length(organization) = 16),
    url          TEXT    NOT NULL,
    events       TEXT    NOT NULL CHECK (json_valid(events) AND json_type(events) = 'array'),
    secret       TEXT    NOT NULL,
    active       INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at   INTEGER NOT NULL,
    UNIQUE (organization, url)
);
