-- the current account's appointments of one day (index range scan)
\set d random(0, :days - 1)
SELECT id, starts_at, patient_id, status FROM d_app.appointments
WHERE starts_at >= timestamptz '2024-01-01' + make_interval(days => :d)
  AND starts_at < timestamptz '2024-01-01' + make_interval(days => :d + 1)
ORDER BY starts_at;
