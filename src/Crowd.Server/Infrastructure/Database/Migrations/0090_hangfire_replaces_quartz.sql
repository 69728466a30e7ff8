-- Hangfire runs every scheduled and background job now, in its own "hangfire" schema (created by SchemaMigrator under
-- the migration lock, from Hangfire.PostgreSql's own scripts). Quartz's job store goes.
DROP TABLE IF EXISTS qrtz_fired_triggers, qrtz_paused_trigger_grps, qrtz_paused_job_grps, qrtz_scheduler_state, qrtz_locks,
    qrtz_simple_triggers, qrtz_cron_triggers, qrtz_simprop_triggers, qrtz_blob_triggers, qrtz_triggers, qrtz_job_details,
    qrtz_calendars, qrtz_execution_history, qrtz_misfire_history, qrtz_job_status CASCADE;
