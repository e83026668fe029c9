-- The SHA-256 of the visitation report that came with the outcome (001 §1.2g): the register's
-- evidence that the report is uploaded.
ALTER TABLE registrations
    ADD COLUMN visitation_report_sha256 text
        CHECK (visitation_report_sha256 ~ '^[0-9a-f]{64}$');
