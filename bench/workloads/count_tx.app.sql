-- per transaction: set the identity, then count the account's appointments
BEGIN;
SELECT set_config('app.current_account', :acc, true), set_config('app.lineage', :lin, true);
SELECT count(*), max(starts_at) FROM d_app.appointments;
COMMIT;
