-- encryption at rest: the recording's data key wrapped by a master key (NULL: not sealed)
ALTER TABLE recordings ADD COLUMN key_id text, ADD COLUMN wrapped_key bytea;
CREATE INDEX recordings_key ON recordings (key_id) WHERE key_id IS NOT NULL;
