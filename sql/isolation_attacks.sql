-- isolation_attacks: what the 1.1 security review did to isolated tables as
-- their owner (items 6 and 7), each as it was run, and how it now fails.
\set SHOW_CONTEXT never

-- The roles are the fixture's (sql/fixture.sql).
SELECT kalix.create_login('owner@iso-attacks.test', 'Owner', 'fixture_owner') AS owner_login \gset
SELECT kalix.create_login('tenant@iso-attacks.test', 'Tenant', 'fixture_alice') AS tenant_login \gset
INSERT INTO kalix.accounts (id, name) VALUES
    ('ad000000-0000-0000-0000-00000000000a', 'Iso Attacks A'),
    ('ad000000-0000-0000-0000-00000000000b', 'Iso Attacks B');
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    ('ad000000-0000-0000-0000-00000000000a', :'tenant_login', 'owner');

CREATE TABLE iso_notes (id int, account_id uuid NOT NULL, body text, PRIMARY KEY (account_id, id));
INSERT INTO iso_notes VALUES
    (1, 'ad000000-0000-0000-0000-00000000000a', 'a1'),
    (2, 'ad000000-0000-0000-0000-00000000000b', 'b1');
ALTER TABLE iso_notes OWNER TO fixture_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON iso_notes TO fixture_alice;
SET ROLE fixture_owner;
SELECT kalix.enable_isolation('iso_notes');
RESET ROLE;

------------------------------------------------------------------------------
-- Item 7: the table's owner alters or drops the kalix policies, reads
-- everything and puts them back.  Every step is refused with a hint.
------------------------------------------------------------------------------

SET ROLE fixture_owner;
ALTER POLICY kalix_select ON iso_notes USING (true);
DROP POLICY kalix_select ON iso_notes;
DROP POLICY IF EXISTS kalix_permit ON iso_notes;
ALTER POLICY kalix_update ON iso_notes RENAME TO old_update;
CREATE POLICY iso_everything ON iso_notes AS RESTRICTIVE FOR SELECT USING (true);
ALTER TABLE iso_notes NO FORCE ROW LEVEL SECURITY;
ALTER TABLE iso_notes DISABLE ROW LEVEL SECURITY;
ALTER TABLE iso_notes ADD COLUMN note_date date, NO FORCE ROW LEVEL SECURITY;
-- The account column carries the policies: dropping it (CASCADE would drop
-- them), renaming it or changing its type is refused as well.
ALTER TABLE iso_notes DROP COLUMN account_id CASCADE;
ALTER TABLE iso_notes RENAME COLUMN account_id TO tenant;
ALTER TABLE iso_notes ALTER COLUMN account_id TYPE text;
-- With no account, still nothing.
SELECT count(*) AS rows_the_owner_sees FROM iso_notes;
-- Other changes to the table are the owner's, as before.
ALTER TABLE iso_notes ADD COLUMN note_date date;
ALTER TABLE iso_notes RENAME COLUMN note_date TO noted_on;
ALTER TABLE iso_notes DROP COLUMN noted_on;
ALTER TABLE iso_notes ENABLE ROW LEVEL SECURITY;
RESET ROLE;
-- Nothing changed: lint has nothing to report.
SELECT * FROM kalix.lint();

-- The tenant, who does not own the table, is refused the same way.
SET ROLE fixture_alice;
DROP POLICY kalix_select ON iso_notes;
RESET ROLE;

-- A superuser may; lint then reports what it changed (and puts it back
-- through the functions).
ALTER POLICY kalix_select ON iso_notes USING (true);
ALTER TABLE iso_notes NO FORCE ROW LEVEL SECURITY;
SELECT * FROM kalix.lint();
SET ROLE fixture_owner;
SELECT kalix.disable_isolation('iso_notes');
SELECT kalix.enable_isolation('iso_notes');
RESET ROLE;
SELECT * FROM kalix.lint();

-- Nor can the owner take the table out of the registry to escape the
-- guard, or change the extension's objects: they are the extension owner's.
SET ROLE fixture_owner;
DELETE FROM kalix.isolated_tables WHERE tbl = 'iso_notes'::regclass;
UPDATE kalix.isolated_tables SET account_column = 'id';
ALTER TABLE kalix.isolated_tables DISABLE ROW LEVEL SECURITY;
DROP POLICY isolated_tables_public ON kalix.isolated_tables;
ALTER EVENT TRIGGER kalix_guard_isolation_ddl DISABLE;
-- TRUNCATE, which row-level security does not govern, needs its own grant.
RESET ROLE;
SET ROLE fixture_alice;
TRUNCATE iso_notes;
RESET ROLE;
SELECT count(*) AS registered FROM kalix.isolated_tables WHERE tbl = 'iso_notes'::regclass;

-- In a session where no kalix function ran yet (the library not loaded),
-- the refusal holds too: it is an event trigger, not a hook.
\c
SET ROLE fixture_owner;
DROP POLICY kalix_select ON iso_notes;
RESET ROLE;

------------------------------------------------------------------------------
-- Item 6: partitions of an isolated table.  enable_isolation on a
-- partitioned table gave no warning, its partitions had relrowsecurity = f,
-- and the owner, with no account, read foreign rows with SELECT * FROM
-- events_p0.  Now every partition, existing or created or attached later,
-- is isolated as its parent is, and appears in kalix.isolated_tables.
------------------------------------------------------------------------------

CREATE TABLE events (id int, account_id uuid NOT NULL, what text) PARTITION BY RANGE (id);
CREATE INDEX ON events (account_id);
CREATE TABLE events_p0 PARTITION OF events FOR VALUES FROM (0) TO (100);
ALTER TABLE events OWNER TO fixture_owner;
ALTER TABLE events_p0 OWNER TO fixture_owner;
INSERT INTO events VALUES
    (1, 'ad000000-0000-0000-0000-00000000000a', 'a event'),
    (2, 'ad000000-0000-0000-0000-00000000000b', 'b event');
GRANT CREATE ON SCHEMA public TO fixture_owner;
SET ROLE fixture_owner;
SELECT kalix.enable_isolation('events');
-- The attack as run: the owner, no account set.
SELECT * FROM events_p0;
SELECT * FROM events;
RESET ROLE;
SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
WHERE relname LIKE 'events%' AND relkind IN ('r', 'p') ORDER BY relname;

-- Created later with PARTITION OF, or attached: isolated at once.
SET ROLE fixture_owner;
CREATE TABLE events_p1 PARTITION OF events FOR VALUES FROM (100) TO (200) PARTITION BY LIST (what);
CREATE TABLE events_p1_b PARTITION OF events_p1 FOR VALUES IN ('b event later');
CREATE TABLE events_p2 (id int, account_id uuid NOT NULL, what text);
INSERT INTO events_p2 VALUES (250, 'ad000000-0000-0000-0000-00000000000b', 'b before attach');
ALTER TABLE events ATTACH PARTITION events_p2 FOR VALUES FROM (200) TO (300);
RESET ROLE;
INSERT INTO events VALUES (150, 'ad000000-0000-0000-0000-00000000000b', 'b event later');
SET ROLE fixture_owner;
SELECT * FROM events_p2;
SELECT * FROM events_p1_b;
SELECT * FROM events;
RESET ROLE;
SELECT tbl, account_column, inherited FROM kalix.isolated_tables WHERE tbl::text LIKE 'events%' ORDER BY 1;
SELECT action, detail FROM kalix.audit_log
WHERE action = 'enable_isolation' AND detail->>'table' LIKE 'public.events%' ORDER BY id;
SELECT * FROM kalix.lint();

-- In the tenant's account: exactly its rows, through the parent or a partition.
GRANT SELECT ON events, events_p0, events_p2 TO fixture_alice;
SET ROLE fixture_alice;
SELECT kalix.switch_account('ad000000-0000-0000-0000-00000000000a') IS NOT NULL AS switched;
SELECT * FROM events;
SELECT * FROM events_p0;
SELECT * FROM events_p2;
RESET kalix.current_account;
RESET ROLE;

-- A partition's isolation is its parent's: it is not disabled alone, and
-- its policies are guarded like the parent's.
SET ROLE fixture_owner;
SELECT kalix.disable_isolation('events_p0');
ALTER TABLE events_p0 DISABLE ROW LEVEL SECURITY;
-- Detached, a partition stays isolated (fail closed).
ALTER TABLE events DETACH PARTITION events_p2;
SELECT count(*) AS detached_rows_seen FROM events_p2;
SELECT kalix.disable_isolation('events_p2');
-- A dropped partition leaves the registry.
CREATE TABLE events_p3 PARTITION OF events FOR VALUES FROM (300) TO (400);
SELECT 'events_p3'::regclass::oid AS p3 \gset
SELECT count(*) AS p3_registered FROM kalix.isolated_tables WHERE tbl::oid = :p3;
DROP TABLE events_p3;
SELECT count(*) AS p3_registered FROM kalix.isolated_tables WHERE tbl::oid = :p3;
-- Disabling the parent disables every partition.
SELECT kalix.disable_isolation('events');
SELECT tbl FROM kalix.isolated_tables WHERE tbl::text LIKE 'events%' ORDER BY 1;
SELECT count(*) FROM pg_policy WHERE polrelid::regclass::text LIKE 'events%';
RESET ROLE;

------------------------------------------------------------------------------
-- Clean up
------------------------------------------------------------------------------

DROP TABLE events, events_p2, iso_notes;
DELETE FROM kalix.audit_log WHERE detail->>'table' IN ('public.iso_notes', 'public.events')
    OR detail->>'table' LIKE 'public.events\_p%'
    OR login_id IN (:'owner_login', :'tenant_login')
    OR detail->>'login_id' IN (:'owner_login', :'tenant_login');
DELETE FROM kalix.memberships WHERE account_id::text LIKE 'ad000000-%';
DELETE FROM kalix.accounts WHERE id::text LIKE 'ad000000-%';
DELETE FROM kalix.logins WHERE id IN (:'owner_login', :'tenant_login');
REVOKE CREATE ON SCHEMA public FROM fixture_owner;
SELECT count(*) AS registered_left FROM kalix.isolated_tables;
