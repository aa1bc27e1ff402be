-- per transaction: set the identity, then the account's appointments of one day
\set d random(0, :days - 1)
BEGIN;
SELECT set_config('app.current_login', :login, true), set_config('app.current_account', :acc, true);
SELECT id, starts_at, patient_id, status FROM d_tuned.appointments
WHERE starts_at >= timestamptz '2024-01-01' + make_interval(days => :d)
  AND starts_at < timestamptz '2024-01-01' + make_interval(days => :d + 1)
ORDER BY starts_at;
COMMIT;
