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
