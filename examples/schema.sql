-- The application schema of the Python and Node examples (examples/python,
-- examples/node): what a migration, run as the tables' owner, would create.
-- Appointment types are shared down the account tree (inherited => true);
-- patients belong to one account only.

CREATE TABLE appointment_types (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id uuid NOT NULL DEFAULT kalix.current_account(),
    name text NOT NULL,
    minutes integer NOT NULL CHECK (minutes > 0),
    UNIQUE (account_id, name)
);
SELECT kalix.enable_isolation('appointment_types', inherited => true);

CREATE TABLE patients (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id uuid NOT NULL DEFAULT kalix.current_account(),
    name text NOT NULL
);
CREATE INDEX ON patients (account_id);
SELECT kalix.enable_isolation('patients');
