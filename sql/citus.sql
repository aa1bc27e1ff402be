-- kalix.distribute_table() without Citus, and what Citus support changes on
-- one node: nothing.  test/citus.sh covers a coordinator and two workers.

CREATE TABLE citus_notes (account_id uuid NOT NULL, id int NOT NULL, PRIMARY KEY (account_id, id));

-- Arguments first, then the owner, then Citus.
SELECT kalix.distribute_table(NULL);
SELECT kalix.distribute_table('citus_notes', NULL);
CREATE ROLE citus_stranger;
SET ROLE citus_stranger;
SELECT kalix.distribute_table('citus_notes');
RESET ROLE;
DROP ROLE citus_stranger;
SELECT kalix.distribute_table('citus_notes');
SELECT kalix.distribute_table('citus_notes', reference => true);

-- On one node enable_isolation keeps the restrictive layout, and lint is
-- content with it.
SELECT kalix.enable_isolation('citus_notes');
SELECT polname, polpermissive FROM pg_policy WHERE polrelid = 'citus_notes'::regclass ORDER BY polname;
SELECT * FROM kalix.lint();

-- The kalix tables' policies hold no subquery, which Citus refuses on
-- reference tables.
SELECT count(*) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace = 'kalix'::regnamespace
  AND (p.polqual::text LIKE '%SUBLINK%' OR coalesce(p.polwithcheck::text, '') LIKE '%SUBLINK%');
SELECT count(*) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace = 'kalix'::regnamespace;

SELECT kalix.disable_isolation('citus_notes');
DROP TABLE citus_notes;

-- Clean up: this file's audit rows.
DELETE FROM kalix.audit_log WHERE detail->>'table' = 'public.citus_notes';
