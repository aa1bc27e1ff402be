-- a statement on kalix.memberships (its trigger invalidates the cache), then a point lookup
\set id (:accno - 1) * :per + random(1, :per)
SELECT bench.touch_memberships();
SELECT * FROM d_kalix.appointments WHERE id = :id;
