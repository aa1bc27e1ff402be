/* kalix_accounts--1.0--1.1.sql */

\echo Use "ALTER EXTENSION kalix_accounts UPDATE TO '1.1'" to load this file. \quit

-- Release 1.1: the write path in C, the companion extension kalix_npi, and
-- the security fixes of the 1.1 review.  Each change below names what it
-- replaces; after it the installation equals a fresh 1.1 install
-- (test/upgrade.sh compares them object by object).
