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

-- The team lifecycle (new in 1.1): kalix.invitations and the hash table of
-- their tokens, invite/accept_invitation/revoke_invitation, update_login,
-- unarchive_account and billing_summary, exactly as the install script has them.

-- An invitation brings a person into an account by email (src/invitations.c).
-- Its token is shown once, by invite(); only the token's SHA-256 is kept, in
-- kalix.invitation_tokens, which has no grant and no policy: no role that
-- RLS applies to reads it, whatever is granted later, and kalix.invitations
-- can be read by the account's admins without any column to hide.
CREATE TABLE kalix.invitations (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    account_id  uuid NOT NULL REFERENCES kalix.accounts (id),
    email       text NOT NULL,
    role        kalix.account_role NOT NULL DEFAULT 'member',
    invited_by  uuid NOT NULL REFERENCES kalix.logins (id),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by uuid REFERENCES kalix.logins (id),
    revoked_at  timestamptz,
    CONSTRAINT invitations_accepted_check
        CHECK ((accepted_at IS NULL) OPERATOR(pg_catalog.=) (accepted_by IS NULL)),
    CONSTRAINT invitations_closed_check CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
CREATE INDEX invitations_account_id_idx ON kalix.invitations (account_id);
COMMENT ON TABLE kalix.invitations IS 'invitations to join an account, by email; the token is never stored';

CREATE TABLE kalix.invitation_tokens (
    invitation_id uuid PRIMARY KEY REFERENCES kalix.invitations (id) ON DELETE CASCADE,
    token_hash    bytea NOT NULL,
    CONSTRAINT invitation_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT invitation_tokens_token_hash_check
        CHECK (pg_catalog.length(token_hash) OPERATOR(pg_catalog.=) 32)
);
COMMENT ON TABLE kalix.invitation_tokens IS 'the SHA-256 of each open invitation''s token; readable by no role RLS applies to';

ALTER TABLE kalix.invitations ENABLE ROW LEVEL SECURITY;
-- Admins and owners of an account read its invitations.
CREATE POLICY invitations_of_admin ON kalix.invitations FOR SELECT
    USING (kalix.member_role(account_id) OPERATOR(pg_catalog.>=) 'admin'::kalix.account_role);
GRANT SELECT ON kalix.invitations TO PUBLIC;
-- No policy and no grant: fails closed even if someone grants SELECT.
ALTER TABLE kalix.invitation_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE kalix.invitation_tokens FORCE ROW LEVEL SECURITY;

SELECT pg_catalog.pg_extension_config_dump('kalix.invitations', '');
SELECT pg_catalog.pg_extension_config_dump('kalix.invitation_tokens', '');

CREATE FUNCTION kalix.invite(account uuid, email text, role kalix.account_role DEFAULT 'member',
                             valid_for interval DEFAULT '7 days')
RETURNS text
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_invite';
COMMENT ON FUNCTION kalix.invite(uuid, text, kalix.account_role, interval) IS 'invites an email address into an account (admin; roles up to one''s own); returns the one-time token, shown only here';

CREATE FUNCTION kalix.accept_invitation(token text)
RETURNS uuid
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_accept_invitation';
COMMENT ON FUNCTION kalix.accept_invitation(text) IS 'makes the current login a member as the invitation says (its email must match); one use; returns the account';

CREATE FUNCTION kalix.revoke_invitation(invitation uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_revoke_invitation';
COMMENT ON FUNCTION kalix.revoke_invitation(uuid) IS 'revokes an open invitation (admin of its account); its token stops working';

CREATE FUNCTION kalix.update_login(login uuid, email text DEFAULT NULL, display_name text DEFAULT NULL)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_update_login';
COMMENT ON FUNCTION kalix.update_login(uuid, text, text) IS 'changes a login''s email or display name (the login itself, or a role that may set kalix.current_login); NULL keeps a field';

CREATE FUNCTION kalix.unarchive_account(account uuid)
RETURNS void
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_unarchive_account';
COMMENT ON FUNCTION kalix.unarchive_account(uuid) IS 'unarchives an account whose parent is not archived; owner';

CREATE FUNCTION kalix.billing_summary(payer uuid DEFAULT NULL)
RETURNS TABLE (account_id uuid, name text, depth integer, members integer, npis integer)
LANGUAGE C STABLE SECURITY DEFINER ROWS 10
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'kalix_billing_summary';
COMMENT ON FUNCTION kalix.billing_summary(uuid) IS 'every account billed to the payer (default: the current account''s) with its member and NPI counts; admin of the payer';
