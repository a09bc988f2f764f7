"""Planning: pure functions from desired + live + history to a plan. No I/O, no HTTP.

DesiredState + LiveState ── diff ──► changes (apply order)
changes + context ── safety (named rules) ──► violations
changes ── strategies', the lock's and the re-read's cost ──► API-call estimate
all of it ── plan ──► Plan ── plan_file ──► saved, checksummed JSON (and back)
"""
