-- History of calls, queue steps (the queue log) and agent states; every row keyed so that a replayed
-- event changes nothing.
CREATE TABLE calls (
    call_id     text PRIMARY KEY,
    direction   text NOT NULL,
    caller      text NOT NULL DEFAULT '',
    dialled     text NOT NULL DEFAULT '',
    trunk       text,
    queue_id    text,
    agent_id    text,
    state       text NOT NULL,
    seq         integer NOT NULL,
    started_at  timestamptz NOT NULL,
    answered_at timestamptz,
    ended_at    timestamptz,
    ended_by    text,
    sip_status  integer
);
CREATE INDEX calls_started ON calls (started_at);

CREATE TABLE queue_log (
    message_id text PRIMARY KEY,
    at         timestamptz NOT NULL,
    queue_id   text NOT NULL,
    call_id    text NOT NULL,
    step       text NOT NULL,
    agent_id   text,
    waited_s   double precision NOT NULL DEFAULT 0,
    priority   integer NOT NULL DEFAULT 0,
    target     text,
    reason     text
);
CREATE INDEX queue_log_queue_at ON queue_log (queue_id, at);
CREATE INDEX queue_log_agent_at ON queue_log (agent_id, at) WHERE agent_id IS NOT NULL;
CREATE INDEX queue_log_call ON queue_log (call_id);

CREATE TABLE agent_states (
    agent_id   text NOT NULL,
    seq        integer NOT NULL,
    state      text NOT NULL,
    since      timestamptz NOT NULL,
    reason     text,
    call_id    text,
    queues     text[] NOT NULL DEFAULT '{}',
    message_id text NOT NULL,
    PRIMARY KEY (agent_id, seq)
);
CREATE INDEX agent_states_since ON agent_states (since);

-- Each state lasts until the agent's next one (by seq, whatever the order the rows came in).
CREATE VIEW agent_intervals AS
SELECT agent_id, seq, state, since, reason, call_id, queues,
       lead(since) OVER (PARTITION BY agent_id ORDER BY seq) AS until
FROM agent_states;
