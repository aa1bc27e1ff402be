-- transaction pooling: a random login's random account, chosen per transaction, then a read
\set l random(1, :nlogins)
\set k random(0, :l % 5)
\set a (:l - 1 + :k * :step) % :naccts + 1
\set d random(0, :days - 1)
BEGIN;
SELECT bench.login_id(:l)::text, true;
SELECT bench.account_id(:a), true;
SELECT id, starts_at, patient_id, status FROM d_limit.appointments
WHERE starts_at >= timestamptz '2024-01-01' + make_interval(days => :d)
  AND starts_at < timestamptz '2024-01-01' + make_interval(days => :d + 1) AND account_id = bench.account_id(:a)
ORDER BY starts_at;
END;
