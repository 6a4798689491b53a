-- The calls as call-manager told of them (who and which queue, for search and permissions), the
-- conversions to do (durable: a crash leaves the job pending), the recordings, every listen.
CREATE TABLE calls (
    call_id     text PRIMARY KEY,
    direction   text NOT NULL,
    caller      text NOT NULL DEFAULT '',
    dialled     text NOT NULL DEFAULT '',
    queue_id    text,
    agent_id    text,
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz
);

CREATE TABLE jobs (
    call_id    text PRIMARY KEY,
    state      text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'nothing', 'quarantined')),
    due_at     timestamptz NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    reason     text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_due ON jobs (due_at) WHERE state = 'pending';

CREATE TABLE recordings (
    id          text PRIMARY KEY,
    call_id     text NOT NULL UNIQUE,
    direction   text NOT NULL,
    caller      text NOT NULL,
    queue_id    text,
    agent_id    text,
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    duration_s  double precision NOT NULL,
    segments    integer NOT NULL,
    file        text NOT NULL,
    size        bigint NOT NULL,
    sha256      text NOT NULL,
    ratios      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recordings_agent ON recordings (agent_id, started_at);
CREATE INDEX recordings_queue ON recordings (queue_id, started_at);
CREATE INDEX recordings_started ON recordings (started_at);

-- every listen and download: who, when, which part
CREATE TABLE listens (
    id           bigserial PRIMARY KEY,
    recording_id text NOT NULL,
    subject      text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    format       text NOT NULL,
    range        text,
    allowed      boolean NOT NULL
);
CREATE INDEX listens_recording ON listens (recording_id, at);
