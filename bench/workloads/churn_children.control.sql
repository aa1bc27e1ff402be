-- control writer for churn_children: one commit per transaction, on a table outside kalix
\set l :nlogins + random(1, 100)
INSERT INTO bench.control_log (l) VALUES (:l);
