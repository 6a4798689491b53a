CREATE TABLE users (
    id            text PRIMARY KEY,
    login         text NOT NULL UNIQUE CHECK (length(login) BETWEEN 1 AND 100),
    display_name  text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    agent_id      text,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_roles (
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    text NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- Ed25519 signing keys; the newest active one signs, every unexpired one stays in the JWKS
CREATE TABLE signing_keys (
    kid         text PRIMARY KEY,
    private_pem text NOT NULL,
    public_jwk  jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);

-- refresh tokens rotate: each use replaces the token; reusing a replaced one revokes its family
CREATE TABLE refresh_tokens (
    id          text PRIMARY KEY,
    family      text NOT NULL,
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  text NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    replaced_at timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);

CREATE TABLE login_failures (
    key       text NOT NULL,          -- 'login:<name>' or 'source:<address>'
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key ON login_failures (key, failed_at);

CREATE TABLE audit_log (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,           -- a user id, 'anonymous' or 'system'
    action   text NOT NULL,
    target   text NOT NULL DEFAULT '',
    source   text NOT NULL DEFAULT '',
    details  jsonb NOT NULL DEFAULT '{}'
);
