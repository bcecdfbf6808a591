-- Release 5's warehouse = release 4's (schema_v4.sql) + migration 5 as release 5 shipped it
-- (kj_pipelines/warehouse.py at the stop-17 landing). The upgrade test loads both in turn.
ALTER TABLE mart.unit_scores ADD COLUMN IF NOT EXISTS month VARCHAR;
ALTER TABLE mart.unit_scores ADD COLUMN IF NOT EXISTS bonus DOUBLE;
ALTER TABLE mart.unit_scores ADD COLUMN IF NOT EXISTS deduction DOUBLE;
ALTER TABLE mart.unit_scores ADD COLUMN IF NOT EXISTS review VARCHAR;
CREATE TABLE IF NOT EXISTS mart.score_items (
    period VARCHAR, unit VARCHAR, seq INTEGER, part VARCHAR, item VARCHAR, item_name VARCHAR,
    figure VARCHAR,
    ratio DOUBLE, points DOUBLE, max_points DOUBLE);
INSERT INTO core.schema_version VALUES (5, TIMESTAMP '2026-11-20 09:00:00');
