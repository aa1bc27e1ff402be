-- New Account dialog with "copy users" from the current (50-member) account
SELECT kalix.create_account('Bench copy', false, true);
