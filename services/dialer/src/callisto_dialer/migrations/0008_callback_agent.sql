-- A call-back promised by an agent: theirs first (their phone rung before the customer's).
ALTER TABLE dispositions ADD COLUMN callback_agent_id text;
ALTER TABLE contacts ADD COLUMN callback_agent_id text;
