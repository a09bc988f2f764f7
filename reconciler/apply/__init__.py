"""The write path: apply a plan to Alma, journaled, resumable and reversible.

strategies   move strategies with their cost (planning's estimate uses them), step costs
moves        one user's GET → change user_group → PUT, and its journaled outcome
purge        re-read with loans/requests/fees, then DELETE (or move instead)
members      a group's current members, and whether the list is exact
tables       UserGroups and UserRecordTypeUserGroup written back whole, only our rows changed
journal      append-only, fsynced JSON lines per run; read back for resume and rollback
lock         one apply per institution across machines, kept in Alma as a named set
engine       one institution's plan, in order, with staleness checks and verification
rollback     a journal replayed backwards, skipping users changed since
report       counts of what happened (no patron data)
"""
