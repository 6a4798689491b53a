-- The message is a dial-plan prompt (call-manager says it); agentless campaigns say it on so many
-- lines at once, and a key may put the customer through to the campaign's queue.
ALTER TABLE campaigns RENAME COLUMN message TO message_prompt;
UPDATE campaigns SET message_prompt = 'outbound-abandoned' WHERE message_prompt = '';
ALTER TABLE campaigns ADD COLUMN press_key text;
ALTER TABLE campaigns ADD COLUMN lines integer NOT NULL DEFAULT 10;
