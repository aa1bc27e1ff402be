-- per transaction: set the identity, then count the account's appointments
BEGIN;
SELECT kalix.act_as(:login, :acc);
SELECT count(*), max(starts_at) FROM d_kalix.appointments;
COMMIT;
