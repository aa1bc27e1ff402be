-- control writer for churn_members: the same statements and commits, on a table outside kalix
\set l :nlogins + random(1, 100)
UPDATE bench.control SET x = x + 1 WHERE l = :l;
UPDATE bench.control SET x = x - 1 WHERE l = :l;
