"""Runs across institutions: one Alma client each, institutions side by side.

`fanout` runs work for every institution with its own client and ledger and returns, per
slug, the result or the `ReconcilerError` that stopped it. `outcomes` names how each
institution ended and decides the exit code. `reads` reads live Alma for plan and survey and
collects affected users: it composes the reading and planning packages with the I/O they must
not do themselves (files, clients).
"""
