"""Parsing `/incident declare` text: title and severity, with errors a person can act on."""

from __future__ import annotations

import pytest

from handlers.slack.incidents import UsageError, parse_declare


@pytest.mark.parametrize(
    ("text", "title", "severity"),
    [
        ("DB down", "DB down", "sev2"),
        ("DB down --sev sev1", "DB down", "sev1"),
        ("--sev SEV3 DB down", "DB down", "sev3"),
        ("DB --sev=4 down", "DB down", "sev4"),
        ("DB down --severity 1", "DB down", "sev1"),
        ("  Can't   reach\n payments ", "Can't reach payments", "sev2"),
        ('"quoted" title', '"quoted" title', "sev2"),
    ],
)
def test_title_and_severity_are_read_from_the_text(text: str, title: str, severity: str) -> None:
    request = parse_declare(text)
    assert (request.title, request.severity) == (title, severity)


@pytest.mark.parametrize(
    ("text", "advice"),
    [
        ("", "Give the incident a title"),
        ("--sev sev1", "Give the incident a title"),
        ("DB down --sev", "`--sev` needs a value"),
        ("DB down --sev --sev sev1", "`--sev` needs a value"),
        ("DB down --sev sev9", "sev1, sev2, sev3 or sev4"),
        ("DB down --sev critical", "you wrote `critical`"),
        ("DB down --sev 1 --sev 2", "Give `--sev` once"),
        ("x" * 151, "under 150 characters"),
    ],
)
def test_unusable_text_gets_advice(text: str, advice: str) -> None:
    with pytest.raises(UsageError, match=advice.replace("`", ".").replace("(", ".")):
        parse_declare(text)


def test_a_hostile_severity_is_escaped_in_the_advice() -> None:
    with pytest.raises(UsageError) as raised:
        parse_declare("DB down --sev <!channel>")
    assert "<!channel>" not in str(raised.value)
    assert "&lt;!channel&gt;" in str(raised.value)
