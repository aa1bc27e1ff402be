-- the appointment types the current account sees through its lineage
SELECT id, account_id, name, minutes FROM d_app.appointment_types
ORDER BY name, id;
