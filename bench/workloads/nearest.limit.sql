-- nearest definition wins: one row per name, from the closest account of the lineage
SELECT DISTINCT ON (name) name, id, account_id, minutes FROM d_limit.appointment_types WHERE account_id = ANY ((:lin)::uuid[])
ORDER BY name, array_position((:lin)::uuid[], account_id);
