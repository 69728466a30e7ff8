-- Suppliers: invitations, the contributor's attribution to a supplier (with its history), suspensions after coercion
-- reports, and the frozen monthly aggregates a supplier may see.

CREATE TABLE supplier_invitations (
    id uuid NOT NULL,
    organisation_id uuid NOT NULL,
    code character varying(32) NOT NULL,
    job_id uuid,
    label character varying(100) NOT NULL,
    created_by_user_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT pk_supplier_invitations PRIMARY KEY (id),
    CONSTRAINT fk_supplier_invitations_organisations_organisation_id FOREIGN KEY (organisation_id) REFERENCES organisations (id) ON DELETE CASCADE,
    CONSTRAINT fk_supplier_invitations_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX ix_supplier_invitations_code ON supplier_invitations (code);
CREATE INDEX ix_supplier_invitations_organisation_id ON supplier_invitations (organisation_id);

-- A contributor is attributed to at most one supplier at a time; a detached row stays as history.
-- Declining the attribution screen stores nothing, so nobody can learn who said no.
CREATE TABLE supplier_attributions (
    id uuid NOT NULL,
    contributor_id uuid NOT NULL,
    organisation_id uuid NOT NULL,
    invitation_id uuid,
    attributed_at timestamp with time zone NOT NULL,
    detached_at timestamp with time zone,
    CONSTRAINT pk_supplier_attributions PRIMARY KEY (id),
    CONSTRAINT fk_supplier_attributions_users_contributor_id FOREIGN KEY (contributor_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_supplier_attributions_organisations_organisation_id FOREIGN KEY (organisation_id) REFERENCES organisations (id) ON DELETE CASCADE,
    CONSTRAINT fk_supplier_attributions_supplier_invitations_invitation_id FOREIGN KEY (invitation_id) REFERENCES supplier_invitations (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX ix_supplier_attributions_contributor_id ON supplier_attributions (contributor_id) WHERE detached_at IS NULL;
CREATE INDEX ix_supplier_attributions_organisation_id ON supplier_attributions (organisation_id);

-- A contributor's report that a supplier, school or employer pressed them to record. Anonymous reports store no
-- reporter at all (reporter_id NULL), not even in the audit log.
CREATE TABLE coercion_reports (
    id uuid NOT NULL,
    reporter_id uuid,
    supplier_organisation_id uuid,
    named_party character varying(200),
    description character varying(4000) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    closed_at timestamp with time zone,
    closed_by_user_id uuid,
    outcome character varying(2000),
    CONSTRAINT pk_coercion_reports PRIMARY KEY (id),
    CONSTRAINT fk_coercion_reports_users_reporter_id FOREIGN KEY (reporter_id) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT fk_coercion_reports_organisations_supplier_organisation_id FOREIGN KEY (supplier_organisation_id) REFERENCES organisations (id) ON DELETE SET NULL,
    CONSTRAINT ck_coercion_reports_names_someone CHECK (supplier_organisation_id IS NOT NULL OR named_party IS NOT NULL)
);
CREATE INDEX ix_coercion_reports_supplier_organisation_id ON coercion_reports (supplier_organisation_id);

-- While a suspension is open (reinstated_at NULL) the supplier's invitations do not work, its contributors' work earns
-- it no fee and is not attributed to it, and it sees no figures.
CREATE TABLE supplier_suspensions (
    id uuid NOT NULL,
    organisation_id uuid NOT NULL,
    report_id uuid,
    reason character varying(2000) NOT NULL,
    suspended_at timestamp with time zone NOT NULL,
    suspended_by_user_id uuid NOT NULL,
    reinstated_at timestamp with time zone,
    reinstated_by_user_id uuid,
    CONSTRAINT pk_supplier_suspensions PRIMARY KEY (id),
    CONSTRAINT fk_supplier_suspensions_organisations_organisation_id FOREIGN KEY (organisation_id) REFERENCES organisations (id) ON DELETE CASCADE,
    CONSTRAINT fk_supplier_suspensions_coercion_reports_report_id FOREIGN KEY (report_id) REFERENCES coercion_reports (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX ix_supplier_suspensions_organisation_id ON supplier_suspensions (organisation_id) WHERE reinstated_at IS NULL;
CREATE INDEX ix_supplier_suspensions_report_id ON supplier_suspensions (report_id);

-- A supplier's figures for one closed calendar month, computed once and never again, so that asking twice can never
-- reveal what one person did in between. job_id is the all-zero uuid for the cell over all jobs.
CREATE TABLE supplier_stat_months (
    organisation_id uuid NOT NULL,
    month date NOT NULL,
    signed_up integer NOT NULL,
    signed_up_published boolean NOT NULL,
    computed_at timestamp with time zone NOT NULL,
    CONSTRAINT pk_supplier_stat_months PRIMARY KEY (organisation_id, month),
    CONSTRAINT fk_supplier_stat_months_organisations_organisation_id FOREIGN KEY (organisation_id) REFERENCES organisations (id) ON DELETE CASCADE
);

CREATE TABLE supplier_stat_cells (
    organisation_id uuid NOT NULL,
    month date NOT NULL,
    currency character(3) NOT NULL,
    job_id uuid NOT NULL,
    contributors integer NOT NULL,
    active_ms bigint NOT NULL,
    pay_minor bigint NOT NULL,
    clips_accepted integer NOT NULL,
    clips_reviewed integer NOT NULL,
    published boolean NOT NULL,
    CONSTRAINT pk_supplier_stat_cells PRIMARY KEY (organisation_id, month, currency, job_id),
    CONSTRAINT fk_supplier_stat_cells_supplier_stat_months_organisation_id_month FOREIGN KEY (organisation_id, month) REFERENCES supplier_stat_months (organisation_id, month) ON DELETE CASCADE
);

-- The supplier fee follows the contributor's attribution, not the job: the job only carries the rate (supplier_fee_bp).
ALTER TABLE job_budgets DROP COLUMN supplier_organisation_id;

-- Once a session's supplier fee stops (detached or suspended mid-session) it never restarts for that session.
ALTER TABLE earnings_accruals ADD COLUMN supplier_fee_stopped_at timestamp with time zone;
CREATE INDEX ix_earnings_accruals_supplier_organisation_id_created_at ON earnings_accruals (supplier_organisation_id, created_at)
    WHERE supplier_organisation_id IS NOT NULL;
