-- the key play links are signed with, shared by every instance (made by the first one that needs it)
CREATE TABLE link_key (
    id     integer PRIMARY KEY CHECK (id = 1),
    secret bytea NOT NULL CHECK (length(secret) >= 32)
);
