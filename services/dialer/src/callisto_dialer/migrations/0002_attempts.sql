-- Every attempt, written before its number is dialled (the outbox: a restart never dials it twice),
-- with the rules the policy checked (the compliance log). A contact being called is 'calling'.
CREATE TABLE attempts (
    id           text PRIMARY KEY,
    campaign_id  text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    external_id  text NOT NULL,
    number       text NOT NULL,
    policy       text NOT NULL,
    checked      text[] NOT NULL,
    state        text NOT NULL DEFAULT 'planned',  -- planned, dialling, ended
    outcome      text,
    call_id      text,
    planned_at   timestamptz NOT NULL DEFAULT now(),
    dialled_at   timestamptz,
    ended_at     timestamptz
);
CREATE INDEX attempts_contact ON attempts (campaign_id, external_id, planned_at);
CREATE INDEX attempts_number ON attempts (number, planned_at);
CREATE INDEX attempts_open ON attempts (campaign_id) WHERE state <> 'ended';
