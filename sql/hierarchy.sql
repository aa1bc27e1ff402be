-- Child accounts: linking, inherited resources, consolidated billing.
--
-- The tree (ids fixed so that error texts can be frozen):
--   Sunrise Clinic (root, the payer)
--   └─ West Region
--      ├─ Downtown ─ Pediatrics
--      └─ Uptown
-- plus Harbor Dietetics (independent) and Old Annex (to be archived).

\set sunrise    5a000000-0000-4000-8000-000000000001
\set region     5a000000-0000-4000-8000-000000000002
\set downtown   5a000000-0000-4000-8000-000000000003
\set pediatrics 5a000000-0000-4000-8000-000000000004
\set uptown     5a000000-0000-4000-8000-000000000005
\set harbor     5a000000-0000-4000-8000-000000000006
\set annex      5a000000-0000-4000-8000-000000000007
\set nowhere    5a000000-0000-4000-8000-0000000000ff
-- Error texts are frozen without the PL/pgSQL line that raised them.
\set SHOW_CONTEXT never

-- The roles are the fixture's (sql/fixture.sql).
-- fixture_alice: owner of every account
-- fixture_bob: admin of Downtown and Harbor, member of Sunrise
-- fixture_carol: member of Pediatrics only
-- fixture_mallory: a login without accounts
-- fixture_nobody: no login at all
SELECT kalix.create_login('owner@hier.test', 'Owner', 'fixture_alice') AS owner_login \gset
SELECT kalix.create_login('admin@hier.test', 'Admin', 'fixture_bob') AS admin_login \gset
SELECT kalix.create_login('clerk@hier.test', 'Clerk', 'fixture_carol') AS clerk_login \gset
SELECT kalix.create_login('outsider@hier.test', 'Outsider', 'fixture_mallory') AS outsider_login \gset

-- The accounts start independent; the tree is built with link_child below.
INSERT INTO kalix.accounts (id, name, created_by) VALUES
    (:'sunrise', 'Sunrise Clinic', :'owner_login'),
    (:'region', 'West Region', :'owner_login'),
    (:'downtown', 'Downtown', :'owner_login'),
    (:'pediatrics', 'Pediatrics', :'owner_login'),
    (:'uptown', 'Uptown', :'owner_login'),
    (:'harbor', 'Harbor Dietetics', :'owner_login'),
    (:'annex', 'Old Annex', :'owner_login');
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT a.id, :'owner_login', 'owner' FROM kalix.accounts a WHERE a.id::text LIKE '5a000000-%';
INSERT INTO kalix.memberships (account_id, login_id, role) VALUES
    (:'downtown', :'admin_login', 'admin'),
    (:'harbor', :'admin_login', 'admin'),
    (:'sunrise', :'admin_login', 'member'),
    (:'pediatrics', :'clerk_login', 'member');

-- Account names for the output (a plain table: every role may read it).
CREATE TABLE hier_names (id uuid PRIMARY KEY, name text);
INSERT INTO hier_names SELECT a.id, a.name FROM kalix.accounts a WHERE a.id::text LIKE '5a000000-%';
GRANT SELECT ON hier_names TO PUBLIC;
CREATE FUNCTION hier_name(uuid) RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT coalesce((SELECT name FROM hier_names WHERE id = $1), $1::text) $$;
CREATE FUNCTION hier_names(uuid[]) RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT string_agg(hier_name(u), ' > ' ORDER BY o) FROM unnest($1) WITH ORDINALITY AS t(u, o) $$;

------------------------------------------------------------------------------
-- Linking builds the tree; each link writes an audit row
------------------------------------------------------------------------------
SET ROLE fixture_alice;
SELECT kalix.link_child(:'region', :'sunrise');
SELECT kalix.link_child(:'downtown', :'region');
SELECT kalix.link_child(:'uptown', :'region');
SELECT kalix.link_child(:'pediatrics', :'downtown');
SELECT hier_name(l.account_id) AS account, l.action, hier_name((l.detail->>'parent_id')::uuid) AS parent
FROM kalix.audit_log l WHERE l.action = 'link_child' ORDER BY l.id;
SELECT path, depth, hier_name(parent_id) AS parent FROM kalix.account_tree ORDER BY path;
RESET ROLE;

------------------------------------------------------------------------------
-- Lineage, distance, descendants
------------------------------------------------------------------------------
SET ROLE fixture_alice;
-- Without a current account: an empty lineage, no payer, no descendants.
SELECT kalix.lineage(), kalix.lineage(NULL), kalix.billing_account(), kalix.lineage_distance(:'sunrise');
SELECT count(*) FROM kalix.descendants();
SELECT hier_names(kalix.lineage(:'pediatrics')) AS pediatrics,
       hier_names(kalix.lineage(:'uptown')) AS uptown,
       hier_names(kalix.lineage(:'sunrise')) AS sunrise,
       hier_names(kalix.lineage(:'harbor')) AS harbor;
SELECT kalix.switch_account(:'pediatrics') IS NOT NULL AS switched;
SELECT hier_names(kalix.lineage()) AS lineage;
SELECT hier_name(a) AS account, kalix.lineage_distance(a) AS distance
FROM unnest(ARRAY[:'pediatrics', :'downtown', :'region', :'sunrise', :'uptown', :'harbor']::uuid[]) a;
SELECT kalix.lineage_distance(NULL) IS NULL AS null_in_null_out;
SELECT hier_name(account_id) AS account, depth FROM kalix.descendants(:'sunrise') ORDER BY depth, 1;
SELECT hier_name(account_id) AS account, depth FROM kalix.descendants(:'downtown') ORDER BY depth, 1;
SELECT hier_name(account_id) AS account, depth FROM kalix.descendants() ORDER BY depth, 1;
RESET ROLE;
RESET kalix.current_account;

------------------------------------------------------------------------------
-- Billing: the root pays for the whole tree, at every level
------------------------------------------------------------------------------
SET ROLE fixture_alice;
SELECT hier_name(a) AS account, hier_name(kalix.billing_account(a)) AS payer
FROM unnest(ARRAY[:'sunrise', :'region', :'downtown', :'pediatrics', :'uptown', :'harbor']::uuid[]) a;
SELECT name, depth FROM kalix.billed_accounts(:'pediatrics');
SELECT name, depth FROM kalix.billed_accounts(:'sunrise');
SELECT name, depth FROM kalix.billed_accounts(:'harbor');
SELECT kalix.switch_account(:'uptown') IS NOT NULL AS switched;
SELECT hier_name(kalix.billing_account()) AS payer;
SELECT name, depth FROM kalix.billed_accounts();
RESET ROLE;
RESET kalix.current_account;

------------------------------------------------------------------------------
-- Inherited resources: the seed's five kinds, defined at every level
------------------------------------------------------------------------------
CREATE TABLE hier_doc_templates (id serial PRIMARY KEY, account_id uuid NOT NULL, name text NOT NULL);
CREATE TABLE hier_custom_terms (id serial PRIMARY KEY, account_id uuid NOT NULL, name text NOT NULL);
CREATE TABLE hier_billing_items (id serial PRIMARY KEY, account_id uuid NOT NULL, name text NOT NULL, price numeric);
CREATE TABLE hier_billing_templates (id serial PRIMARY KEY, account_id uuid NOT NULL, name text NOT NULL);
CREATE TABLE hier_appointment_types (id serial PRIMARY KEY, account_id uuid NOT NULL, name text NOT NULL, minutes integer);
CREATE INDEX ON hier_doc_templates (account_id);
CREATE INDEX ON hier_custom_terms (account_id);
CREATE INDEX ON hier_billing_items (account_id);
CREATE INDEX ON hier_billing_templates (account_id);
CREATE INDEX ON hier_appointment_types (account_id);
INSERT INTO hier_doc_templates (account_id, name) VALUES
    (:'sunrise', 'Intake form'), (:'region', 'Regional consent'), (:'downtown', 'Parking note'),
    (:'pediatrics', 'Growth chart'), (:'uptown', 'Uptown waiver');
INSERT INTO hier_custom_terms (account_id, name) VALUES
    (:'sunrise', 'Client'), (:'region', 'Visit'), (:'downtown', 'Session'),
    (:'pediatrics', 'Young patient'), (:'uptown', 'Guest');
INSERT INTO hier_billing_items (account_id, name, price) VALUES
    (:'sunrise', 'Consultation', 100), (:'region', 'Consultation', 95), (:'downtown', 'Late fee', 20),
    (:'pediatrics', 'Consultation', 80), (:'uptown', 'Consultation', 90);
INSERT INTO hier_billing_templates (account_id, name) VALUES
    (:'sunrise', 'Standard invoice'), (:'region', 'Insurance claim'), (:'downtown', 'Receipt'),
    (:'pediatrics', 'Parent invoice'), (:'uptown', 'Uptown invoice');
INSERT INTO hier_appointment_types (account_id, name, minutes) VALUES
    (:'sunrise', 'Initial visit', 60), (:'sunrise', 'Follow-up', 30),
    (:'region', 'Group session', 90),
    (:'downtown', 'Initial visit', 45),
    (:'pediatrics', 'Initial visit', 30), (:'pediatrics', 'Vaccination', 15),
    (:'uptown', 'Initial visit', 50), (:'uptown', 'Follow-up', 20);
SELECT kalix.enable_isolation('hier_doc_templates', inherited => true);
SELECT kalix.enable_isolation('hier_custom_terms', inherited => true);
SELECT kalix.enable_isolation('hier_billing_items', inherited => true);
SELECT kalix.enable_isolation('hier_billing_templates', inherited => true);
SELECT kalix.enable_isolation('hier_appointment_types', inherited => true);
SELECT tbl, account_column, inherited FROM kalix.isolated_tables WHERE tbl::text LIKE 'hier_%' ORDER BY tbl::text;
SELECT polname, polpermissive, polcmd, pg_get_expr(polqual, polrelid) AS using_expr,
       pg_get_expr(polwithcheck, polrelid) AS check_expr
FROM pg_policy WHERE polrelid = 'hier_appointment_types'::regclass ORDER BY polname;
GRANT SELECT, INSERT, UPDATE, DELETE ON hier_doc_templates, hier_custom_terms, hier_billing_items,
    hier_billing_templates, hier_appointment_types TO PUBLIC;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO PUBLIC;
CREATE VIEW hier_resources WITH (security_invoker) AS
    SELECT 'doc template' AS kind, account_id, name FROM hier_doc_templates
    UNION ALL SELECT 'custom term', account_id, name FROM hier_custom_terms
    UNION ALL SELECT 'billing item', account_id, name FROM hier_billing_items
    UNION ALL SELECT 'billing template', account_id, name FROM hier_billing_templates
    UNION ALL SELECT 'appointment type', account_id, name FROM hier_appointment_types;
GRANT SELECT ON hier_resources TO PUBLIC;
-- kalix.lint() finds nothing to report on inherited tables as created.
SELECT * FROM kalix.lint() WHERE object LIKE '%hier\_%';

-- What each level sees: its own rows and every ancestor's; never a sibling's
-- (Uptown) nor a descendant's.
SET ROLE fixture_alice;
SELECT kalix.switch_account(:'sunrise') IS NOT NULL AS switched;
SELECT kind, hier_name(account_id) AS owner, name FROM hier_resources ORDER BY kind, kalix.lineage_distance(account_id), name;
SELECT kalix.switch_account(:'region') IS NOT NULL AS switched;
SELECT kind, hier_name(account_id) AS owner, name FROM hier_resources ORDER BY kind, kalix.lineage_distance(account_id), name;
SELECT kalix.switch_account(:'downtown') IS NOT NULL AS switched;
SELECT kind, hier_name(account_id) AS owner, name FROM hier_resources ORDER BY kind, kalix.lineage_distance(account_id), name;
SELECT kalix.switch_account(:'pediatrics') IS NOT NULL AS switched;
SELECT kind, hier_name(account_id) AS owner, name FROM hier_resources ORDER BY kind, kalix.lineage_distance(account_id), name;
SELECT kalix.switch_account(:'uptown') IS NOT NULL AS switched;
SELECT kind, hier_name(account_id) AS owner, count(*) FROM hier_resources GROUP BY 1, 2 ORDER BY 1, 2;
SELECT kalix.switch_account(:'harbor') IS NOT NULL AS switched;
SELECT count(*) AS harbor_sees FROM hier_resources;
RESET kalix.current_account;
SELECT count(*) AS without_account FROM hier_resources;
RESET ROLE;

-- A member of Pediatrics alone inherits the same rows without belonging to
-- the ancestors.
SET ROLE fixture_carol;
SELECT kalix.switch_account(:'pediatrics') IS NOT NULL AS switched;
SELECT kind, hier_name(account_id) AS owner, count(*) FROM hier_resources GROUP BY 1, 2 ORDER BY 1, 2;

-- Nearest definition wins: Pediatrics' own "Initial visit" hides Downtown's
-- and Sunrise's; "Follow-up" comes from Sunrise, "Group session" from the region.
SELECT DISTINCT ON (name) name, minutes, hier_name(account_id) AS defined_by
FROM hier_appointment_types ORDER BY name, kalix.lineage_distance(account_id);
SELECT DISTINCT ON (name) name, price, hier_name(account_id) AS defined_by
FROM hier_billing_items ORDER BY name, kalix.lineage_distance(account_id);

-- Inherited rows are read-only; writes only in the current account.
INSERT INTO hier_appointment_types (account_id, name, minutes) VALUES (:'pediatrics', 'Check-up', 20);
INSERT INTO hier_appointment_types (account_id, name, minutes) VALUES (:'sunrise', 'Check-up', 20);
INSERT INTO hier_appointment_types (account_id, name, minutes) VALUES (:'uptown', 'Check-up', 20);
UPDATE hier_appointment_types SET minutes = minutes + 1 WHERE name = 'Initial visit' RETURNING hier_name(account_id), minutes;
UPDATE hier_appointment_types SET account_id = :'sunrise' WHERE name = 'Check-up';
DELETE FROM hier_appointment_types WHERE name = 'Follow-up';
DELETE FROM hier_appointment_types WHERE name = 'Check-up' RETURNING hier_name(account_id), name;
RESET ROLE;
SELECT hier_name(account_id) AS owner, name, minutes FROM hier_appointment_types
WHERE name IN ('Initial visit', 'Follow-up') ORDER BY 1, 2;

-- The lineage is an index condition, evaluated once per scan.
SET ROLE fixture_carol;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM hier_appointment_types;
EXPLAIN (COSTS OFF) SELECT * FROM hier_billing_items WHERE name = 'Consultation';
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET kalix.current_account;
RESET ROLE;

------------------------------------------------------------------------------
-- The account tree as each login sees it
------------------------------------------------------------------------------
SET ROLE fixture_carol;
-- Ancestors the caller does not belong to show as "...".
SELECT name, depth, path FROM kalix.account_tree;
RESET ROLE;
SET ROLE fixture_bob;
SELECT name, depth, path FROM kalix.account_tree ORDER BY path;
RESET ROLE;

------------------------------------------------------------------------------
-- Refusals of the hierarchy functions
------------------------------------------------------------------------------
SET ROLE fixture_carol;
-- Not a member of the account asked about: nothing is revealed.
SELECT kalix.lineage(:'sunrise');
SELECT kalix.lineage(:'nowhere');
SELECT * FROM kalix.descendants(:'downtown');
SELECT kalix.billing_account(:'uptown');
-- The clerk's own lineage reaches the payer, but billing needs a membership there.
SELECT kalix.switch_account(:'pediatrics') IS NOT NULL AS switched;
SELECT hier_name(kalix.billing_account()) AS payer;
SELECT * FROM kalix.billed_accounts();
RESET kalix.current_account;
RESET ROLE;
SET ROLE fixture_nobody;
SELECT kalix.lineage(:'sunrise');
SELECT kalix.lineage(), kalix.lineage_distance(:'sunrise');
RESET ROLE;

------------------------------------------------------------------------------
-- Refusals of link_child
------------------------------------------------------------------------------
SET ROLE fixture_alice;
SELECT kalix.link_child(:'harbor', :'harbor');
-- cycles of length 2 and 4
SELECT kalix.link_child(:'sunrise', :'region');
SELECT kalix.link_child(:'sunrise', :'pediatrics');
SELECT kalix.link_child(:'downtown', :'uptown');
SELECT kalix.link_child(NULL, :'sunrise');
-- kalix.max_depth counts the whole lineage, the moved subtree included
RESET ROLE;
SET kalix.max_depth = 4;
SET ROLE fixture_alice;
SELECT kalix.link_child(:'harbor', :'pediatrics');
SELECT kalix.switch_account(:'pediatrics') IS NOT NULL AS switched;
SELECT kalix.create_account('Too Deep', child => true);
RESET kalix.current_account;
RESET ROLE;
SET kalix.max_depth = 5;
SET ROLE fixture_alice;
SELECT kalix.switch_account(:'harbor') IS NOT NULL AS switched;
SELECT kalix.create_account('Harbor Kids', child => true) AS harbor_kids \gset
RESET kalix.current_account;
SELECT kalix.link_child(:'harbor', :'pediatrics');
SELECT kalix.link_child(:'harbor', :'downtown');
SELECT cardinality(l) AS accounts, hier_names(l[2:]) AS above_harbor_kids FROM kalix.lineage(:'harbor_kids') l;
SELECT kalix.unlink_child(:'harbor');
RESET ROLE;
RESET kalix.max_depth;
-- archived accounts
SET ROLE fixture_alice;
SELECT kalix.archive_account(:'annex');
SELECT kalix.link_child(:'annex', :'sunrise');
SELECT kalix.link_child(:'harbor', :'annex');
RESET ROLE;
-- not admin of both (the admin is only a member of Sunrise); strangers and
-- missing accounts get the same answer
SET ROLE fixture_bob;
SELECT kalix.link_child(:'harbor', :'sunrise');
-- Grafting (issue 13, item 11): an admin of Downtown, a child of Sunrise, and
-- of Harbor, but only a member of the payer Sunrise, links Harbor under
-- Downtown, so that Harbor's members would read Sunrise's shared resources
-- and Sunrise would pay for Harbor without a say and without an audit row.
-- Refused: linking into a tree needs an admin of its payer.
SELECT kalix.link_child(:'harbor', :'downtown');
SELECT hier_names(kalix.lineage(:'harbor')) AS harbor_stays_alone,
       hier_name(kalix.billing_account(:'harbor')) AS harbor_pays;
RESET ROLE;
SET ROLE fixture_mallory;
SELECT kalix.link_child(:'harbor', :'sunrise');
SELECT kalix.link_child(:'nowhere', :'sunrise');
RESET ROLE;
SET ROLE fixture_nobody;
SELECT kalix.link_child(:'harbor', :'sunrise');
RESET ROLE;

------------------------------------------------------------------------------
-- Refusals of unlink_child and archive_account
------------------------------------------------------------------------------
SET ROLE fixture_alice;
SELECT kalix.unlink_child(:'sunrise');
RESET ROLE;
SET ROLE fixture_carol;
SELECT kalix.unlink_child(:'pediatrics');
RESET ROLE;
SET ROLE fixture_mallory;
SELECT kalix.unlink_child(:'pediatrics');
SELECT kalix.unlink_child(:'nowhere');
SELECT kalix.archive_account(:'uptown');
RESET ROLE;
SET ROLE fixture_bob;
SELECT kalix.archive_account(:'downtown');
RESET ROLE;
SET ROLE fixture_alice;
SELECT kalix.archive_account(:'region');
SELECT kalix.archive_account(:'annex');
SELECT kalix.switch_account(:'annex');
RESET ROLE;

------------------------------------------------------------------------------
-- Unlinking makes a child independent: it stops seeing the ancestors' rows
-- and pays for itself
------------------------------------------------------------------------------
-- The admin of Downtown is not a member of Pediatrics, but may unlink it as
-- the admin of its parent.
SET ROLE fixture_bob;
SELECT kalix.unlink_child(:'pediatrics');
RESET ROLE;
SET ROLE fixture_carol;
SELECT kalix.switch_account(:'pediatrics') IS NOT NULL AS switched;
SELECT hier_names(kalix.lineage()) AS lineage, hier_name(kalix.billing_account()) AS payer;
SELECT kind, hier_name(account_id) AS owner, name FROM hier_resources ORDER BY 1, 3;
SELECT name, depth FROM kalix.billed_accounts();
SELECT name, depth, path FROM kalix.account_tree;
RESET kalix.current_account;
RESET ROLE;
SET ROLE fixture_alice;
SELECT name, depth FROM kalix.billed_accounts(:'sunrise');
SELECT hier_name(l.account_id) AS account, l.action, hier_name((l.detail->>'parent_id')::uuid) AS parent
FROM kalix.audit_log l WHERE l.action IN ('unlink_child', 'archive_account') ORDER BY l.id;
-- Linking it back restores the inheritance.
SELECT kalix.link_child(:'pediatrics', :'downtown');
SELECT kalix.switch_account(:'pediatrics') IS NOT NULL AS switched;
SELECT count(*) AS pediatrics_sees FROM hier_resources;
RESET kalix.current_account;
RESET ROLE;

------------------------------------------------------------------------------
-- Archived ancestors and corrupt data (only direct writes can make them)
------------------------------------------------------------------------------
-- An archived account ends the lineage: it and its ancestors share nothing
-- and pay for nothing.
UPDATE kalix.accounts SET archived_at = now() WHERE id = :'region';
SET ROLE fixture_carol;
SELECT kalix.switch_account(:'pediatrics') IS NOT NULL AS switched;
SELECT hier_names(kalix.lineage()) AS lineage, hier_name(kalix.billing_account()) AS payer;
SELECT DISTINCT hier_name(account_id) AS owner FROM hier_resources ORDER BY 1;
RESET kalix.current_account;
RESET ROLE;
SET ROLE fixture_alice;
SELECT hier_name(account_id) AS account, depth FROM kalix.descendants(:'sunrise') ORDER BY depth, 1;
RESET ROLE;
UPDATE kalix.accounts SET archived_at = NULL WHERE id = :'region';
-- A cycle of parent links is reported, never followed forever.
UPDATE kalix.accounts SET parent_id = :'pediatrics' WHERE id = :'sunrise';
SET ROLE fixture_alice;
SELECT kalix.lineage(:'downtown');
SELECT * FROM kalix.descendants(:'region');
SELECT kalix.link_child(:'harbor', :'downtown');
RESET ROLE;
UPDATE kalix.accounts SET parent_id = NULL WHERE id = :'sunrise';
SET ROLE fixture_alice;
SELECT hier_names(kalix.lineage(:'pediatrics')) AS lineage;
RESET ROLE;

------------------------------------------------------------------------------
-- Clean up
------------------------------------------------------------------------------
DROP VIEW hier_resources;
DROP TABLE hier_doc_templates, hier_custom_terms, hier_billing_items, hier_billing_templates,
    hier_appointment_types, hier_names;
DROP FUNCTION hier_name(uuid), hier_names(uuid[]);
DELETE FROM kalix.audit_log WHERE account_id IN (SELECT id FROM kalix.accounts WHERE id::text LIKE '5a000000-%')
    OR login_id IN (SELECT id FROM kalix.logins WHERE email LIKE '%@hier.test')
    OR detail->>'table' LIKE 'public.hier\_%' OR detail->>'email' LIKE '%@hier.test';
DELETE FROM kalix.memberships WHERE login_id IN (SELECT id FROM kalix.logins WHERE email LIKE '%@hier.test');
UPDATE kalix.accounts SET parent_id = NULL WHERE created_by IN (SELECT id FROM kalix.logins WHERE email LIKE '%@hier.test');
DELETE FROM kalix.accounts WHERE created_by IN (SELECT id FROM kalix.logins WHERE email LIKE '%@hier.test');
DELETE FROM kalix.logins WHERE email LIKE '%@hier.test';
