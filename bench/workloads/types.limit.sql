-- the appointment types the current account sees through its lineage
SELECT id, account_id, name, minutes FROM d_limit.appointment_types WHERE account_id = ANY ((:lin)::uuid[])
ORDER BY name, id;
