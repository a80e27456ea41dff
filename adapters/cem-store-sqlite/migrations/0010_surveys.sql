-- Surveys: definitions in versions, single-use invitations, responses and closed-loop cases.
--
-- UUIDs are 16-byte BLOBs; instants are microseconds since the Unix epoch, as in
-- `queue_events`. No foreign keys: responses and cases stay for the reports whatever happens
-- to a branch, and every write that must see another table's row (an answer marks its
-- invitation) does so inside its own `BEGIN IMMEDIATE` transaction.

-- One row per version of a survey; the latest is the highest. A version is inserted only when
-- the one before it is the latest, inside a `BEGIN IMMEDIATE` transaction; the primary key
-- refuses a version stored twice. Title, questions and triggers are JSON documents: nothing
-- queries inside them.
CREATE TABLE surveys (
    id           BLOB    NOT NULL CHECK (length(id) = 16),
    version      INTEGER NOT NULL CHECK (version BETWEEN 1 AND 4294967295),
    organization BLOB    NOT NULL CHECK (length(organization) = 16),
    name         TEXT    NOT NULL,
    title        TEXT    NOT NULL CHECK (json_valid(title) AND json_type(title) = 'object'),
    questions    TEXT    NOT NULL CHECK (json_valid(questions)
                                         AND json_type(questions) = 'array'),
    triggers     TEXT    NOT NULL CHECK (json_valid(triggers)
                                         AND json_type(triggers) = 'object'),
    active       INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (id, version)
);
-- An organization's surveys by name then id.
CREATE INDEX surveys_organization ON surveys (organization, name, id);

-- One invitation; `token` is what the customer answers with, unique. `answered_at` is set once,
-- by a conditional UPDATE (`WHERE answered_at IS NULL`) whose row count decides which of many
-- submissions wins. The cooldown is checked (an invitation of the organization for the same
-- `recipient_key` made at or after an instant) and the invitation inserted inside one
-- `BEGIN IMMEDIATE` transaction, so passes inviting one customer take turns.
CREATE TABLE survey_invitations (
    id            BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    token         TEXT    NOT NULL UNIQUE,
    organization  BLOB    NOT NULL CHECK (length(organization) = 16),
    survey        BLOB    NOT NULL CHECK (length(survey) = 16),
    branch        BLOB    NOT NULL CHECK (length(branch) = 16),
    source        TEXT    NOT NULL CHECK (source IN ('after_service', 'link', 'kiosk')),
    ticket        BLOB    CHECK (length(ticket) = 16),
    service       BLOB    CHECK (length(service) = 16),
    counter       BLOB    CHECK (length(counter) = 16),
    agent         BLOB    CHECK (length(agent) = 16),
    class         BLOB    CHECK (length(class) = 16),
    recipient_key TEXT,
    language      TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    answered_at   INTEGER
);
-- The cooldown check.
CREATE INDEX survey_invitations_cooldown
    ON survey_invitations (organization, recipient_key, created_at)
    WHERE recipient_key IS NOT NULL;
-- Invitations made in a window: the response rate's denominator.
CREATE INDEX survey_invitations_made ON survey_invitations (organization, created_at, survey);

-- One response, its invitation answered in the same transaction (UNIQUE (invitation) is a
-- second guard). What a report groups by is a column (survey, version, branch, source, the
-- visit, the submission); the answers and the text analysis are JSON documents. The reply-to
-- is personal data, erased on request, so it is columns too and no copy of it hides in a
-- document: `reply_language` is NULL exactly when there is none.
CREATE TABLE survey_responses (
    id             BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    organization   BLOB    NOT NULL CHECK (length(organization) = 16),
    survey         BLOB    NOT NULL CHECK (length(survey) = 16),
    version        INTEGER NOT NULL CHECK (version BETWEEN 0 AND 4294967295),
    invitation     BLOB    NOT NULL UNIQUE CHECK (length(invitation) = 16),
    branch         BLOB    NOT NULL CHECK (length(branch) = 16),
    source         TEXT    NOT NULL CHECK (source IN ('after_service', 'link', 'kiosk')),
    ticket         BLOB    CHECK (length(ticket) = 16),
    service        BLOB    CHECK (length(service) = 16),
    counter        BLOB    CHECK (length(counter) = 16),
    agent          BLOB    CHECK (length(agent) = 16),
    class          BLOB    CHECK (length(class) = 16),
    language       TEXT    NOT NULL,
    answers        TEXT    NOT NULL CHECK (json_valid(answers) AND json_type(answers) = 'array'),
    analysis       TEXT    CHECK (json_valid(analysis) AND json_type(analysis) = 'object'),
    reply_phone    TEXT,
    reply_email    TEXT,
    reply_language TEXT,
    submitted_at   INTEGER NOT NULL,
    CHECK (reply_language IS NOT NULL OR (reply_phone IS NULL AND reply_email IS NULL))
);
-- An organization's responses in a window, by submission then id.
CREATE INDEX survey_responses_submitted ON survey_responses (organization, submitted_at, id);
-- Erasing a contact.
CREATE INDEX survey_responses_phone ON survey_responses (organization, reply_phone)
    WHERE reply_phone IS NOT NULL;
CREATE INDEX survey_responses_email ON survey_responses (organization, reply_email)
    WHERE reply_email IS NOT NULL;

-- One closed-loop case, opened with its response. `reason` is the reason's kind in snake case
-- and `reason_score` its score (NULL for negative text); `status` the status's name.
-- `revision` is the compare-and-set version of updates, checked and written inside one
-- `BEGIN IMMEDIATE` transaction. The reply-to is columns, as on responses.
CREATE TABLE survey_cases (
    id             BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 16),
    organization   BLOB    NOT NULL CHECK (length(organization) = 16),
    branch         BLOB    NOT NULL CHECK (length(branch) = 16),
    response       BLOB    NOT NULL CHECK (length(response) = 16),
    survey         BLOB    NOT NULL CHECK (length(survey) = 16),
    reason         TEXT    NOT NULL CHECK (reason IN ('detractor', 'low_csat', 'negative_text')),
    reason_score   INTEGER,
    status         TEXT    NOT NULL CHECK (status IN ('open', 'in_progress', 'resolved')),
    owner          BLOB    CHECK (length(owner) = 16),
    deadline       INTEGER NOT NULL,
    escalations    INTEGER NOT NULL CHECK (escalations BETWEEN 0 AND 4294967295),
    root_cause     TEXT,
    resolution     TEXT,
    reply_phone    TEXT,
    reply_email    TEXT,
    reply_language TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    resolved_at    INTEGER,
    revision       INTEGER NOT NULL CHECK (revision >= 0),
    CHECK (reply_language IS NOT NULL OR (reply_phone IS NULL AND reply_email IS NULL))
);
-- An organization's cases by creation then id.
CREATE INDEX survey_cases_created ON survey_cases (organization, created_at, id);
-- Unresolved cases by deadline: the overdue ones.
CREATE INDEX survey_cases_deadline ON survey_cases (organization, deadline)
    WHERE status <> 'resolved';
-- Erasing a contact.
CREATE INDEX survey_cases_phone ON survey_cases (organization, reply_phone)
    WHERE reply_phone IS NOT NULL;
CREATE INDEX survey_cases_email ON survey_cases (organization, reply_email)
    WHERE reply_email IS NOT NULL;
