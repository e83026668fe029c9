ALTER TABLE registrations DROP COLUMN visitation_report_sha256;
