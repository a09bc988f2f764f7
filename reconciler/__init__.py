"""alma-groups: a declarative reconciler for Alma user groups across FLVC's 40 institutions."""

__version__ = "0.1.0"
