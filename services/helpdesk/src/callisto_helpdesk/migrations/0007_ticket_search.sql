-- the desk's ticket lists: full-text search in subject and description (words as written, any
-- language; the expression is ticket_query.TEXT), and the sorts by recent change and creation
CREATE INDEX tickets_text ON tickets USING gin (to_tsvector('simple', subject || ' ' || description));
CREATE INDEX tickets_updated ON tickets (updated_at DESC, id DESC);
CREATE INDEX tickets_created ON tickets (created_at DESC, id DESC);
CREATE INDEX tickets_due ON tickets (resolution_due, priority, id);
CREATE INDEX tickets_category ON tickets (category_id);
CREATE INDEX tickets_urgent ON tickets (priority, resolution_due, created_at, id);
-- the open queues (the desk's everyday lists) and those breaching, most urgent first
CREATE INDEX tickets_open_urgent ON tickets (priority, resolution_due, created_at, id)
    WHERE state NOT IN ('closed', 'merged');
CREATE INDEX tickets_breaching ON tickets (priority, resolution_due, created_at, id)
    WHERE state NOT IN ('closed', 'merged') AND sla_standing IN ('warning', 'breached');
