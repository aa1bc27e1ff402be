-- churn writer: a new child of the writer's account
SELECT kalix.create_account('Bench churn child', true);
