-- The warehouse schema of release 5 (kj_pipelines/warehouse.py at the stop-17 landing: the
-- baseline and migration 5), kept to test that a warehouse of that release upgrades in place.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS mart;
CREATE SCHEMA IF NOT EXISTS quarantine;
CREATE TABLE IF NOT EXISTS raw.submission_files (
    sha256 VARCHAR PRIMARY KEY, file VARCHAR, archived_as VARCHAR, submitted_at TIMESTAMP,
    received_at TIMESTAMP, status VARCHAR, rows_read INTEGER, rows_accepted INTEGER);
CREATE TABLE IF NOT EXISTS raw.submission_values (
    sha256 VARCHAR, source_file VARCHAR, sheet VARCHAR, "row" INTEGER, unit VARCHAR,
    indicator VARCHAR, period VARCHAR, value DOUBLE, cumulative DOUBLE, note VARCHAR,
    submitted_at TIMESTAMP, received_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS quarantine.rejections (
    source_file VARCHAR, sha256 VARCHAR, sheet VARCHAR, "row" INTEGER, "column" VARCHAR,
    value VARCHAR, reason_code VARCHAR, message VARCHAR, received_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS core.annual_targets (
    year INTEGER, indicator VARCHAR, unit VARCHAR, target DOUBLE, deadline_month INTEGER,
    department VARCHAR, source_file VARCHAR, "row" INTEGER);
CREATE TABLE IF NOT EXISTS core.registry_values (
    unit VARCHAR, indicator VARCHAR, period VARCHAR, value DOUBLE, cumulative DOUBLE);
CREATE TABLE IF NOT EXISTS mart.indicator_values (
    period VARCHAR, indicator VARCHAR, unit VARCHAR, value DOUBLE, monthly DOUBLE,
    source VARCHAR, updated_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS mart.indicator_plan (
    year INTEGER, indicator VARCHAR, unit VARCHAR, month INTEGER, period VARCHAR,
    quarter INTEGER, baseline DOUBLE, target DOUBLE, planned DOUBLE, planned_share DOUBLE,
    profile VARCHAR, target_source VARCHAR);
CREATE TABLE IF NOT EXISTS mart.goal_distance (
    indicator VARCHAR, unit VARCHAR, goal_year INTEGER, goal DOUBLE, as_of VARCHAR,
    latest DOUBLE, remaining DOUBLE, progress DOUBLE);
CREATE TABLE IF NOT EXISTS mart.indicator_progress (
    period VARCHAR, indicator VARCHAR, unit VARCHAR, actual DOUBLE, target DOUBLE,
    planned DOUBLE, completion DOUBLE, planned_share DOUBLE, gap DOUBLE, status VARCHAR,
    department VARCHAR, updated_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS mart.warnings (
    warning_id VARCHAR PRIMARY KEY, raised_at TIMESTAMP, period VARCHAR, indicator VARCHAR,
    unit VARCHAR, level VARCHAR, message VARCHAR, notified BOOLEAN, attempts INTEGER,
    last_error VARCHAR, kind VARCHAR);
CREATE TABLE IF NOT EXISTS mart.unit_scores (
    period VARCHAR, unit VARCHAR, score DOUBLE, rank INTEGER, band VARCHAR, indicators INTEGER,
    red INTEGER, yellow INTEGER, grey INTEGER);
CREATE TABLE IF NOT EXISTS mart.weekly_watchlist (
    week VARCHAR, period VARCHAR, indicator VARCHAR, unit VARCHAR, status VARCHAR, gap DOUBLE);
CREATE TABLE IF NOT EXISTS core.task_plan (
    year INTEGER, task_code VARCHAR, action VARCHAR, content VARCHAR, lead_unit VARCHAR,
    cooperating VARCHAR, official VARCHAR, source_file VARCHAR, "row" INTEGER);
CREATE TABLE IF NOT EXISTS core.task_milestones (
    year INTEGER, task_code VARCHAR, seq INTEGER, milestone VARCHAR, due DATE);
CREATE TABLE IF NOT EXISTS core.project_plan (
    year INTEGER, project_code VARCHAR, name VARCHAR, lead_unit VARCHAR, cooperating VARCHAR,
    official VARCHAR, total_investment DOUBLE, q1 DOUBLE, q2 DOUBLE, q3 DOUBLE, q4 DOUBLE,
    source_file VARCHAR, "row" INTEGER);
CREATE TABLE IF NOT EXISTS core.project_milestones (
    year INTEGER, project_code VARCHAR, seq INTEGER, milestone VARCHAR, due DATE);
CREATE TABLE IF NOT EXISTS core.supervision_feedback (
    year INTEGER, item_id VARCHAR, accepted_on DATE, note VARCHAR, source_file VARCHAR,
    "row" INTEGER);
CREATE TABLE IF NOT EXISTS raw.task_progress (
    sha256 VARCHAR, source_file VARCHAR, sheet VARCHAR, "row" INTEGER, unit VARCHAR,
    period VARCHAR, task_code VARCHAR, milestone VARCHAR, done_on DATE, progress DOUBLE,
    note VARCHAR, submitted_at TIMESTAMP, received_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS raw.project_progress (
    sha256 VARCHAR, source_file VARCHAR, sheet VARCHAR, "row" INTEGER, unit VARCHAR,
    period VARCHAR, project_code VARCHAR, invested DOUBLE, milestone VARCHAR, done_on DATE,
    note VARCHAR, submitted_at TIMESTAMP, received_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS raw.problem_events (
    sha256 VARCHAR, source_file VARCHAR, sheet VARCHAR, "row" INTEGER, problem_id VARCHAR,
    period VARCHAR, unit VARCHAR, action VARCHAR, event_date DATE, content VARCHAR,
    category VARCHAR, handler VARCHAR, wish_date DATE, reply VARCHAR, submitted_at TIMESTAMP,
    received_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS mart.targets (
    period VARCHAR, year INTEGER, indicator VARCHAR, unit VARCHAR, target DOUBLE,
    deadline_month INTEGER, department VARCHAR, as_of VARCHAR, actual DOUBLE, completion DOUBLE,
    status VARCHAR);
CREATE TABLE IF NOT EXISTS mart.responsibilities (
    period VARCHAR, item_kind VARCHAR, item_code VARCHAR, item_name VARCHAR, lead_unit VARCHAR,
    cooperating VARCHAR, official VARCHAR, issue VARCHAR);
CREATE TABLE IF NOT EXISTS mart.tasks (
    period VARCHAR, task_code VARCHAR, action VARCHAR, content VARCHAR, lead_unit VARCHAR,
    cooperating VARCHAR, official VARCHAR, due DATE, next_milestone VARCHAR, milestones INTEGER,
    milestones_done INTEGER, progress DOUBLE, status VARCHAR, days_overdue INTEGER,
    note VARCHAR);
CREATE TABLE IF NOT EXISTS mart.milestones (
    period VARCHAR, task_code VARCHAR, seq INTEGER, milestone VARCHAR, due DATE, done_on DATE,
    status VARCHAR, late BOOLEAN, lead_unit VARCHAR);
CREATE TABLE IF NOT EXISTS mart.projects (
    period VARCHAR, project_code VARCHAR, name VARCHAR, lead_unit VARCHAR, cooperating VARCHAR,
    official VARCHAR, annual_investment DOUBLE, planned_investment DOUBLE,
    completed_investment DOUBLE, completion DOUBLE, planned_share DOUBLE, gap DOUBLE,
    next_milestone VARCHAR, due DATE, milestones INTEGER, milestones_done INTEGER,
    status VARCHAR, note VARCHAR);
CREATE TABLE IF NOT EXISTS mart.project_milestones (
    period VARCHAR, project_code VARCHAR, seq INTEGER, milestone VARCHAR, due DATE,
    done_on DATE, status VARCHAR, late BOOLEAN);
CREATE TABLE IF NOT EXISTS mart.problems (
    period VARCHAR, problem_id VARCHAR, raised_by VARCHAR, handler VARCHAR, state VARCHAR,
    content VARCHAR, category VARCHAR, raised_on DATE, due DATE, resolved_on DATE,
    closed_on DATE, reply VARCHAR, refusals INTEGER, last_event DATE, age_days INTEGER,
    overdue BOOLEAN, on_time BOOLEAN);
CREATE TABLE IF NOT EXISTS mart.supervision (
    period VARCHAR, item_id VARCHAR, source VARCHAR, ref VARCHAR, unit VARCHAR, title VARCHAR,
    opened_on DATE, due DATE, status VARCHAR, closed_on DATE, close_reason VARCHAR,
    reopened INTEGER, overdue BOOLEAN);
CREATE TABLE IF NOT EXISTS core.indicator_status (
    period VARCHAR, indicator VARCHAR, unit VARCHAR, actual DOUBLE, target DOUBLE,
    planned DOUBLE, completion DOUBLE, planned_share DOUBLE, gap DOUBLE, status VARCHAR,
    department VARCHAR, updated_at TIMESTAMP, missing_units INTEGER, as_of VARCHAR);
ALTER TABLE mart.indicator_progress ADD COLUMN IF NOT EXISTS missing_units INTEGER;
ALTER TABLE mart.indicator_progress ADD COLUMN IF NOT EXISTS as_of VARCHAR;
ALTER TABLE mart.goal_distance ADD COLUMN IF NOT EXISTS period VARCHAR;
ALTER TABLE core.annual_targets ADD COLUMN IF NOT EXISTS comparator VARCHAR;
ALTER TABLE core.annual_targets ADD COLUMN IF NOT EXISTS stretch DOUBLE;
ALTER TABLE core.annual_targets ADD COLUMN IF NOT EXISTS target_text VARCHAR;
ALTER TABLE core.annual_targets ADD COLUMN IF NOT EXISTS baseline DOUBLE;
ALTER TABLE mart.indicator_plan ADD COLUMN IF NOT EXISTS comparator VARCHAR;
ALTER TABLE mart.targets ADD COLUMN IF NOT EXISTS target_text VARCHAR;
ALTER TABLE mart.targets ADD COLUMN IF NOT EXISTS stretch DOUBLE;
ALTER TABLE mart.indicator_plan ADD COLUMN IF NOT EXISTS baseline_source VARCHAR;
ALTER TABLE mart.unit_scores ADD COLUMN IF NOT EXISTS peer_group VARCHAR;
CREATE OR REPLACE VIEW core.submitted_values AS
    SELECT unit, indicator, period, value, cumulative, sha256, source_file, sheet, "row",
           submitted_at, received_at
    FROM (SELECT *, row_number() OVER (
              PARTITION BY unit, indicator, period
              ORDER BY submitted_at DESC, received_at DESC, sha256 DESC, "row" DESC) AS rn
          FROM raw.submission_values)
    WHERE rn = 1;
ALTER TABLE mart.unit_scores ADD COLUMN IF NOT EXISTS month VARCHAR;
ALTER TABLE mart.unit_scores ADD COLUMN IF NOT EXISTS bonus DOUBLE;
ALTER TABLE mart.unit_scores ADD COLUMN IF NOT EXISTS deduction DOUBLE;
ALTER TABLE mart.unit_scores ADD COLUMN IF NOT EXISTS review VARCHAR;
CREATE TABLE IF NOT EXISTS mart.score_items (
    period VARCHAR, unit VARCHAR, seq INTEGER, part VARCHAR, item VARCHAR, item_name VARCHAR,
    figure VARCHAR,
    ratio DOUBLE, points DOUBLE, max_points DOUBLE);
CREATE TABLE IF NOT EXISTS core.schema_version (version INTEGER, applied_at TIMESTAMP);
INSERT INTO core.schema_version VALUES (4, TIMESTAMP '2026-10-01 09:00:00');
INSERT INTO core.schema_version VALUES (5, TIMESTAMP '2026-11-20 09:00:00');
