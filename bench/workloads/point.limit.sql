-- point lookup by primary key, one of the current account's appointments
\set id (:accno - 1) * :per + random(1, :per)
SELECT * FROM d_limit.appointments WHERE id = :id AND account_id = :acc;
