//! The data set, generated inside PostgreSQL (`INSERT … SELECT generate_series`): minutes for the
//! nation, not hours, and nothing crosses the wire (DESIGN §7).

/// How large a data set is.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub practices: u32,
    /// Monthly deliveries per practice, ending with the month before the current one.
    pub months: u32,
}

impl Scale {
    pub fn therapists(self) -> u32 {
        self.practices * THERAPISTS_PER_PRACTICE
    }
}

/// Five therapists per practice: 10,000 practices, 50,000 therapists (DESIGN §7).
pub const THERAPISTS_PER_PRACTICE: u32 = 5;
/// The EPD vendor every practice authorised.
pub const VENDOR: &str = "bench-epd";

pub fn practice_agb(n: u32) -> String {
    format!("07{n:06}")
}

pub fn therapist_agb(n: u32) -> String {
    format!("07{:06}", 100_000 + n)
}

/// The SQL that fills a migrated, empty register database. `first_month` is `YYYY-MM-01`;
/// `year` is the current cycle year.
pub fn generate_sql(scale: Scale, first_month: &str, year: i32) -> String {
    let p = scale.practices;
    let t = scale.therapists();
    let m = scale.months;
    let groups = (t / 8).max(1);
    let agb = |expr: &str| format!("'07' || lpad(({expr})::text, 6, '0')");
    let practice = agb("i");
    let therapist = agb("100000 + j");
    format!(
        "SET synchronous_commit = off;
INSERT INTO practices (agb, name, kvk_number, tier)
  SELECT {practice}, 'Oefentherapie ' || i, lpad(i::text, 8, '0'),
         CASE WHEN i % 5 = 0 THEN 'basispraktijkregister' ELSE 'praktijkregister' END
  FROM generate_series(1, {p}) i;
INSERT INTO practice_locations (practice_agb, position, agb, kvk_branch_number, street, house_number,
    postal_code, city, phone, website, own_entrance, own_waiting_room, own_reception, own_administration, own_logo)
  SELECT {practice}, 1, {practice}, lpad(i::text, 12, '0'), 'Dorpsstraat', (i % 200 + 1)::text,
         (1000 + i % 8999)::text || 'AB', 'Plaats ' || (i % 400), '030' || lpad(i::text, 7, '0'),
         'https://praktijk' || i || '.nl', true, true, true, true, true
  FROM generate_series(1, {p}) i;
INSERT INTO therapists (agb, name, kp_number, kp_status, kp_valid_from, kp_valid_until, kp_source)
  SELECT {therapist}, 'Oefentherapeut ' || j, 'KP' || j, 'kwaliteitsgeregistreerd', DATE '{y0}-01-01', DATE '{y5}-12-31', 'import'
  FROM generate_series(1, {t}) j;
INSERT INTO practice_memberships (practice_agb, therapist_agb, start_date)
  SELECT {member_practice}, {therapist}, DATE '2010-01-01' FROM generate_series(1, {t}) j;
INSERT INTO epd_authorizations (practice_agb, epd_vendor, authorized_at, authorized_by)
  SELECT {practice}, '{VENDOR}', now(), 'bench' FROM generate_series(1, {p}) i;
INSERT INTO registrations (practice_agb, cycle_year, state, registered_at)
  SELECT {practice}, y, 'registered', now() FROM generate_series(1, {p}) i, generate_series({year} - 1, {year}) y;
INSERT INTO treatment_indices (practice_agb, year, value, ci_lower, ci_upper, patient_count, source, entered_at, entered_by)
  SELECT {practice}, y, 120 + i % 50, 110 + i % 50, 130 + i % 50, 200, 'vektis', now(), 'bench'
  FROM generate_series(1, {p}) i, generate_series({year} - 3, {year}) y;
INSERT INTO iops (therapist_agb, year, drawn_up_on, uploaded_to_kp_on, quarterly_updates, used_in_appraisal,
    used_in_360_feedback, updated_at, updated_by)
  SELECT {therapist}, {year}, DATE '{year}-01-15', DATE '{year}-01-20',
         ARRAY[DATE '{year}-04-01', DATE '{year}-07-01', DATE '{year}-10-01'], true, false, now(), 'bench'
  FROM generate_series(1, {t}) j;
INSERT INTO deliveries (id, practice_agb, period, version, delivered_at, delivered_by, epd_vendor, report)
  SELECT gen_random_uuid(), {practice}, (DATE '{first_month}' + make_interval(months => k))::date, 1, now(),
         'bench', '{VENDOR}', '{{}}'
  FROM generate_series(1, {p}) i, generate_series(0, {m} - 1) k;
INSERT INTO delivery_rows (delivery_id, therapist_agb, patients, treatments, closed_episodes,
    treatments_in_closed_episodes, ldo_records_delivered, ldo_records_complete, prem_eligible, prem_offered, ldo_upload_date)
  SELECT d.id, {row_therapist}, 30, 100, 10, 50 + (random() * 40)::int, 40,
         30 + (random() * 10)::int, 20, 10 + (random() * 10)::int, d.period + 20
  FROM deliveries d, generate_series(1, {THERAPISTS_PER_PRACTICE}) k;
-- The year totals each delivery keeps up to date (one version per month here).
INSERT INTO delivery_year_totals
  SELECT extract(year FROM d.period)::int, d.practice_agb, r.therapist_agb,
         sum(r.treatments_in_closed_episodes), sum(r.closed_episodes), sum(r.ldo_records_delivered),
         sum(r.ldo_records_complete), sum(r.prem_eligible), sum(r.prem_offered)
  FROM deliveries d JOIN delivery_rows r ON r.delivery_id = d.id GROUP BY 1, 2, 3;
INSERT INTO prem_results (practice_agb, period, responses, measuring_office, consent_national_processor,
    consent_zorgkaart, submitted_at, submitted_by)
  SELECT {practice}, (DATE '{first_month}' + make_interval(months => k))::date, 50, 'bench', true, true, now(), 'bench'
  FROM generate_series(1, {p}) i, generate_series(0, {m} - 1, 3) k;
INSERT INTO prem_domain_scores (practice_agb, period, domain, responses, mean_score)
  SELECT r.practice_agb, r.period, dom, 10, 7 + random() * 2
  FROM prem_results r,
       unnest(ARRAY['bejegening', 'communicatie', 'informatie', 'samenwerking', 'resultaat']) dom;
INSERT INTO intervision_groups (id, name, created_at, created_by)
  SELECT md5('group' || g)::uuid, 'Intervisiegroep ' || g, now(), 'bench' FROM generate_series(0, {groups} - 1) g;
-- Eight therapists of two practices per group; every fourth therapist is in a second group too.
INSERT INTO intervision_members (group_id, therapist_agb, joined_on)
  SELECT md5('group' || ((j - 1) / 8 % {groups}))::uuid, {therapist}, DATE '2010-01-01' FROM generate_series(1, {t}) j
  UNION ALL
  SELECT md5('group' || ((j - 1) / 8 + 1) % {groups})::uuid, {therapist}, DATE '2010-01-01'
  FROM generate_series(1, {t}) j WHERE j % 4 = 0 AND {groups} > 1;
-- Four physical meetings per group per year.
INSERT INTO intervision_meetings (id, group_id, held_on, physical, duration_minutes, facilitator_name,
    facilitator_trained, adap_accreditation_number, adap_accreditation_year)
  SELECT gen_random_uuid(), md5('group' || g)::uuid, make_date(y, q * 3 - 1, 10), true, 120, 'Begeleider', true,
         'ADAP-' || y, y
  FROM generate_series(0, {groups} - 1) g, generate_series({first_year}, {year}) y, generate_series(1, 4) q;
INSERT INTO intervision_attendance (meeting_id, therapist_agb)
  SELECT mt.id, mb.therapist_agb FROM intervision_meetings mt JOIN intervision_members mb ON mb.group_id = mt.group_id;
",
        y0 = year - 3,
        y5 = year + 2,
        member_practice = agb("(j - 1) / 5 + 1"),
        row_therapist = agb("100000 + (substr(d.practice_agb, 3)::int - 1) * 5 + k"),
        first_year = &first_month[..4],
    )
}

/// What a national data set is made of, counted in the database.
pub const COUNTS_SQL: &str = "SELECT json_build_object(
    'practices', (SELECT count(*) FROM practices),
    'therapists', (SELECT count(*) FROM therapists),
    'deliveries', (SELECT count(*) FROM deliveries),
    'delivery_rows', (SELECT count(*) FROM delivery_rows),
    'prem_domain_scores', (SELECT count(*) FROM prem_domain_scores),
    'intervision_meetings', (SELECT count(*) FROM intervision_meetings),
    'intervision_attendance', (SELECT count(*) FROM intervision_attendance),
    'database_bytes', pg_database_size(current_database()))::text AS value";
