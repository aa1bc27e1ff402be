'use strict';
// Runs the example app (app.js) against the server of the PG* variables.
//
// As superuser (PG* variables): a database with kalix_accounts and
// examples/schema.sql, and an application role with a password, granted SET
// on kalix.current_login and EXECUTE on kalix.create_login.  Then the app,
// logged in as that role, plays a practice: Alice opens Sunrise Clinic and
// Harbor Practice, adds Bob to Sunrise, defines appointment types, creates the
// child Downtown with Sunrise's users copied; Carol is a login of her own.
// Drops the database and the role at the end.
//
//   node --test --test-reporter=tap test_example.js

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { Client } = require('pg');
const { KalixApp, Forbidden, identifyKnex } = require('./app');

const DB = 'kalix_clients_node';
const ROLE = 'kalix_clients_node_app';
const SCHEMA = path.join(__dirname, '..', 'schema.sql');

// Runs statements as the PG* variables' (super)user in database.
async function asSuperuser(database, statements) {
  const client = new Client({ database, connectionTimeoutMillis: 10000, statement_timeout: 60000 });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

// Drops the test database and the application role, if there.
async function dropAll() {
  await asSuperuser('postgres', [
    `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`,
    `DO $$ BEGIN
       IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${ROLE}') THEN
         REVOKE SET ON PARAMETER kalix.current_login FROM ${ROLE};
         DROP ROLE ${ROLE};
       END IF;
     END $$`,
  ]);
}

describe('kalix_accounts from node (pg and Knex)', () => {
  let app;
  const ids = {};
  const state = `SELECT pg_backend_pid() AS pid, kalix.current_login() AS login,
                        current_setting('kalix.current_account') AS account,
                        (SELECT count(*)::int FROM appointment_types) AS types,
                        (SELECT count(*)::int FROM patients) AS patients`;

  let password;
  before(async () => {
    await dropAll();
    password = crypto.randomBytes(12).toString('hex');
    await asSuperuser('postgres', [
      `CREATE ROLE ${ROLE} LOGIN PASSWORD '${password}'`,
      `GRANT SET ON PARAMETER kalix.current_login TO ${ROLE}`,
      `CREATE DATABASE ${DB}`,
      `ALTER ROLE ${ROLE} IN DATABASE ${DB} SET kalix.account_scope = 'transaction'`,
    ]);
    await asSuperuser(DB, [
      'CREATE EXTENSION kalix_accounts CASCADE',
      fs.readFileSync(SCHEMA, 'utf8'),
      `GRANT EXECUTE ON FUNCTION kalix.create_login(text, text, name) TO ${ROLE}`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${ROLE}`,
    ]);

    // One connection per pool: every request of a pool runs on the same
    // backend, so whatever a request left behind would be seen by the next.
    app = new KalixApp({ database: DB, user: ROLE, password, poolSize: 1 });
    ids.alice = await app.signUp('alice@example.com', 'Alice');
    ids.bob = await app.signUp('bob@example.com', 'Bob');
    ids.carol = await app.signUp('carol@example.com', 'Carol');
    ids.sunrise = await app.openAccount(ids.alice, 'Sunrise Clinic');
    ids.harbor = await app.openAccount(ids.alice, 'Harbor Practice');
    await app.addMember(ids.alice, ids.sunrise, ids.bob);
    await app.addAppointmentType(ids.alice, ids.sunrise, 'Initial visit', 60);
    await app.addAppointmentType(ids.alice, ids.sunrise, 'Follow-up', 20);
    await app.addAppointmentType(ids.alice, ids.harbor, 'Initial visit', 50);
    await app.addPatient(ids.alice, ids.sunrise, 'Ann');
    await app.addPatient(ids.alice, ids.harbor, 'Hal');
    ids.downtown = await app.createChild(ids.alice, ids.sunrise, 'Downtown');
    await app.addAppointmentType(ids.alice, ids.downtown, 'Initial visit', 30);
    await app.addPatient(ids.bob, ids.downtown, 'Dora');
    ids.carols = await app.openAccount(ids.carol, "Carol's Practice");
  });

  after(async () => {
    if (app) await app.close();
    await dropAll();
  });

  const names = (accounts) => accounts.map((a) => [a.name, a.role, a.parent_id]);
  const types = (rows) => rows.map((r) => [r.name, r.minutes, r.account_id]);

  it('lists the login\'s accounts', async () => {
    assert.deepEqual(names(await app.listAccounts(ids.alice)), [
      ['Downtown', 'owner', ids.sunrise],
      ['Harbor Practice', 'owner', null],
      ['Sunrise Clinic', 'owner', null],
    ]);
    const listed = await app.listAccounts(ids.alice, ids.harbor);
    assert.deepEqual(listed.filter((a) => a.is_current).map((a) => a.name), ['Harbor Practice']);
  });

  it('copies the users into the child account', async () => {
    assert.deepEqual(names(await app.listAccounts(ids.bob)), [
      ['Downtown', 'member', ids.sunrise],
      ['Sunrise Clinic', 'member', null],
    ]);
  });

  it('shows other rows after switching', async () => {
    assert.equal(await app.switchAccount(ids.alice, ids.sunrise), 'Sunrise Clinic');
    assert.deepEqual(types(await app.appointmentTypes(ids.alice, ids.sunrise)),
      [['Follow-up', 20, ids.sunrise], ['Initial visit', 60, ids.sunrise]]);
    assert.deepEqual(await app.patients(ids.alice, ids.sunrise), ['Ann']);
    assert.equal(await app.switchAccount(ids.alice, ids.harbor), 'Harbor Practice');
    assert.deepEqual(types(await app.appointmentTypes(ids.alice, ids.harbor)),
      [['Initial visit', 50, ids.harbor]]);
    assert.deepEqual(await app.patients(ids.alice, ids.harbor), ['Hal']);
  });

  it('shows the child its parent\'s appointment types', async () => {
    assert.deepEqual(types(await app.appointmentTypes(ids.bob, ids.downtown)), [
      ['Follow-up', 20, ids.sunrise],
      ['Initial visit', 60, ids.sunrise],
      ['Initial visit', 30, ids.downtown],
    ]);
    // Patients are not inherited: Downtown sees its own only.
    assert.deepEqual(await app.patients(ids.bob, ids.downtown), ['Dora']);
  });

  it('shows the parent none of the child\'s rows', async () => {
    assert.deepEqual(types(await app.appointmentTypes(ids.alice, ids.sunrise)),
      [['Follow-up', 20, ids.sunrise], ['Initial visit', 60, ids.sunrise]]);
    assert.deepEqual(await app.patients(ids.alice, ids.sunrise), ['Ann']);
  });

  it('lets the nearest definition win', async () => {
    assert.deepEqual(types(await app.effectiveAppointmentTypes(ids.bob, ids.downtown)),
      [['Follow-up', 20, ids.sunrise], ['Initial visit', 30, ids.downtown]]);
    assert.deepEqual(types(await app.effectiveAppointmentTypes(ids.bob, ids.sunrise)),
      [['Follow-up', 20, ids.sunrise], ['Initial visit', 60, ids.sunrise]]);
  });

  it('shows a second login nothing of the first\'s accounts', async () => {
    assert.deepEqual(names(await app.listAccounts(ids.carol)), [["Carol's Practice", 'owner', null]]);
    for (const account of [ids.sunrise, ids.harbor, ids.downtown]) {
      await assert.rejects(app.switchAccount(ids.carol, account), Forbidden);
      await assert.rejects(app.appointmentTypes(ids.carol, account), Forbidden);
    }
    await assert.rejects(app.createChild(ids.carol, ids.sunrise, "Carol's branch"), Forbidden);
    assert.deepEqual(await app.appointmentTypes(ids.carol, ids.carols), []);
    assert.deepEqual(await app.patients(ids.carol, ids.carols), []);
    assert.deepEqual(await app.appointmentTypes(ids.carol, null), []);
    // Nothing without a login at all either.
    assert.deepEqual(await app.listAccounts(null), []);
    await assert.rejects(app.openAccount(null, "Nobody's"), Forbidden);
  });

  it('leaks no rows from one request into the next', async () => {
    const clean = (pid) => ({ pid, login: null, account: '', types: 0, patients: 0 });
    // pg
    const first = await app.pgRequest({ login: ids.alice, account: ids.sunrise },
      async (c) => (await c.query(state)).rows[0]);
    assert.deepEqual({ ...first, pid: 0 },
      { pid: 0, login: ids.alice, account: ids.sunrise, types: 2, patients: 1 });
    assert.deepEqual(await app.pgRequest({}, async (c) => (await c.query(state)).rows[0]), clean(first.pid));
    // Knex
    const k = await app.knexRequest({ login: ids.bob, account: ids.downtown },
      async (trx) => (await trx.raw(state)).rows[0]);
    assert.equal(k.types, 3);
    assert.deepEqual(await app.knexRequest({}, async (trx) => (await trx.raw(state)).rows[0]), clean(k.pid));
    // A request that fails half-way leaves nothing either.
    await assert.rejects(app.knexRequest({ login: ids.alice, account: ids.harbor }, async (trx) => {
      await trx('patients').insert({ name: 'Never' });
      throw new Error('handler failed');
    }), /handler failed/);
    assert.deepEqual(await app.patients(ids.alice, ids.harbor), ['Hal']);
    assert.deepEqual(await app.knexRequest({}, async (trx) => (await trx.raw(state)).rows[0]), clean(k.pid));
  });

  it('identifies a Knex transaction with no account, null or undefined', async () => {
    for (const account of [null, undefined, '']) {
      const row = await app.knex.transaction(async (trx) => {
        await identifyKnex(trx, ids.alice, account);
        return (await trx.raw(state)).rows[0];
      });
      assert.deepEqual({ ...row, pid: 0 },
        { pid: 0, login: ids.alice, account: '', types: 0, patients: 0 }, String(account));
    }
    // What the branch avoids: switch_account(NULL) and an undefined binding.
    await assert.rejects(app.knex.transaction((trx) =>
      trx.raw('SELECT kalix.switch_account(?, true)', [null])), { code: '22004' });
    await assert.rejects(app.knex.transaction((trx) =>
      trx.raw('SELECT kalix.switch_account(?, true)', [undefined])), /Undefined binding/);
  });

  it('does not carry session-level mistakes into the next request', async () => {
    // A handler that forgets is_local: kalix.account_scope = 'transaction'
    // (set for the role) voids the account at the end of its transaction, and
    // pgRequest() sets the login afresh (to none here) in every request.
    const pid = await app.pgRequest({ login: ids.alice }, async (c) => {
      await c.query("SELECT set_config('kalix.current_login', $1, false)", [ids.alice]);
      await c.query('SELECT kalix.switch_account($1)', [ids.sunrise]);
      return (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    });
    const next = await app.pgRequest({}, async (c) => ({
      ...(await c.query(state)).rows[0],
      accounts: (await c.query('SELECT count(*)::int AS n FROM kalix.my_accounts()')).rows[0].n,
    }));
    assert.deepEqual(next, { pid, login: null, account: '', types: 0, patients: 0, accounts: 0 });
  });

  it('honours the login and account of the first request on a new connection', async () => {
    // The library loads during the first request; the login and account that
    // request set still count.
    for (const first of ['pg', 'knex']) {
      const fresh = new KalixApp({ database: DB, user: ROLE, password, poolSize: 1 });
      try {
        const row = first === 'pg'
          ? await fresh.pgRequest({ login: ids.alice, account: ids.sunrise }, async (c) => (await c.query(state)).rows[0])
          : await fresh.knexRequest({ login: ids.alice, account: ids.sunrise }, async (trx) => (await trx.raw(state)).rows[0]);
        assert.deepEqual({ ...row, pid: 0 },
          { pid: 0, login: ids.alice, account: ids.sunrise, types: 2, patients: 1 }, first);
      } finally {
        await fresh.close();
      }
    }
  });
});
