-- a notification given up (it cannot be composed, or the mail server refused it too often) is kept
-- with the reason, left out of the delivery loop, and can be tried again by an administrator
ALTER TABLE notifications ADD COLUMN dead_at timestamptz;
CREATE INDEX notifications_dead ON notifications (dead_at) WHERE dead_at IS NOT NULL;
