-- nearest definition wins: one row per name, from the closest account of the lineage
SELECT DISTINCT ON (name) name, id, account_id, minutes FROM d_tuned.appointment_types
ORDER BY name, array_position((SELECT app.lineage()), account_id);
