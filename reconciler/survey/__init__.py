"""The survey: every group's users, activity, loads and references, to decide what to retire.

`report` turns desired + live + history into a `Survey`; renderers live in `reconciler.render`.
"""
