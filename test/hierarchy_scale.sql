-- Scale of the hierarchy: 100,000 accounts in 1,000 trees answer lineage()
-- for every account; a chain of 1,000 accounts works with kalix.max_depth =
-- 1000 and the 1,001st is refused.  Timings are printed, never asserted.
BEGIN;
SELECT plan(13);

SET LOCAL client_min_messages = warning;
CREATE TEMP TABLE scale_clock (step text PRIMARY KEY, at timestamptz) ON COMMIT DROP;
INSERT INTO scale_clock VALUES ('start', clock_timestamp());

-- One login owns every account; rows go in directly, as a superuser, for speed.
INSERT INTO kalix.logins (id, email) VALUES ('5f000000-0000-4000-8000-0000000000aa', 'scale@hier.test');
SET LOCAL kalix.current_login = '5f000000-0000-4000-8000-0000000000aa';

-- Tree t (0..999) holds accounts t*100 + i (i = 0..99); the parent of i > 0 is
-- (i - 1) / 3, so lineages have 1 to 5 accounts.
CREATE TEMP TABLE scale_accounts ON COMMIT DROP AS
SELECT ('5f000000-0000-4000-8000-' || lpad(to_hex(t * 100 + i), 12, '0'))::uuid AS id,
       CASE WHEN i > 0 THEN ('5f000000-0000-4000-8000-' || lpad(to_hex(t * 100 + (i - 1) / 3), 12, '0'))::uuid END AS parent_id,
       ('5f000000-0000-4000-8000-' || lpad(to_hex(t * 100), 12, '0'))::uuid AS root,
       CASE WHEN i = 0 THEN 1 WHEN i < 4 THEN 2 WHEN i < 13 THEN 3 WHEN i < 40 THEN 4 ELSE 5 END AS lineage_len
FROM generate_series(0, 999) t, generate_series(0, 99) i;
INSERT INTO kalix.accounts (id, name, parent_id, created_by)
SELECT id, 'Scale ' || id, parent_id, '5f000000-0000-4000-8000-0000000000aa' FROM scale_accounts;
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT id, '5f000000-0000-4000-8000-0000000000aa', 'owner' FROM scale_accounts;
INSERT INTO scale_clock VALUES ('built', clock_timestamp());

SELECT is((SELECT count(*) FROM scale_accounts s
           WHERE cardinality(kalix.lineage(s.id)) <> s.lineage_len
              OR (kalix.lineage(s.id))[cardinality(kalix.lineage(s.id))] <> s.root), 0::bigint,
          'lineage() of every one of the 100,000 accounts has the right length and ends at its root');
INSERT INTO scale_clock VALUES ('lineage_cold', clock_timestamp());
SELECT is((SELECT count(*) FROM kalix.account_tree WHERE name LIKE 'Scale %' AND depth = 4), 60000::bigint,
          '100,000 accounts in 1,000 trees: 60,000 of them at depth 4');
INSERT INTO scale_clock VALUES ('account_tree', clock_timestamp());
SELECT is((SELECT count(*) FROM scale_accounts s WHERE cardinality(kalix.lineage(s.id)) <> s.lineage_len), 0::bigint,
          'lineage() of every account again, from the warm cache');
INSERT INTO scale_clock VALUES ('lineage_warm', clock_timestamp());
SELECT is((SELECT count(*) FROM scale_accounts s WHERE kalix.billing_account(s.id) <> s.root), 0::bigint,
          'billing_account() of every account is the root of its tree');
INSERT INTO scale_clock VALUES ('billing_all', clock_timestamp());
SELECT is((SELECT count(*) FROM kalix.descendants('5f000000-0000-4000-8000-00000000c350')), 100::bigint,
          'descendants() of a root lists its 100 accounts');

-- A chain of 1,000 accounts: 999 inserted, the 1,000th linked.
SET LOCAL kalix.max_depth = 1000;
INSERT INTO kalix.accounts (id, name, parent_id, created_by)
SELECT ('5f000000-0000-4000-8000-1' || lpad(to_hex(n), 11, '0'))::uuid, 'Chain ' || n,
       CASE WHEN n > 1 THEN ('5f000000-0000-4000-8000-1' || lpad(to_hex(n - 1), 11, '0'))::uuid END,
       '5f000000-0000-4000-8000-0000000000aa'
FROM generate_series(1, 1001) n;
UPDATE kalix.accounts SET parent_id = NULL WHERE id IN ('5f000000-0000-4000-8000-1000000003e8',
                                                        '5f000000-0000-4000-8000-1000000003e9');
INSERT INTO kalix.memberships (account_id, login_id, role)
SELECT id, '5f000000-0000-4000-8000-0000000000aa', 'owner' FROM kalix.accounts WHERE name LIKE 'Chain %';
INSERT INTO scale_clock VALUES ('chain_built', clock_timestamp());
SELECT lives_ok($$SELECT kalix.link_child('5f000000-0000-4000-8000-1000000003e8', '5f000000-0000-4000-8000-1000000003e7')$$,
                'with kalix.max_depth = 1000 the 1,000th account of a chain can be linked');
INSERT INTO scale_clock VALUES ('chain_link', clock_timestamp());
SELECT is(cardinality(kalix.lineage('5f000000-0000-4000-8000-1000000003e8')), 1000,
          'the lineage of the 1,000th account has 1,000 accounts');
SELECT is(kalix.switch_account('5f000000-0000-4000-8000-1000000003e8', true),
          '5f000000-0000-4000-8000-1000000003e8'::uuid, 'switched to the 1,000th account');
SELECT is(kalix.lineage_distance('5f000000-0000-4000-8000-100000000001'), 999,
          'the head of the chain is at distance 999');
SELECT is((SELECT count(*) FROM kalix.accounts a WHERE a.name LIKE 'Chain %'
           AND kalix.lineage_distance(a.id) IS NOT NULL), 1000::bigint,
          'lineage_distance() finds every account of the chain');
INSERT INTO scale_clock VALUES ('chain_lineage', clock_timestamp());
SELECT throws_ok($$SELECT kalix.link_child('5f000000-0000-4000-8000-1000000003e9', '5f000000-0000-4000-8000-1000000003e8')$$,
                 '54000',
                 'linking account "5f000000-0000-4000-8000-1000000003e9" under account "5f000000-0000-4000-8000-1000000003e8" would make a lineage of 1001 accounts',
                 'the 1,001st account of a chain is refused');
SELECT throws_ok($$SELECT kalix.create_account('Chain 1001', child => true)$$, '54000',
                 'a child of account "5f000000-0000-4000-8000-1000000003e8" would make a lineage of 1001 accounts',
                 'create_account(child => true) under the 1,000th account is refused');
-- Only a direct write can make a longer chain; walks refuse it.
UPDATE kalix.accounts SET parent_id = '5f000000-0000-4000-8000-1000000003e8' WHERE id = '5f000000-0000-4000-8000-1000000003e9';
SELECT throws_ok($$SELECT kalix.lineage('5f000000-0000-4000-8000-1000000003e9')$$, '54000',
                 'lineage of account "5f000000-0000-4000-8000-1000000003e9" is longer than 1000 accounts',
                 'a walk stops at 1,000 accounts');
INSERT INTO scale_clock VALUES ('end', clock_timestamp());

SELECT diag(format('%-14s %8s ms', c.step, round(extract(epoch FROM c.at - lag(c.at) OVER (ORDER BY c.at)) * 1000)))
FROM scale_clock c ORDER BY c.at OFFSET 1;

SELECT * FROM finish();
ROLLBACK;
