-- Notifications: one row per event a person is told about, in the transaction of the action that causes it (the mail,
-- when the person wants one, goes to mail_outbox in the same transaction). Rendered into words when read, in the
-- reader's language, from kind + data. once_key makes a recurring check tell each person once.
CREATE TABLE notifications (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    kind character varying(64) NOT NULL,
    data jsonb NOT NULL,
    in_app boolean NOT NULL,
    once_key character varying(200),
    created_at timestamp with time zone NOT NULL,
    read_at timestamp with time zone,
    CONSTRAINT pk_notifications PRIMARY KEY (id),
    CONSTRAINT fk_notifications_users_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_notifications_user_id_created_at ON notifications (user_id, created_at);
CREATE INDEX ix_notifications_user_id ON notifications (user_id) WHERE in_app AND read_at IS NULL;
CREATE UNIQUE INDEX ix_notifications_user_id_once_key ON notifications (user_id, once_key) WHERE once_key IS NOT NULL;

-- What a person switched off. No row: every kind on, in the app and by mail.
CREATE TABLE notification_preferences (
    user_id uuid NOT NULL,
    kind character varying(64) NOT NULL,
    in_app boolean NOT NULL,
    email boolean NOT NULL,
    CONSTRAINT pk_notification_preferences PRIMARY KEY (user_id, kind),
    CONSTRAINT fk_notification_preferences_users_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
