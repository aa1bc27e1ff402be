'use strict';
// Request handlers of a web backend on kalix_accounts, with pg (node-postgres)
// for the account functions and Knex for the application's tables.
//
// The application connects as one database role (granted SET ON PARAMETER
// kalix.current_login and EXECUTE on kalix.create_login) and acts for many
// people.  Every request is one transaction that first says, inside that
// transaction, who is acting and in which account:
//
//   SELECT kalix.act_as($1, $2);
//
// which checks the login and the membership once and holds for this
// transaction only, so nothing of one request stays on the pooled connection
// for the next one.
// pgRequest() does this with a pg Pool, knexRequest() with a Knex transaction.
// The handlers take the signed-in login and the account the user works in (in
// a real backend both come from the web session).

const { Pool } = require('pg');
const knexFactory = require('knex');

// The database refused: not a member, not an admin, no login (SQLSTATE 42501).
class Forbidden extends Error {}

// The invitation token is unknown, used, revoked, expired or someone else's (SQLSTATE 28000).
class InvitationInvalid extends Error {}

// The refusals the web layer answers itself, by SQLSTATE.
const REFUSALS = new Map([['42501', Forbidden], ['28000', InvitationInvalid]]);

// Turns insufficient_privilege into Forbidden (the web layer's 403) and an
// unusable invitation into InvitationInvalid (one "invitation no longer valid" page).
function mapError(err) {
  const Refusal = err && REFUSALS.get(err.code);
  return Refusal ? new Refusal(err.message) : err;
}

// The request's identity, for this transaction only: kalix.act_as with a
// login (no account: null), else the empty login (signing up).  Knex refuses
// an undefined binding, hence the nulls.
const ACT_AS = 'SELECT kalix.act_as($1::uuid, $2::uuid)';
const NO_LOGIN = "SELECT set_config('kalix.current_login', '', true), set_config('kalix.current_account', '', true)";

// Sets login and account for the Knex transaction trx only.
async function identifyKnex(trx, login, account) {
  if (login) {
    await trx.raw('SELECT kalix.act_as(?::uuid, ?::uuid)', [login, account || null]);
  } else {
    await trx.raw(NO_LOGIN);
  }
}

class KalixApp {
  // Logs in as the application role; host and port default to PGHOST/PGPORT.
  constructor({ database, user, password, host, port, poolSize = 10 }) {
    const connection = {
      database, user, password, host, port,
      connectionTimeoutMillis: 10000,
      statement_timeout: 30000,
    };
    this.pool = new Pool({ ...connection, max: poolSize });
    this.knex = knexFactory({
      client: 'pg',
      connection,
      pool: { min: 0, max: poolSize },
      acquireConnectionTimeout: 10000,
    });
  }

  // Closes both pools.
  async close() {
    await Promise.all([this.pool.end(), this.knex.destroy()]);
  }

  // One request with pg: BEGIN, identify, fn(client), COMMIT (ROLLBACK on error).
  async pgRequest({ login = null, account = null } = {}, fn) {
    const client = await this.pool.connect();
    let broken;
    try {
      await client.query('BEGIN');
      if (login) {
        await client.query(ACT_AS, [login, account || null]);
      } else {
        await client.query(NO_LOGIN);
      }
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((e) => { broken = e; });
      throw mapError(err);
    } finally {
      client.release(broken);
    }
  }

  // One request with Knex: a transaction (rolled back on error), identified first.
  async knexRequest({ login = null, account = null } = {}, fn) {
    try {
      return await this.knex.transaction(async (trx) => {
        await identifyKnex(trx, login, account);
        return fn(trx);
      });
    } catch (err) {
      throw mapError(err);
    }
  }

  // --- request handlers ------------------------------------------------------

  // Creates a login for a new user; returns its id.
  async signUp(email, displayName = null) {
    return this.pgRequest({}, async (c) =>
      (await c.query('SELECT kalix.create_login($1, $2) AS id', [email, displayName])).rows[0].id);
  }

  // Creates an independent account owned by login; returns its id.
  async openAccount(login, name) {
    return this.pgRequest({ login }, async (c) =>
      (await c.query('SELECT kalix.create_account($1) AS id', [name])).rows[0].id);
  }

  // Adds the login member to account (login must be an admin there).
  async addMember(login, account, member, role = 'member') {
    await this.pgRequest({ login, account }, (c) =>
      c.query('SELECT kalix.add_member($1, $2, $3::kalix.account_role)', [account, member, role]));
  }

  // Invites email into account, the current one (login must be an admin there); returns the one-time token for the link.
  async invite(login, account, email, role = 'member') {
    return this.pgRequest({ login, account }, async (c) =>
      (await c.query('SELECT kalix.invite(kalix.current_account(), $1, $2::kalix.account_role) AS token',
        [email, role])).rows[0].token);
  }

  // The invitee, signed in as login, accepts the link's token (a bind parameter, never in the SQL text); returns the account joined.
  async acceptInvitation(login, token) {
    return this.pgRequest({ login }, async (c) =>
      (await c.query('SELECT kalix.accept_invitation($1) AS id', [token])).rows[0].id);
  }

  // The Switch tab: the login's accounts, by name.
  async listAccounts(login, account = null) {
    return this.pgRequest({ login, account }, async (c) =>
      (await c.query(`SELECT account_id AS id, name, role::text AS role, parent_id, is_current
                      FROM kalix.my_accounts()`)).rows);
  }

  // Checks that login may work in account; returns its name (the web session then keeps the id).
  async switchAccount(login, account) {
    return this.pgRequest({ login, account }, async (c) =>
      (await c.query('SELECT name FROM kalix.accounts WHERE id = kalix.current_account()')).rows[0].name);
  }

  // Creates a child of account with account's users copied; returns its id.
  async createChild(login, account, name) {
    return this.pgRequest({ login, account }, async (c) =>
      (await c.query('SELECT kalix.create_account($1, child => true, copy_users => true) AS id',
        [name])).rows[0].id);
  }

  // Defines an appointment type in account (account_id defaults to the current account); returns its id.
  async addAppointmentType(login, account, name, minutes) {
    return this.knexRequest({ login, account }, async (trx) =>
      (await trx('appointment_types').insert({ name, minutes }).returning('id'))[0].id);
  }

  // Every appointment type the account can use, its ancestors' included.
  async appointmentTypes(login, account) {
    return this.knexRequest({ login, account }, (trx) =>
      trx('appointment_types').select('name', 'minutes', 'account_id').orderBy(['name', 'id']));
  }

  // One appointment type per name, the nearest definition in the lineage winning.
  async effectiveAppointmentTypes(login, account) {
    return this.knexRequest({ login, account }, (trx) =>
      trx('appointment_types')
        .distinctOn('name')
        .select('name', 'minutes', 'account_id')
        .orderBy('name')
        .orderByRaw('kalix.lineage_distance(account_id)'));
  }

  // Registers a patient in account; returns the id.
  async addPatient(login, account, name) {
    return this.knexRequest({ login, account }, async (trx) =>
      (await trx('patients').insert({ name }).returning('id'))[0].id);
  }

  // The account's patients (never an ancestor's).
  async patients(login, account) {
    return this.knexRequest({ login, account }, async (trx) =>
      (await trx('patients').select('name').orderBy('name')).map((r) => r.name));
  }
}

module.exports = { KalixApp, Forbidden, InvitationInvalid, identifyKnex };
