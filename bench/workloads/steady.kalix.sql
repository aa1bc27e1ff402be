-- the same statement on a look-alike table (no kalix invalidation), then a point lookup
\set id (:accno - 1) * :per + random(1, :per)
SELECT bench.touch_lookalike();
SELECT * FROM d_kalix.appointments WHERE id = :id;
