-- SLA: business calendars and policies by category and priority (editable), and where each
-- ticket stands; the engine looks at a ticket again at sla_check_at (NULL: its clock is stopped)
CREATE TABLE sla_calendars (
    name text PRIMARY KEY CHECK (name ~ '^[a-z0-9-]{1,64}$'),
    spec jsonb NOT NULL
);

CREATE TABLE sla_policies (
    id               text PRIMARY KEY CHECK (id ~ '^[a-z0-9-]{1,64}$'),
    category_id      text REFERENCES categories (id) ON DELETE CASCADE,
    priority         smallint CHECK (priority BETWEEN 1 AND 5),
    calendar         text NOT NULL REFERENCES sla_calendars (name) ON DELETE RESTRICT,
    first_response_s integer NOT NULL CHECK (first_response_s > 0),
    resolution_s     integer NOT NULL CHECK (resolution_s > 0),
    warn_at          real NOT NULL DEFAULT 0.8 CHECK (warn_at > 0 AND warn_at < 1),
    escalation       text[] NOT NULL DEFAULT '{}',
    UNIQUE NULLS NOT DISTINCT (category_id, priority)
);

ALTER TABLE tickets
    ADD COLUMN sla_policy_id  text,
    ADD COLUMN sla_check_at   timestamptz DEFAULT now(),
    ADD COLUMN sla_stage      jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN sla_standing   text NOT NULL DEFAULT 'ok',
    ADD COLUMN response_due   timestamptz,
    ADD COLUMN resolution_due timestamptz,
    ADD COLUMN responded_at   timestamptz,
    ADD COLUMN sla_level      smallint NOT NULL DEFAULT 0,
    ADD COLUMN escalated_to   text,
    ADD COLUMN confirm_by     timestamptz,
    ADD COLUMN confirm_token  text,
    ADD COLUMN suggestion     jsonb;
CREATE INDEX tickets_sla_check ON tickets (sla_check_at) WHERE sla_check_at IS NOT NULL;
CREATE INDEX tickets_confirm_by ON tickets (confirm_by) WHERE state = 'awaiting_confirmation';

-- who is told: staff with their e-mail and manager; management hears of critical alerts
CREATE TABLE staff (
    id         text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 100),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email      text,
    manager_id text,
    management boolean NOT NULL DEFAULT false
);

-- every notification, written in the transaction of what caused it; sent (bus, then mail) by the
-- notification loop, again after a failure, so nothing is lost when the mail server is away
CREATE TABLE notifications (
    id              bigserial PRIMARY KEY,
    ticket_id       text NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    about           text NOT NULL,
    recipient       text NOT NULL,
    email           text,
    title           text NOT NULL,
    link            text,
    body            text NOT NULL,
    target          text,
    level           smallint NOT NULL DEFAULT 0,
    message_id      text NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    sent_at         timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text
);
CREATE INDEX notifications_due ON notifications (next_attempt_at)
    WHERE published_at IS NULL OR (email IS NOT NULL AND sent_at IS NULL);
CREATE INDEX notifications_ticket ON notifications (ticket_id, id);

-- the Message-IDs of every mail about a ticket (sent and received): replies thread into it
CREATE TABLE ticket_mail (
    message_id text PRIMARY KEY,
    ticket_id  text NOT NULL REFERENCES tickets (id) ON DELETE CASCADE
);

-- files, voice notes and call recordings (a recording is a link to where it is served)
CREATE TABLE attachments (
    id           text PRIMARY KEY,
    ticket_id    text NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('file', 'voice-note', 'recording')),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    content_type text NOT NULL,
    size         bigint NOT NULL CHECK (size >= 0),
    sha256       text,
    data         bytea,
    url          text,
    call_id      text,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((data IS NULL) <> (url IS NULL))
);
CREATE INDEX attachments_ticket ON attachments (ticket_id, created_at);
CREATE UNIQUE INDEX attachments_recording ON attachments (ticket_id, url) WHERE kind = 'recording';

-- a call's recording (the event may come before the call's card)
CREATE TABLE call_recordings (
    call_id      text PRIMARY KEY,
    recording_id text NOT NULL,
    url          text NOT NULL,
    duration_s   real NOT NULL
);

-- monitoring alerts by fingerprint: one ticket per alert while it lasts
CREATE TABLE alert_tickets (
    fingerprint text PRIMARY KEY,
    ticket_id   text NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    status      text NOT NULL,
    starts_at   timestamptz,
    ends_at     timestamptz,
    last_seen   timestamptz NOT NULL DEFAULT now()
);

-- each training of the classifier and what it scored on its held-out tickets
CREATE TABLE classifier_runs (
    id         bigserial PRIMARY KEY,
    trained_at timestamptz NOT NULL DEFAULT now(),
    samples    integer NOT NULL,
    held_out   integer NOT NULL,
    accuracy   real,
    classes    integer NOT NULL,
    threshold  real NOT NULL,
    routed_accuracy real,
    routed_share    real
);
