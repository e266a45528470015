-- pgbench script of the naive ledger baseline (loadtest/closed/run.ts): one PostgreSQL transaction
-- per payment that locks the purse, checks and debits it, credits the merchant's one payable row and
-- inserts the transfer with its idempotency key.
\set card random(1, :cards)
BEGIN;
SELECT balance FROM naive_accounts WHERE account_id = :card FOR UPDATE;
UPDATE naive_accounts SET balance = balance - 1 WHERE account_id = :card AND balance >= 1;
UPDATE naive_accounts SET balance = balance + 1 WHERE account_id = 0;
INSERT INTO naive_transfers (op_id, debit_account_id, credit_account_id, amount) VALUES (:client_id || '-' || md5(random()::text), :card, 0, 1);
COMMIT;
