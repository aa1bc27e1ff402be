/* kalix_accounts--1.0--1.1.sql */

\echo Use "ALTER EXTENSION kalix_accounts UPDATE TO '1.1'" to load this file. \quit

-- Release 1.1: the write path in C, the companion extension kalix_npi, and
-- the security fixes of the 1.1 review.  Each change below names what it
-- replaces; after it the installation equals a fresh 1.1 install
-- (test/upgrade.sh compares them object by object).

-- The team functions move to C (src/members.c): the plpgsql bodies are
-- replaced, and the internal helpers only they used go.
CREATE OR REPLACE FUNCTION kalix.add_member(account uuid, login uuid, role kalix.account_role DEFAULT 'member')
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_add_member';

CREATE OR REPLACE FUNCTION kalix.set_member_role(account uuid, login uuid, role kalix.account_role)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_set_member_role';

CREATE OR REPLACE FUNCTION kalix.remove_member(account uuid, login uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_remove_member';

CREATE OR REPLACE FUNCTION kalix.copy_users(source uuid, target uuid)
RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_copy_users';

DROP FUNCTION kalix.check_grantable(uuid, kalix.account_role, kalix.account_role);
DROP FUNCTION kalix.lock_membership(uuid, uuid);
DROP FUNCTION kalix.keep_an_owner(uuid, uuid);

-- Logins, accounts and the hierarchy move to C (src/accounts.c, src/tree.c).
CREATE OR REPLACE FUNCTION kalix.create_login(email text, display_name text DEFAULT NULL, db_role name DEFAULT NULL)
RETURNS uuid
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_create_login';

CREATE OR REPLACE FUNCTION kalix.my_accounts()
RETURNS TABLE (account_id uuid, name text, role kalix.account_role, parent_id uuid, is_current boolean)
LANGUAGE C STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_my_accounts';

CREATE OR REPLACE FUNCTION kalix.create_account(name text, child boolean DEFAULT false, copy_users boolean DEFAULT false)
RETURNS uuid
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_create_account';

CREATE OR REPLACE FUNCTION kalix.update_account(account uuid, name text DEFAULT NULL, settings jsonb DEFAULT NULL,
                                     branding jsonb DEFAULT NULL)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_update_account';

CREATE OR REPLACE FUNCTION kalix.archive_account(account uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_archive_account';

CREATE OR REPLACE FUNCTION kalix.link_child(child uuid, parent uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_link_child';

CREATE OR REPLACE FUNCTION kalix.unlink_child(child uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_unlink_child';

-- Their plpgsql helpers go, and with them the database-wide hierarchy lock:
-- a hierarchy change now locks the root rows of the trees it changes.
DROP FUNCTION kalix.require_admin(uuid, text, boolean);
DROP FUNCTION kalix.lock_hierarchy();
DROP FUNCTION kalix.locked_role(uuid);
DROP FUNCTION kalix.lineage_fresh(uuid, uuid);
DROP TABLE kalix.hierarchy_lock;

-- NPI administration moves to C (src/account_npis.c), with the one access
-- check of src/access.c; its helper and require_login, which nothing uses
-- any more, go.
CREATE OR REPLACE FUNCTION kalix.add_npi(account uuid, npi kalix.npi, label text DEFAULT NULL, is_primary boolean DEFAULT false)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_add_npi';

CREATE OR REPLACE FUNCTION kalix.remove_npi(account uuid, npi kalix.npi)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_remove_npi';

CREATE OR REPLACE FUNCTION kalix.primary_npi(account uuid DEFAULT NULL) RETURNS kalix.npi
LANGUAGE C STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_primary_npi';

DROP FUNCTION kalix.check_npi_admin(uuid);
DROP FUNCTION kalix.require_login();
