"""`python -m reconciler` runs the same CLI as the `alma-groups` console script."""

from reconciler.cli import main

main()
