-- the category tree: who works on what
CREATE TABLE categories (
    id         text PRIMARY KEY CHECK (id ~ '^[a-z0-9-]{1,64}$'),
    parent_id  text REFERENCES categories (id) ON DELETE RESTRICT,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    department text NOT NULL CHECK (length(department) BETWEEN 1 AND 64),
    position   integer NOT NULL DEFAULT 0,
    active     boolean NOT NULL DEFAULT true
);

CREATE SEQUENCE ticket_numbers START 1000;

CREATE TABLE tickets (
    id          text PRIMARY KEY,
    number      bigint NOT NULL UNIQUE DEFAULT nextval('ticket_numbers'),
    subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
    category_id text REFERENCES categories (id) ON DELETE RESTRICT,
    channel     text NOT NULL CHECK (channel IN ('phone', 'email', 'portal', 'chat', 'monitoring')),
    urgency     smallint NOT NULL CHECK (urgency BETWEEN 1 AND 3),
    impact      smallint NOT NULL CHECK (impact BETWEEN 1 AND 3),
    priority    smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
    state       text NOT NULL,
    pending_on  text,
    contact_id  text REFERENCES contacts (id) ON DELETE SET NULL,
    department  text NOT NULL,
    assignee    text,
    created_by  text NOT NULL,
    call_id     text,
    merged_into text REFERENCES tickets (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz
);
CREATE INDEX tickets_open ON tickets (state, priority, created_at);
CREATE INDEX tickets_contact ON tickets (contact_id);
CREATE INDEX tickets_assignee ON tickets (assignee);
CREATE INDEX tickets_call ON tickets (call_id);

-- every change of a ticket, in order: the full history
CREATE TABLE ticket_history (
    id         bigserial PRIMARY KEY,
    ticket_id  text NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,
    action     text NOT NULL,
    from_state text,
    to_state   text,
    details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ticket_history_ticket ON ticket_history (ticket_id, id);

CREATE TABLE ticket_comments (
    id         text PRIMARY KEY,
    ticket_id  text NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author     text NOT NULL,
    public     boolean NOT NULL DEFAULT false,
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (ticket_id, created_at);
