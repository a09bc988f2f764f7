"""Runs across institutions: one Alma client each, institutions side by side.

`reads` reads live Alma for plan, survey and import, and collects affected users. It composes
the reading and planning packages with the I/O they must not do themselves (files, clients).
"""
