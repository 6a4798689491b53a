-- people and organisations who call; a person may belong to an organisation
CREATE TABLE contacts (
    id                text PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('person', 'organisation')),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    organisation_id   text REFERENCES contacts (id) ON DELETE SET NULL,
    vip               boolean NOT NULL DEFAULT false,
    personal_agent_id text,
    emails            text[] NOT NULL DEFAULT '{}',
    attributes        jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contacts_name ON contacts (lower(name) text_pattern_ops);
CREATE INDEX contacts_account ON contacts ((attributes ->> 'account'));
CREATE INDEX contacts_emails ON contacts USING gin (emails);

-- every number in E.164, owned by one contact (the caller lookup must be unambiguous)
CREATE TABLE contact_phones (
    e164       text PRIMARY KEY CHECK (e164 ~ '^\+[0-9]{2,16}$'),
    contact_id text NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    extension  text,
    label      text NOT NULL DEFAULT '',
    position   integer NOT NULL DEFAULT 0
);
CREATE INDEX contact_phones_contact ON contact_phones (contact_id);
