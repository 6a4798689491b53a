-- Preview: an attempt offered to one agent (state 'offered'), dialled agent first when they choose to,
-- or skipped (never dialled: it counts for no rule).
ALTER TABLE attempts ADD COLUMN agent_first boolean NOT NULL DEFAULT false;
ALTER TABLE attempts ADD COLUMN agent_answered_at timestamptz;
CREATE INDEX attempts_engaged ON attempts (campaign_id, agent_id) WHERE state <> 'ended' AND agent_first;
