DROP INDEX deliveries_current;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_practice_agb_period_version_key
    UNIQUE (practice_agb, period, version);
CREATE INDEX deliveries_current ON deliveries (practice_agb, period, version DESC);
CREATE INDEX deliveries_period ON deliveries (period);
