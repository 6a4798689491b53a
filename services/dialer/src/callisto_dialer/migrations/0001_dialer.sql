-- Campaigns, their lists, the do-not-call lists and the imports.
CREATE TABLE campaigns (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    mode          text NOT NULL,
    queue_id      text NOT NULL,
    policy        text NOT NULL,
    caller_id     text,
    priority      integer NOT NULL,
    starts_at     timestamptz,
    ends_at       timestamptz,
    max_attempts  integer NOT NULL,
    retries       jsonb NOT NULL,
    holidays      date[] NOT NULL DEFAULT '{}',
    recording     boolean NOT NULL,
    dispositions  text[] NOT NULL,
    message       text NOT NULL DEFAULT '',
    state         text NOT NULL DEFAULT 'draft',
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE campaign_log (
    id           bigserial PRIMARY KEY,
    campaign_id  text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL DEFAULT now(),
    previous     text,
    state        text NOT NULL,
    action       text NOT NULL,
    by           text NOT NULL,
    reason       text NOT NULL DEFAULT ''
);
CREATE INDEX campaign_log_campaign ON campaign_log (campaign_id, id);

-- state: pending (to be called, again at next_at), done (reached or given up: outcome says), removed
CREATE TABLE contacts (
    campaign_id  text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    external_id  text NOT NULL,
    name         text NOT NULL DEFAULT '',
    numbers      text[] NOT NULL,
    zones        text[] NOT NULL,
    amount_owed  numeric(14, 2),
    due_date     date,
    attributes   jsonb NOT NULL DEFAULT '{}',
    state        text NOT NULL DEFAULT 'pending',
    attempts     integer NOT NULL DEFAULT 0,
    next_at      timestamptz,
    outcome      text,
    imported_at  timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, external_id)
);
CREATE INDEX contacts_due ON contacts (campaign_id, next_at) WHERE state = 'pending';

-- campaign_id '' : every campaign (the global list)
CREATE TABLE dnc (
    number       text NOT NULL,
    campaign_id  text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    added_by     text NOT NULL,
    added_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (number, campaign_id)
);

CREATE TABLE imports (
    id           bigserial PRIMARY KEY,
    campaign_id  text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL DEFAULT now(),
    by           text NOT NULL,
    format       text NOT NULL,
    rows         integer NOT NULL,
    added        integer NOT NULL,
    updated      integer NOT NULL,
    removed      integer NOT NULL
);

