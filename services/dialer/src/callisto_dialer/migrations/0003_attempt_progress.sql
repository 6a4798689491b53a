-- How far an attempt's call came: answered by the customer (in the campaign's queue), taken by an agent.
ALTER TABLE attempts ADD COLUMN answered_at timestamptz;
ALTER TABLE attempts ADD COLUMN connected_at timestamptz;
ALTER TABLE attempts ADD COLUMN agent_id text;
