-- all of the current account's appointments (per-account scan)
SELECT count(*), max(starts_at) FROM d_app.appointments;
