-- one card per call, kept up to date from call-manager's and queue-manager's events
CREATE TABLE call_cards (
    call_id     text PRIMARY KEY,
    direction   text NOT NULL,
    number      text NOT NULL DEFAULT '',     -- the customer's number as it came (caller or dialled)
    number_e164 text,
    contact_id  text REFERENCES contacts (id) ON DELETE SET NULL,
    dialled     text NOT NULL DEFAULT '',
    trunk       text,
    queue_id    text,
    agent_id    text,
    state       text NOT NULL,
    seq         integer NOT NULL,             -- the last call state applied (late events are ignored)
    started_at  timestamptz NOT NULL,
    answered_at timestamptz,
    ended_at    timestamptz,
    ended_by    text,
    sip_status  integer
);
CREATE INDEX call_cards_contact ON call_cards (contact_id, started_at DESC);
CREATE INDEX call_cards_number ON call_cards (number_e164, started_at DESC);

-- what queue-manager and the IVR say of a call; kept apart from the card because those events come
-- on other subjects, possibly before the card's first state (each row stands on its own)
CREATE TABLE call_queue_facts (
    call_id  text PRIMARY KEY,
    queue_id text NOT NULL,
    agent_id text,
    wait_s   double precision NOT NULL
);
CREATE TABLE call_ivr (
    call_id text NOT NULL,
    step    text NOT NULL,
    digits  text NOT NULL,
    PRIMARY KEY (call_id, step)
);

-- tickets a call is about (besides the one it opened); a call placed from a ticket is linked before
-- its first event makes its card
CREATE TABLE ticket_calls (
    ticket_id text NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    call_id   text NOT NULL,
    linked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ticket_id, call_id)
);
CREATE INDEX ticket_calls_call ON ticket_calls (call_id);
