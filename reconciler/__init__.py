"""alma-groups: a declarative reconciler for Alma user groups across FLVC's 40 institutions.

    desired/        user-groups.yaml + institution.yaml ──► DesiredState (positions kept)
    alma/           the only package that speaks HTTP: client, limits, retries, errors
    reading/        live Alma ──► LiveState, exact censuses, references
    patron_loads/   SIS files ──► aggregate, PII-free patron-load history
    planning/       pure: diff, safety rules, cost, Plan, saved-plan file
    survey/         pure: groups, activity and retirement candidates
    apply/          the write path: journaled, resumable, reversible changes to Alma
    runs/           fan-out over institutions: one client each, results typed per slug
    render/         one module per output format, picked from one registry
    cli/            Typer app: the only place that prints and picks exit codes
    sandbox/        a local Alma over HTTP for demos and tests; the core never imports it
    model/          frozen dataclasses shared by all of the above (changes and Plan too)
    errors.py       one error tree, imported by every layer (so it sits at the root)
    files.py        files in and out: atomic writes; reads of others' files inside the
                    tree, regular and bounded in size (used by every layer, so at the root)
    gitops.py       git facts: changed institutions, commit, CODEOWNERS (one small module)
    github/         GitHub's REST API for CI: sticky comments, the drift issue

Dependency direction: cli → runs → render/gitops/github → planning/survey → apply →
desired/reading/patron_loads → alma → files → errors → model.
"""

__version__ = "0.1.0"
