"""Reading Alma's state: what the live tool needs to know before it plans or applies.

    AlmaClient ── live.read_live ──► LiveState (group table, mappings, counts, rules, last SIS run)
               ── census (exact, or saying it is not) ──► GroupCensus
               ── references (Analytics rules, mapping tables) ──► RuleReference

Only reads: nothing here writes to Alma. Everything goes through `reconciler.alma`.
"""
