-- Per year, practice and therapist: the totals of the current version of every monthly delivery
-- of the year, kept up to date by each delivery (a new version replaces the old one's share).
-- The benchmark's national quartiles read these instead of every delivery row of the nation.
CREATE TABLE delivery_year_totals (
    year INT NOT NULL,
    practice_agb TEXT NOT NULL REFERENCES practices (agb) ON DELETE CASCADE,
    therapist_agb TEXT NOT NULL,
    treatments_in_closed_episodes BIGINT NOT NULL,
    closed_episodes BIGINT NOT NULL,
    ldo_records_delivered BIGINT NOT NULL,
    ldo_records_complete BIGINT NOT NULL,
    prem_eligible BIGINT NOT NULL,
    prem_offered BIGINT NOT NULL,
    PRIMARY KEY (year, practice_agb, therapist_agb)
);

INSERT INTO delivery_year_totals
SELECT extract(year FROM c.period)::int, c.practice_agb, r.therapist_agb,
       sum(r.treatments_in_closed_episodes), sum(r.closed_episodes),
       sum(r.ldo_records_delivered), sum(r.ldo_records_complete),
       sum(r.prem_eligible), sum(r.prem_offered)
FROM (SELECT DISTINCT ON (practice_agb, period) id, practice_agb, period FROM deliveries
      ORDER BY practice_agb, period, version DESC) c
JOIN delivery_rows r ON r.delivery_id = c.id
GROUP BY 1, 2, 3;
