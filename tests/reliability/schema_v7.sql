-- release 7: what migration 7 added to release 6 (the projections, the digest's id)
CREATE TABLE IF NOT EXISTS mart.indicator_projection (
    period VARCHAR, indicator VARCHAR, unit VARCHAR, year INTEGER, month INTEGER,
    actual DOUBLE, target DOUBLE, baseline DOUBLE, projected_seasonal DOUBLE,
    projected_pace DOUBLE, projected DOUBLE, band_low DOUBLE, band_high DOUBLE,
    projected_completion DOUBLE, shortfall DOUBLE, needed_monthly DOUBLE, fast BOOLEAN,
    slow BOOLEAN, confirmed BOOLEAN, basis VARCHAR, updated_at TIMESTAMP);
ALTER TABLE mart.warnings ADD COLUMN IF NOT EXISTS digest_id VARCHAR;
INSERT INTO core.schema_version VALUES (7, TIMESTAMP '2026-12-05 09:00:00');
