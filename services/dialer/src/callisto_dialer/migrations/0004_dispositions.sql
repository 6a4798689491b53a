-- What the agent recorded of an attempt's conversation.
CREATE TABLE dispositions (
    attempt_id         text PRIMARY KEY REFERENCES attempts (id) ON DELETE CASCADE,
    code               text NOT NULL,
    amount             numeric(14, 2),
    promised_for       date,
    callback_at        timestamptz,
    note               text NOT NULL DEFAULT '',
    by                 text NOT NULL,
    at                 timestamptz NOT NULL DEFAULT now()
);
