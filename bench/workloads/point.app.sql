-- point lookup by primary key, one of the current account's appointments
\set id (:accno - 1) * :per + random(1, :per)
SELECT * FROM d_app.appointments WHERE id = :id;
