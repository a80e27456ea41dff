-- Reservations: the plan of each service at a branch, and the bookings of its slots.
--
-- UUIDs are 16-byte BLOBs; instants are microseconds since the Unix epoch, as in
-- `queue_events`. No foreign keys on `organization`, `branch`, `service` or `customer`:
-- bookings stay for the reports after a plan, a service or a branch is gone.

-- One plan per service of a branch (putting again replaces it), a JSON document: nothing
-- queries inside it.
CREATE TABLE reservation_plans (
    branch       BLOB NOT NULL CHECK (length(branch) = 16),
    service      BLOB NOT NULL CHECK (length(service) = 16),
    organization BLOB NOT NULL CHECK (length(organization) = 16),
    doc          TEXT NOT NULL CHECK (json_valid(doc) AND json_type(doc) = 'object'),
    PRIMARY KEY (branch, service)
);

-- One booking of one slot (branch, service, start_at), or a place on its waitlist, the whole
-- record as columns: the holder's name, phone number and e-mail address are personal data,
-- erased on request, so no copy of them hides in a document. `state` is the record's state in
-- snake case; 'confirmed', 'offered' and 'checked_in' hold a seat. A write that makes a booking
-- hold a seat counts the seats held at its slot and writes only below the slot's capacity,
-- inside one `BEGIN IMMEDIATE` transaction, so writers take turns on SQLite's write lock and
-- the count cannot go stale before the write. `revision` is the compare-and-set version of
-- updates. UNIQUE (organization, code) is what makes a code taken.
CREATE TABLE bookings (
    id               BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    organization     BLOB    NOT NULL CHECK (length(organization) = 16),
    branch           BLOB    NOT NULL CHECK (length(branch) = 16),
    service          BLOB    NOT NULL CHECK (length(service) = 16),
    code             TEXT    NOT NULL,
    start_at         INTEGER NOT NULL,
    end_at           INTEGER NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('confirmed', 'checked_in', 'cancelled',
                                                       'no_show', 'waitlisted', 'offered',
                                                       'lapsed')),
    customer         BLOB    CHECK (length(customer) = 16),
    holder_name      TEXT,
    holder_phone     TEXT,
    holder_email     TEXT,
    holder_language  TEXT    NOT NULL,
    offer_expires_at INTEGER,
    ticket           BLOB    CHECK (length(ticket) = 16),
    checked_in_at    INTEGER,
    created_at       INTEGER NOT NULL,
    changed_at       INTEGER NOT NULL,
    revision         INTEGER NOT NULL CHECK (revision >= 0),
    UNIQUE (organization, code)
);
-- Counting the seats held at a slot.
CREATE INDEX bookings_slot ON bookings (branch, service, start_at, state);
-- A branch's bookings by start, then creation, then id.
CREATE INDEX bookings_branch_start ON bookings (branch, start_at, created_at, id);
-- A holder's bookings by customer, phone number or e-mail address, from an instant on; the
-- last two also serve erasing a holder's data.
CREATE INDEX bookings_customer ON bookings (organization, customer, start_at)
    WHERE customer IS NOT NULL;
CREATE INDEX bookings_phone ON bookings (organization, holder_phone, start_at)
    WHERE holder_phone IS NOT NULL;
CREATE INDEX bookings_email ON bookings (organization, holder_email, start_at)
    WHERE holder_email IS NOT NULL;
