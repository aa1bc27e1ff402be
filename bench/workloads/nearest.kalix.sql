-- nearest definition wins: one row per name, from the closest account of the lineage
SELECT DISTINCT ON (name) name, id, account_id, minutes FROM d_kalix.appointment_types
ORDER BY name, kalix.lineage_distance(account_id);
