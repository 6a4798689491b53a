-- SIP digest credentials per user: HA1 only (MD5 and SHA-256, RFC 8760), for the realm they were set in
ALTER TABLE users
    ADD COLUMN sip_realm      text,
    ADD COLUMN sip_ha1_md5    text,
    ADD COLUMN sip_ha1_sha256 text,
    ADD COLUMN updated_at     timestamptz NOT NULL DEFAULT now();

-- an agent is bound to at most one active user
CREATE UNIQUE INDEX users_active_agent ON users (agent_id) WHERE agent_id IS NOT NULL AND active;

-- the accounts services log in with; secrets are random (32 bytes) and stored as SHA-256
CREATE TABLE service_accounts (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9-]{0,39}$'),
    secret_hash text NOT NULL,
    permissions text[] NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
