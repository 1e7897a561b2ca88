-- 0009_phone: phone numbers and verified addresses on the user row.
--
-- phone holds the number in E.164 ("+14155550100"), as the service parses it
-- (github.com/nyaruka/phonenumbers); it is unique across users, so the
-- number is the account's key for a sign-in by SMS code, as email_key is
-- for a sign-in by email code. email_verified_at and phone_verified_at are
-- when the address was proved reachable (a code sent there was used, or a
-- provider asserted the address verified); NULL when it was not. The
-- service clears them when the address changes.
--
-- The new columns are NULL everywhere, so adding them rewrites nothing; the
-- CHECK is NOT VALID for the same reason (no existing row can break it, and
-- validating would scan the whole table under the ALTER's lock). It holds
-- for every row written from now on.
ALTER TABLE simpleuser_users
    ADD COLUMN phone             text,
    ADD COLUMN email_verified_at timestamptz,
    ADD COLUMN phone_verified_at timestamptz,
    ADD CONSTRAINT simpleuser_users_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{1,14}$') NOT VALID;

-- Serves GetByPhone and refuses a second account with the same number
-- (user.ErrPhoneTaken). NULLs (no phone) are not compared.
CREATE UNIQUE INDEX simpleuser_users_phone_key ON simpleuser_users (phone);
