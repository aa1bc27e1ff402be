-- per transaction: set the identity, then a point lookup by primary key
\set id (:accno - 1) * :per + random(1, :per)
BEGIN;
SELECT :login::text, :acc::text;
SELECT * FROM d_limit.appointments WHERE id = :id AND account_id = :acc;
COMMIT;
