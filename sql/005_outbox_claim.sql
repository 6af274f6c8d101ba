-- 005_outbox_claim.sql - a send pass's claim on the rows it took carries a
-- token of its own.  Only the pass whose token a row carries sends it, and a
-- row taken over by another pass (its lease ran out) is not sent by the
-- first.  The mail on the wire is guarded by an advisory lock of the
-- sending session as well, so an expired lease never sends one mail twice.
ALTER TABLE outbox ADD COLUMN claim text;
