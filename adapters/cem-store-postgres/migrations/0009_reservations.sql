-- Reservations: the plan of each service at a branch, and the bookings of its slots.
--
-- No foreign keys on `organization`, `branch`, `service` or `customer`: bookings stay for the
-- reports after a plan, a service or a branch is gone.

-- One plan per service of a branch (putting again replaces it), a JSONB document: nothing
-- queries inside it.
CREATE TABLE cem_reservation_plans (
    branch       UUID  NOT NULL,
    service      UUID  NOT NULL,
    organization UUID  NOT NULL,
    doc          JSONB NOT NULL CHECK (jsonb_typeof(doc) = 'object'),
    PRIMARY KEY (branch, service)
);

-- One booking of one slot (branch, service, start_at), or a place on its waitlist, the whole
-- record as columns: the holder's name, phone number and e-mail address are personal data,
-- erased on request, so no copy of them hides in a document. `state` is the record's state in
-- snake case; 'confirmed', 'offered' and 'checked_in' hold a seat. `revision` (a u32) is the
-- compare-and-set version of updates. UNIQUE (organization, code) is what makes a code taken,
-- across any number of pools; its name tells that conflict from a taken id.
--
-- The capacity of a slot is enforced by the writers: a write that makes a booking hold a seat
-- first takes the slot's transaction-scoped advisory lock (two-key form, first key
-- 1128615250 = b"CEMR", second `hashtext` of the slot), then counts the seats held and writes
-- only below the capacity. Under READ COMMITTED each statement reads a fresh snapshot, and the
-- lock is released only after the holder's commit is visible, so the count sees every seat
-- taken by an earlier holder: of many writers racing for the last seat exactly one gets it.
-- Two slots sharing a hash only wait for each other. (A lock rather than a per-slot row
-- locked FOR UPDATE: no table of slots to fill and clean up, and the two-key space keeps it
-- apart from the queue's one-key position lock.)
CREATE TABLE cem_bookings (
    id               UUID        PRIMARY KEY,
    organization     UUID        NOT NULL,
    branch           UUID        NOT NULL,
    service          UUID        NOT NULL,
    code             TEXT        NOT NULL,
    start_at         TIMESTAMPTZ NOT NULL,
    end_at           TIMESTAMPTZ NOT NULL,
    state            TEXT        NOT NULL CHECK (state IN ('confirmed', 'checked_in',
                                                           'cancelled', 'no_show',
                                                           'waitlisted', 'offered', 'lapsed')),
    customer         UUID,
    holder_name      TEXT,
    holder_phone     TEXT,
    holder_email     TEXT,
    holder_language  TEXT        NOT NULL,
    offer_expires_at TIMESTAMPTZ,
    ticket           UUID,
    checked_in_at    TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    changed_at       TIMESTAMPTZ NOT NULL,
    revision         BIGINT      NOT NULL CHECK (revision BETWEEN 0 AND 4294967295),
    CONSTRAINT cem_bookings_code_key UNIQUE (organization, code)
);
-- Counting the seats held at a slot.
CREATE INDEX cem_bookings_slot ON cem_bookings (branch, service, start_at)
    WHERE state IN ('confirmed', 'offered', 'checked_in');
-- A branch's bookings by start, then creation, then id.
CREATE INDEX cem_bookings_branch_start ON cem_bookings (branch, start_at, created_at, id);
-- A holder's bookings by customer, phone number or e-mail address, from an instant on; the
-- last two also serve erasing a holder's data.
CREATE INDEX cem_bookings_customer ON cem_bookings (organization, customer, start_at)
    WHERE customer IS NOT NULL;
CREATE INDEX cem_bookings_phone ON cem_bookings (organization, holder_phone, start_at)
    WHERE holder_phone IS NOT NULL;
CREATE INDEX cem_bookings_email ON cem_bookings (organization, holder_email, start_at)
    WHERE holder_email IS NOT NULL;
