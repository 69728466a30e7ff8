-- A supplier sees its fee only where its figures are published: each frozen cell carries the fee earned on the work it
-- counts. Cells frozen before this column existed take the fee of their sessions as it stands now.
ALTER TABLE supplier_stat_cells ADD COLUMN supplier_fee_minor bigint NOT NULL DEFAULT 0;

WITH fees AS (
    SELECT a.supplier_organisation_id AS organisation_id, date_trunc('month', a.created_at AT TIME ZONE 'UTC')::date AS month,
           a.currency, a.job_id, sum(a.supplier_fee_minor)::bigint AS fee
    FROM earnings_accruals a
    WHERE a.supplier_organisation_id IS NOT NULL
    GROUP BY 1, 2, 3, 4)
UPDATE supplier_stat_cells c SET supplier_fee_minor = coalesce((
    SELECT sum(f.fee)::bigint FROM fees f
    WHERE f.organisation_id = c.organisation_id AND f.month = c.month AND f.currency = c.currency
      AND (c.job_id = '00000000-0000-0000-0000-000000000000'::uuid OR f.job_id = c.job_id)), 0);

ALTER TABLE supplier_stat_cells ALTER COLUMN supplier_fee_minor DROP DEFAULT;
ALTER TABLE supplier_stat_cells ADD CONSTRAINT ck_supplier_stat_cells_fee CHECK (supplier_fee_minor >= 0);
