-- One index for what three did: the current version of a practice's month is found, and a version
-- is unique per practice and month, by (practice_agb, period, version DESC). No statement reads
-- deliveries by month alone any more (the national figures read delivery_year_totals), so the
-- month index only cost every delivery an insertion.
DROP INDEX deliveries_period;
DROP INDEX deliveries_current;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_practice_agb_period_version_key;
CREATE UNIQUE INDEX deliveries_current ON deliveries (practice_agb, period, version DESC);
