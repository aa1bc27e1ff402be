-- per transaction: set the identity, then a point lookup by primary key
\set id (:accno - 1) * :per + random(1, :per)
BEGIN;
SELECT kalix.act_as(:login, :acc);
SELECT * FROM d_kalix.appointments WHERE id = :id;
COMMIT;
