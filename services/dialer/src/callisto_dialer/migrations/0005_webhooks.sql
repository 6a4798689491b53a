-- Deliveries to billing (one per completed campaign: its id is the receiver's de-duplication key),
-- retried with back-off until an answer in 2xx.
CREATE TABLE webhooks (
    campaign_id   text PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    delivery_id   text NOT NULL,
    event         text NOT NULL,
    tries         integer NOT NULL DEFAULT 0,
    next_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz,
    last_error    text
);
CREATE INDEX webhooks_due ON webhooks (next_at) WHERE delivered_at IS NULL;
