-- Release 6's warehouse = release 5's + migration 6 as release 6 shipped it (kj_pipelines/
-- warehouse.py at the stop-18 landing). The upgrade test loads 4, 5 and 6 in turn.
ALTER TABLE raw.submission_values ADD COLUMN IF NOT EXISTS value_column VARCHAR;
ALTER TABLE raw.submission_values ADD COLUMN IF NOT EXISTS cumulative_column VARCHAR;
INSERT INTO core.schema_version VALUES (6, TIMESTAMP '2026-11-24 09:00:00');
