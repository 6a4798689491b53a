-- what the agent said of a call in wrap-up (queue-manager's CallDisposed); the latest one counts
CREATE TABLE call_dispositions (
    call_id     text PRIMARY KEY,
    queue_id    text NOT NULL,
    agent_id    text NOT NULL,
    disposition text,
    note        text NOT NULL DEFAULT '',
    said_at     timestamptz NOT NULL,
    said_by     text
);
