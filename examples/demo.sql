-- kalix_accounts walkthrough (run by `make demo`): two people, several accounts,
-- switching, and isolation shown by queries.  Each person has a database role of
-- their own here; an application would set kalix.current_login instead.

\pset footer off
-- Errors print with their DETAIL and HINT: they say what to do next.
\set VERBOSITY default
\set SHOW_CONTEXT never

CREATE EXTENSION kalix_accounts CASCADE;

-- Two people: Dr. Rivera runs the practice, Sam works the front desk.
CREATE ROLE rivera LOGIN;
CREATE ROLE sam LOGIN;
SELECT kalix.create_login('rivera@sunrise.example', 'Dr. Ana Rivera', 'rivera') AS rivera \gset
SELECT kalix.create_login('sam@sunrise.example', 'Sam Lee', 'sam') AS sam \gset

-- An application table, isolated by account.
CREATE TABLE appointments (
    account_id uuid NOT NULL,
    id bigint GENERATED ALWAYS AS IDENTITY,
    patient text NOT NULL,
    starts_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, id)
);
SELECT kalix.enable_isolation('appointments');
GRANT SELECT, INSERT, UPDATE, DELETE ON appointments TO rivera, sam;

-- Dr. Rivera creates her first account and works in it.
SET ROLE rivera;
SELECT kalix.current_login() = :'rivera' AS "I am Dr. Rivera";
SELECT kalix.create_account('Sunrise Clinic') AS sunrise \gset
SELECT kalix.switch_account(:'sunrise');
INSERT INTO appointments (account_id, patient, starts_at)
VALUES (:'sunrise', 'Jordan Smith', '2026-12-01 09:00'),
       (:'sunrise', 'Casey Brown', '2026-12-01 10:00');

-- "New Account": a second location, a child of Sunrise, with the team copied over.
SELECT kalix.create_account('Sunrise Downtown', child => true, copy_users => true) AS downtown \gset
SELECT name, parent_id = :'sunrise' AS "child of Sunrise" FROM kalix.accounts WHERE id = :'downtown';

-- Shared resources: appointment types defined at Sunrise are inherited by its
-- children (read-only); Downtown may define its own, and the nearest one wins.
RESET ROLE;
CREATE TABLE appointment_types (
    account_id uuid NOT NULL,
    name text NOT NULL,
    minutes int NOT NULL,
    PRIMARY KEY (account_id, name)
);
SELECT kalix.enable_isolation('appointment_types', inherited => true);
GRANT SELECT, INSERT, UPDATE, DELETE ON appointment_types TO rivera, sam;
SET ROLE rivera;
INSERT INTO appointment_types VALUES (:'sunrise', 'Initial visit', 60), (:'sunrise', 'Follow-up', 20);
SELECT kalix.switch_account(:'downtown');
INSERT INTO appointment_types VALUES (:'downtown', 'Initial visit', 45);
SELECT kalix.lineage() = ARRAY[:'downtown', :'sunrise']::uuid[] AS "Downtown, then Sunrise";
SELECT name, minutes, kalix.lineage_distance(account_id) AS distance
FROM appointment_types ORDER BY name, distance;
-- Nearest definition wins:
SELECT DISTINCT ON (name) name, minutes FROM appointment_types
ORDER BY name, kalix.lineage_distance(account_id);
-- The parent pays for its children.
SELECT kalix.billing_account() = :'sunrise' AS "Sunrise pays for Downtown";
SELECT name, depth FROM kalix.billed_accounts() ORDER BY depth, name;
SELECT path FROM kalix.account_tree ORDER BY path;

-- Several NPIs per account; one is primary.  The type npi (extension
-- kalix_npi, in public) needs no schema on the path.
SELECT kalix.add_npi(:'sunrise', '1234567893', 'Group NPI', is_primary => true);
SELECT kalix.add_npi(:'sunrise', ' 808401245319599 ', 'Dr. Rivera');
SELECT npi, label, is_primary FROM kalix.account_npis WHERE account_id = :'sunrise' ORDER BY npi;
\set ON_ERROR_STOP 0
SELECT '1234567890'::npi;
\set ON_ERROR_STOP 1

-- The Switch tab lists her accounts; switching changes what every query sees.
SELECT name, role, is_current FROM kalix.my_accounts();
SELECT kalix.switch_account(:'downtown');
INSERT INTO appointments (account_id, patient, starts_at)
VALUES (:'downtown', 'Riley Chen', '2026-12-02 14:00');
SELECT patient FROM appointments ORDER BY starts_at;        -- only Downtown's row
SELECT kalix.switch_account(:'sunrise');
SELECT patient FROM appointments ORDER BY starts_at;        -- only Sunrise's rows

-- Writing into another account than the current one is refused.
\set ON_ERROR_STOP 0
INSERT INTO appointments (account_id, patient, starts_at)
VALUES (:'downtown', 'Wrong Place', '2026-12-03 08:00');
\set ON_ERROR_STOP 1

-- With no account chosen, isolated tables show nothing (fail closed).
RESET kalix.current_account;
SELECT count(*) AS "rows with no account" FROM appointments;
RESET ROLE;

-- Sam is not a member of anything yet: he can neither switch nor see.
SET ROLE sam;
\set ON_ERROR_STOP 0
SELECT kalix.switch_account(:'sunrise');
SET kalix.current_account = :'sunrise';
\set ON_ERROR_STOP 1
SELECT count(*) AS "accounts Sam sees" FROM kalix.accounts;
RESET ROLE;

-- Dr. Rivera adds Sam to Downtown; he can now switch there, and sees
-- Downtown's appointments and the appointment types it inherits.
SET ROLE rivera;
SELECT kalix.add_member(:'downtown', :'sam', 'member');
RESET ROLE;
SET ROLE sam;
SELECT name, role FROM kalix.my_accounts();
SELECT kalix.switch_account(:'downtown');
SELECT patient FROM appointments;
SELECT DISTINCT ON (name) name, minutes FROM appointment_types
ORDER BY name, kalix.lineage_distance(account_id);
RESET kalix.current_account;
RESET ROLE;

-- A trusted application role acts for whichever person is signed in.
CREATE ROLE app LOGIN;
GRANT SET ON PARAMETER kalix.current_login TO app;
GRANT SELECT ON appointments TO app;
SET ROLE app;
BEGIN;
SELECT set_config('kalix.current_login', :'rivera', true);
SELECT kalix.switch_account(:'downtown', true);
SELECT patient FROM appointments;
COMMIT;
SELECT count(*) AS "after the request's transaction" FROM appointments;
RESET ROLE;

-- Every change made through the functions is in the audit trail.
SELECT action, account_id IS NOT NULL AS "per account" FROM kalix.audit_log ORDER BY id;
