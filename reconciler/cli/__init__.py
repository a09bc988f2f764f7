"""The `alma-groups` command line: the only package that prints and picks exit codes.

Commands parse options, call one function of the core, hand the result to a renderer and
print it. Heavy modules (jsonschema, requests, deepdiff, the sandbox) are imported inside the
commands so that `alma-groups --help` stays fast. Importing this package registers every
command on `app`.
"""

from reconciler.cli import (
    alma_commands,
    apply_commands,
    desired_commands,
    drift_commands,
    github_commands,
    history_commands,
    sandbox_commands,
    survey_commands,
)
from reconciler.cli.root import app, main

__all__ = [
    "alma_commands",
    "app",
    "apply_commands",
    "desired_commands",
    "drift_commands",
    "github_commands",
    "history_commands",
    "main",
    "sandbox_commands",
    "survey_commands",
]
