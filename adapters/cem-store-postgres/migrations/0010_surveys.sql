-- Surveys: definitions in versions, single-use invitations, responses and closed-loop cases.
--
-- No foreign keys: responses and cases stay for the reports whatever happens to a branch, and
-- every write that must see another table's row (an answer marks its invitation) does so in
-- its own transaction.

-- One row per version of a survey; the latest is the highest. A version is inserted only when
-- the one before it is the latest; the primary key decides between writers of one version
-- (the loser is `stale`). Title, questions and triggers are JSONB documents: nothing queries
-- inside them.
CREATE TABLE cem_surveys (
    id           UUID        NOT NULL,
    version      BIGINT      NOT NULL CHECK (version BETWEEN 1 AND 4294967295),
    organization UUID        NOT NULL,
    name         TEXT        NOT NULL,
    title        JSONB       NOT NULL CHECK (jsonb_typeof(title) = 'object'),
    questions    JSONB       NOT NULL CHECK (jsonb_typeof(questions) = 'array'),
    triggers     JSONB       NOT NULL CHECK (jsonb_typeof(triggers) = 'object'),
    active       BOOLEAN     NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (id, version)
);
-- An organization's surveys by name (in byte order: COLLATE "C") then id.
CREATE INDEX cem_surveys_organization ON cem_surveys (organization, name COLLATE "C", id);

-- One invitation; `token` is what the customer answers with, unique. `answered_at` is set once,
-- by a conditional UPDATE (`WHERE answered_at IS NULL`): concurrent submissions queue on the
-- row's lock and re-check the condition, so exactly one finds it unanswered.
--
-- The cooldown is enforced by the writers: an insert with a recipient key first takes the
-- key's transaction-scoped advisory lock (two-key form, first key 1128615251 = b"CEMS", second
-- `hashtext` of the organization and the key), then looks for an invitation of the
-- organization for that key made at or after the cooldown's start, and inserts only if there
-- is none. Under READ COMMITTED each statement reads a fresh snapshot and the lock is released
-- only after the holder's commit is visible, so of many passes inviting one customer exactly
-- one does. Two keys sharing a hash only wait for each other.
CREATE TABLE cem_survey_invitations (
    id            UUID        PRIMARY KEY,
    token         TEXT        NOT NULL,
    organization  UUID        NOT NULL,
    survey        UUID        NOT NULL,
    branch        UUID        NOT NULL,
    source        TEXT        NOT NULL CHECK (source IN ('after_service', 'link', 'kiosk')),
    ticket        UUID,
    service       UUID,
    counter       UUID,
    agent         UUID,
    class         UUID,
    recipient_key TEXT,
    language      TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    answered_at   TIMESTAMPTZ,
    CONSTRAINT cem_survey_invitations_token_key UNIQUE (token)
);
-- The cooldown check.
CREATE INDEX cem_survey_invitations_cooldown
    ON cem_survey_invitations (organization, recipient_key, created_at)
    WHERE recipient_key IS NOT NULL;
-- Invitations made in a window: the response rate's denominator.
CREATE INDEX cem_survey_invitations_made
    ON cem_survey_invitations (organization, created_at, survey);

-- One response, its invitation answered in the same transaction (UNIQUE (invitation) is a
-- second guard). What a report groups by is a column (survey, version, branch, source, the
-- visit, the submission); the answers and the text analysis are JSONB documents. The reply-to
-- is personal data, erased on request, so it is columns too and no copy of it hides in a
-- document: `reply_language` is NULL exactly when there is none.
CREATE TABLE cem_survey_responses (
    id             UUID        PRIMARY KEY,
    organization   UUID        NOT NULL,
    survey         UUID        NOT NULL,
    version        BIGINT      NOT NULL CHECK (version BETWEEN 0 AND 4294967295),
    invitation     UUID        NOT NULL UNIQUE,
    branch         UUID        NOT NULL,
    source         TEXT        NOT NULL CHECK (source IN ('after_service', 'link', 'kiosk')),
    ticket         UUID,
    service        UUID,
    counter        UUID,
    agent          UUID,
    class          UUID,
    language       TEXT        NOT NULL,
    answers        JSONB       NOT NULL CHECK (jsonb_typeof(answers) = 'array'),
    analysis       JSONB       CHECK (jsonb_typeof(analysis) = 'object'),
    reply_phone    TEXT,
    reply_email    TEXT,
    reply_language TEXT,
    submitted_at   TIMESTAMPTZ NOT NULL,
    CHECK (reply_language IS NOT NULL OR (reply_phone IS NULL AND reply_email IS NULL))
);
-- An organization's responses in a window, by submission then id.
CREATE INDEX cem_survey_responses_submitted
    ON cem_survey_responses (organization, submitted_at, id);
-- Erasing a contact.
CREATE INDEX cem_survey_responses_phone ON cem_survey_responses (organization, reply_phone)
    WHERE reply_phone IS NOT NULL;
CREATE INDEX cem_survey_responses_email ON cem_survey_responses (organization, reply_email)
    WHERE reply_email IS NOT NULL;

-- One closed-loop case, opened with its response. `reason` is the reason's kind in snake case
-- and `reason_score` its score (NULL for negative text); `status` the status's name.
-- `revision` is the compare-and-set version of updates, which lock the row (FOR UPDATE) before
-- they compare it. The reply-to is columns, as on responses.
CREATE TABLE cem_survey_cases (
    id             UUID        PRIMARY KEY,
    organization   UUID        NOT NULL,
    branch         UUID        NOT NULL,
    response       UUID        NOT NULL,
    survey         UUID        NOT NULL,
    reason         TEXT        NOT NULL CHECK (reason IN ('detractor', 'low_csat',
                                                          'negative_text')),
    reason_score   INTEGER,
    status         TEXT        NOT NULL CHECK (status IN ('open', 'in_progress', 'resolved')),
    owner          UUID,
    deadline       TIMESTAMPTZ NOT NULL,
    escalations    BIGINT      NOT NULL CHECK (escalations BETWEEN 0 AND 4294967295),
    root_cause     TEXT,
    resolution     TEXT,
    reply_phone    TEXT,
    reply_email    TEXT,
    reply_language TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    resolved_at    TIMESTAMPTZ,
    revision       BIGINT      NOT NULL CHECK (revision >= 0),
    CHECK (reply_language IS NOT NULL OR (reply_phone IS NULL AND reply_email IS NULL))
);
-- An organization's cases by creation then id.
CREATE INDEX cem_survey_cases_created ON cem_survey_cases (organization, created_at, id);
-- Unresolved cases by deadline: the overdue ones.
CREATE INDEX cem_survey_cases_deadline ON cem_survey_cases (organization, deadline)
    WHERE status <> 'resolved';
-- Erasing a contact.
CREATE INDEX cem_survey_cases_phone ON cem_survey_cases (organization, reply_phone)
    WHERE reply_phone IS NOT NULL;
CREATE INDEX cem_survey_cases_email ON cem_survey_cases (organization, reply_email)
    WHERE reply_email IS NOT NULL;
