-- Release 7's warehouse = release 6's + migration 7 as release 7 shipped it (kj_pipelines/
-- warehouse.py at the stop-26 landing). The upgrade test loads 4, 5, 6 and 7 in turn.
CREATE TABLE IF NOT EXISTS mart.indicator_projection (
    period VARCHAR, indicator VARCHAR, unit VARCHAR, year INTEGER, month INTEGER,
    actual DOUBLE, target DOUBLE, baseline DOUBLE, projected_seasonal DOUBLE,
    projected_pace DOUBLE, projected DOUBLE, band_low DOUBLE, band_high DOUBLE,
    projected_completion DOUBLE, shortfall DOUBLE, needed_monthly DOUBLE, fast BOOLEAN,
    slow BOOLEAN, confirmed BOOLEAN, basis VARCHAR, updated_at TIMESTAMP);
ALTER TABLE mart.warnings ADD COLUMN IF NOT EXISTS digest_id VARCHAR;
INSERT INTO core.schema_version VALUES (7, TIMESTAMP '2026-12-01 09:00:00');
