"""Apply: carry out a plan's changes in Alma — journaled, resumable and reversible.

Below planning and above reading in the layers: it reads live state to re-check each record
right before writing it, and uses the Alma client for the writes. Users are moved by one of two
strategies chosen by size: per-user GET → PUT, or a bulk move (`bulk_move`: an itemized set and
Alma's "Update/Notify Users" job), followed by a fresh census and a per-user mop-up.
"""
