-- per transaction: set the identity, then a point lookup by primary key
\set id (:accno - 1) * :per + random(1, :per)
BEGIN;
SELECT set_config('app.current_login', :login, true), set_config('app.current_account', :acc, true);
SELECT * FROM d_tuned.appointments WHERE id = :id;
COMMIT;
