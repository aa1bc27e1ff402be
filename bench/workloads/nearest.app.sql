-- nearest definition wins: one row per name, from the closest account of the lineage
SELECT DISTINCT ON (name) name, id, account_id, minutes FROM d_app.appointment_types
ORDER BY name, array_position(nullif(current_setting('app.lineage', true), '')::uuid[], account_id);
