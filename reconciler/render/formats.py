"""Output formats: for each kind of document, one registry from format name to renderer.

Every command picks its renderer here, by the name given to `--format`, so a format is added
in one place and no command picks one by if/elif. A renderer is a pure function from the
document and a `Style` to text; only the terminal text uses the style (colour).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from reconciler.desired.loading import ValidationReport
from reconciler.errors import UsageError
from reconciler.model.plan import Plan
from reconciler.planning.drift import InstitutionDrift
from reconciler.render import (
    drift_json,
    drift_markdown,
    drift_text,
    json_doc,
    markdown,
    survey_csv,
    survey_html,
    survey_json,
    survey_markdown,
    survey_text,
    text,
)
from reconciler.survey.compare import Comparison
from reconciler.survey.report import Survey

D = TypeVar("D")


@dataclass(frozen=True)
class Style:
    """How the reader sees the output: colour only for a person at a terminal."""

    colour: bool = False


PLAIN = Style()


@dataclass(frozen=True)
class Formats(Generic[D]):
    """The formats one kind of document can be written in, by name, in the order of `--help`."""

    document: str
    renderers: Mapping[str, Callable[[D, Style], str]]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.renderers)

    def render(self, name: str, document: D, style: Style = PLAIN) -> str:
        renderer = self.renderers.get(name)
        if renderer is None:
            known = ", ".join(self.names)
            raise UsageError(f"no {name!r} format for a {self.document}; use one of {known}")
        return renderer(document, style)


def _plain(render: Callable[[D], str]) -> Callable[[D, Style], str]:
    """A renderer that has no use for colour."""
    return lambda document, _style: render(document)


PLAN_FORMATS = Formats[Plan](
    "plan",
    {
        "text": lambda plan, style: text.render_plan(plan, colour=style.colour),
        "markdown": _plain(markdown.render_plan),
        "json": _plain(json_doc.render_plan),
    },
)

SURVEY_FORMATS = Formats[Survey](
    "survey",
    {
        "table": _plain(survey_text.render_survey),
        "markdown": _plain(survey_markdown.render_survey),
        "csv": _plain(survey_csv.render_survey),
        "json": _plain(survey_json.render_survey),
        "html": _plain(survey_html.render_survey),
    },
)

COMPARISON_FORMATS = Formats[Comparison](
    "survey comparison",
    {
        "table": _plain(survey_text.render_comparison),
        "markdown": _plain(survey_markdown.render_comparison),
        "json": _plain(survey_json.render_comparison),
    },
)

VALIDATION_FORMATS = Formats[ValidationReport](
    "validation report",
    {
        "text": _plain(text.render_validation),
        "json": _plain(json_doc.render_validation),
    },
)

DRIFT_FORMATS = Formats[Sequence[InstitutionDrift]](
    "drift report",
    {
        "text": _plain(drift_text.render_drift_text),
        "markdown": _plain(drift_markdown.render_drift_markdown),
        "json": _plain(drift_json.render_drift_json),
    },
)
