-- the recorded stretches (seconds from the start: one per segment); the gaps between them are pauses
ALTER TABLE recordings ADD COLUMN spans jsonb NOT NULL DEFAULT '[]';
