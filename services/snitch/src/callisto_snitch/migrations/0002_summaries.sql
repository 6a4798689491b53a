-- What reports read instead of re-deriving it each time (a year by 15 minutes must not group a
-- million queue log rows): one row per call per queue, kept as its steps arrive (every field a
-- least or an OR, so a step delivered twice changes nothing), and each agent state's end.
CREATE TABLE queue_calls (
    queue_id     text NOT NULL,
    call_id      text NOT NULL,
    entered_at   timestamptz,
    callback     boolean NOT NULL DEFAULT false,
    answered_at  timestamptz,
    answer_wait  double precision,
    abandon_wait double precision,
    overflowed   boolean NOT NULL DEFAULT false,
    timed_out    boolean NOT NULL DEFAULT false,
    to_callback  boolean NOT NULL DEFAULT false,
    ended_at     timestamptz,
    PRIMARY KEY (queue_id, call_id)
);
CREATE INDEX queue_calls_entered ON queue_calls (queue_id, entered_at);
CREATE INDEX queue_calls_call ON queue_calls (call_id);

INSERT INTO queue_calls
SELECT queue_id, call_id,
       min(at) FILTER (WHERE step = 'enqueued'),
       coalesce(bool_or(step = 'enqueued' AND reason = 'callback'), false),
       min(at) FILTER (WHERE step = 'answered'),
       min(waited_s) FILTER (WHERE step = 'answered'),
       min(waited_s) FILTER (WHERE step = 'abandoned'),
       bool_or(step = 'overflowed'), bool_or(step = 'timed_out'), bool_or(step = 'callback'),
       min(at) FILTER (WHERE step = 'ended')
FROM queue_log GROUP BY queue_id, call_id;

-- until: the since of the agent's next state by seq (NULL: the state they are in now)
ALTER TABLE agent_states ADD COLUMN until timestamptz;
UPDATE agent_states s SET until = n.next
FROM (SELECT agent_id, seq, lead(since) OVER (PARTITION BY agent_id ORDER BY seq) AS next
      FROM agent_states) n
WHERE n.agent_id = s.agent_id AND n.seq = s.seq AND n.next IS NOT NULL;
CREATE INDEX agent_states_until ON agent_states (until);
CREATE INDEX agent_states_wrap_call ON agent_states (call_id) WHERE state = 'wrap_up';
CREATE OR REPLACE VIEW agent_intervals AS
SELECT agent_id, seq, state, since, reason, call_id, queues, until FROM agent_states;
