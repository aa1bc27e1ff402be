-- per transaction: set the identity, then a point lookup by primary key
\set id (:accno - 1) * :per + random(1, :per)
BEGIN;
SELECT set_config('app.current_account', :acc, true), set_config('app.lineage', :lin, true);
SELECT * FROM d_app.appointments WHERE id = :id;
COMMIT;
