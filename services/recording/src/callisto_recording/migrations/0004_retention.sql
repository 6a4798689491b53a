-- Retention and legal hold: each recording has a retention class (its queue's or its direction's);
-- a recording past its class's days is marked, then purged after a grace unless held; a purged one
-- stays as a tombstone (deleted_at) for the audit. The archive tier holds older recordings elsewhere.
ALTER TABLE recordings
    ADD COLUMN class        text NOT NULL DEFAULT 'default',
    ADD COLUMN tier         text NOT NULL DEFAULT 'store' CHECK (tier IN ('store', 'archive')),
    ADD COLUMN held         boolean NOT NULL DEFAULT false,
    ADD COLUMN purge_after  timestamptz,
    ADD COLUMN purge_reason text,
    ADD COLUMN deleted_at   timestamptz,
    ADD COLUMN announced    boolean NOT NULL DEFAULT true;  -- a deletion told on the bus (the run may be a command's)
CREATE INDEX recordings_class_live ON recordings (class, started_at) WHERE deleted_at IS NULL;
CREATE INDEX recordings_unannounced ON recordings (deleted_at) WHERE NOT announced;
CREATE INDEX recordings_purge ON recordings (purge_after) WHERE purge_after IS NOT NULL AND deleted_at IS NULL;

-- every hold set or released, and every deletion asked for: who, when, why
CREATE TABLE holds (
    id           bigserial PRIMARY KEY,
    recording_id text NOT NULL,
    action       text NOT NULL CHECK (action IN ('hold', 'release', 'delete')),
    reason       text NOT NULL,
    by_subject   text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX holds_recording ON holds (recording_id, at);
