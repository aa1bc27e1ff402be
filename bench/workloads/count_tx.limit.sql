-- per transaction: set the identity, then count the account's appointments
BEGIN;
SELECT :login::text, :acc::text;
SELECT count(*), max(starts_at) FROM d_limit.appointments WHERE account_id = :acc;
COMMIT;
