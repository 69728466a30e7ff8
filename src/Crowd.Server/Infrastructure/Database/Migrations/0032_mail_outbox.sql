-- Every mail the platform sends (guardian links, deletion notices) is stored here first, in the transaction of the
-- action that causes it. With SMTP configured a background sender delivers it; without, it stays readable on /Admin/Mailbox.
CREATE TABLE mail_outbox (
    id uuid NOT NULL,
    to_address character varying(320) NOT NULL,
    subject character varying(500) NOT NULL,
    body text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone,
    attempts integer NOT NULL,
    error character varying(2000),
    CONSTRAINT pk_mail_outbox PRIMARY KEY (id)
);
CREATE INDEX ix_mail_outbox_created_at ON mail_outbox (created_at) WHERE sent_at IS NULL;
CREATE INDEX ix_mail_outbox_to_address ON mail_outbox (to_address);
