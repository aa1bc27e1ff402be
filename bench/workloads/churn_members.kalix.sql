-- churn writer: a login joins and leaves the writer's account (two membership changes)
\set l :nlogins + random(1, 100)
SELECT kalix.add_member(:acc, bench.login_id(:l), 'member');
SELECT kalix.remove_member(:acc, bench.login_id(:l));
