-- per transaction: set the identity, then the account's appointments of one day
\set d random(0, :days - 1)
BEGIN;
SELECT :login::text, :acc::text;
SELECT id, starts_at, patient_id, status FROM d_limit.appointments
WHERE starts_at >= timestamptz '2024-01-01' + make_interval(days => :d)
  AND starts_at < timestamptz '2024-01-01' + make_interval(days => :d + 1) AND account_id = :acc
ORDER BY starts_at;
COMMIT;
