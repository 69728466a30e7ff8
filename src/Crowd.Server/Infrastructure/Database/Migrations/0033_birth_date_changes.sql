-- After a contributor's first consent their date of birth decides which consents are valid, so a change is a request
-- an admin approves or rejects. At most one request per person is open at a time.
CREATE TABLE birth_date_changes (
    id uuid NOT NULL,
    user_id uuid NOT NULL,
    current_date_of_birth date NOT NULL,
    requested_date_of_birth date NOT NULL,
    reason character varying(1000) NOT NULL,
    requested_at timestamp with time zone NOT NULL,
    decided_at timestamp with time zone,
    decided_by uuid,
    approved boolean,
    CONSTRAINT pk_birth_date_changes PRIMARY KEY (id),
    CONSTRAINT ck_birth_date_changes_decision CHECK ((decided_at IS NULL) = (approved IS NULL) AND (decided_at IS NULL) = (decided_by IS NULL)),
    CONSTRAINT fk_birth_date_changes_users_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_birth_date_changes_users_decided_by FOREIGN KEY (decided_by) REFERENCES users (id) ON DELETE RESTRICT
);
CREATE UNIQUE INDEX ix_birth_date_changes_user_id ON birth_date_changes (user_id) WHERE decided_at IS NULL;
