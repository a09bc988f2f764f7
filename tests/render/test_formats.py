"""One registry of output formats: every command's --format choices are its names."""

from __future__ import annotations

import pytest

from reconciler.cli.alma_commands import PlanFormat
from reconciler.cli.root import ReportFormat
from reconciler.cli.survey_commands import SurveyFormat
from reconciler.errors import UsageError
from reconciler.render import markdown, text
from reconciler.render.formats import (
    PLAN_FORMATS,
    SURVEY_FORMATS,
    VALIDATION_FORMATS,
    Style,
)

from .test_golden import retirement_plan


def test_cli_choices_are_the_registry_names() -> None:
    """plan, survey and validate offer exactly the formats the registry renders."""
    assert [f.value for f in PlanFormat] == list(PLAN_FORMATS.names)
    assert [f.value for f in SurveyFormat] == list(SURVEY_FORMATS.names)
    assert [f.value for f in ReportFormat] == list(VALIDATION_FORMATS.names)


def test_unknown_format_is_a_usage_error_naming_the_choices() -> None:
    """Asking for a format the registry lacks says which ones exist."""
    with pytest.raises(UsageError, match="no 'yaml' format for a plan; use one of text, markdown"):
        PLAN_FORMATS.render("yaml", retirement_plan())


def test_text_takes_the_style_and_markdown_joins_its_comments() -> None:
    """Only the terminal text paints; Markdown prints every comment, separated for CI."""
    plan = retirement_plan()
    painted = PLAN_FORMATS.render("text", plan, Style(colour=True))
    assert painted == text.render_plan(plan, colour=True)
    assert PLAN_FORMATS.render("text", plan) == text.render_plan(plan)
    comments = markdown.render_plan_comments(plan)
    assert PLAN_FORMATS.render("markdown", plan) == markdown.COMMENT_SEPARATOR.join(comments)
