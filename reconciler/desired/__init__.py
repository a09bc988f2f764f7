"""Desired state: institutions' YAML in git, loaded with positions and checked before use."""

from reconciler.desired.loading import (
    ValidationReport,
    discover_institution_dirs,
    institution_folder,
    load_desired_state,
    load_institution,
    validate_paths,
)

__all__ = [
    "ValidationReport",
    "discover_institution_dirs",
    "institution_folder",
    "load_desired_state",
    "load_institution",
    "validate_paths",
]
