"""What answers may reach: each text as the file it lands in reads it, and no
answer under a name the template uses itself.

The validators in hooks/services.py keep out what no file could carry (line
breaks, control characters; in the project name also ``"`` `````` ``$`` ``\\``).
What is left is a fine name in most files (YAML comments, TOML and JSON
strings, docstrings) but means markup in a few: those files pass the value
through a filter of this module, which leaves ordinary text byte for byte as
it is::

    <h1>{{ project_name | jsx_text }}</h1>        App.tsx (JSX text)
    <title>{{ project_name | html_text }}</title> index.html
    # {{ project_name | markdown_text }}          README.md, docs/

Names: Copier puts every key of ``--data``/``--data-file`` and of its user
defaults into the render context, where it hides the template's own names (a
Jinja global such as ``template_changelog()``): :class:`AnswersHook` puts the
globals back in every render, as ServiceListHook recomputes service_list.

Pure functions; only the extension needs Jinja and copier-template-extensions.
"""

from __future__ import annotations

import json
import re

# JSX text: '{' and '}' open and close expressions, '<' and '>' tags, '&' an
# entity (tsc refuses a bare '>' or '}').
_JSX_SPECIAL = frozenset("{}<>&")
# Markdown: characters that start inline markup (emphasis, links, code, raw
# HTML, entities, strikethrough, a heading's closing #s) ...
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>&#~])")
# ... and what starts a block at the beginning of a line (list, quote, heading,
# thematic break, ordered list "1." or "1)").
_MARKDOWN_BLOCK = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))")


def jsx_text(value: object) -> str:
    """value as JSX text: itself, or a string expression where JSX would read markup."""
    text = str(value)
    if not _JSX_SPECIAL.intersection(text):
        return text
    # A JSON string is a JavaScript string literal (U+2028/2029 are refused answers anyway).
    return "{" + json.dumps(text, ensure_ascii=False) + "}"


def html_text(value: object) -> str:
    """value as HTML text (an element's content, <title> included): & < > as entities.

    Quotes stay as they are: this is for text, never for an attribute's value.
    """
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_text(value: object) -> str:
    """value as one line of Markdown text (CommonMark, GitHub, Gitea): what would be
    markup or raw HTML backslash-escaped, so the page shows the text as typed."""
    text = _MARKDOWN_INLINE.sub(r"\\\1", str(value))
    if match := _MARKDOWN_BLOCK.match(text):
        # "1." stays a number with its dot escaped; "-", "+", "=" get the backslash.
        lead, marker = match.groups()
        end = match.end()
        text = (f"{lead}{marker}\\{text[end:]}" if marker[0].isdigit()
                else f"{lead}\\{marker}{text[end:]}")
    return text


def _answers_extension() -> type:
    # Imported on first use: the unit tests of the functions above need no Copier.
    from copier_template_extensions import ContextHook

    class AnswersHook(ContextHook):  # type: ignore[misc,valid-type]
        """The escape filters, and the template's globals put back in every render
        whatever an answer of the same name said."""

        def __init__(self, environment):  # noqa: ANN001
            super().__init__(environment)
            environment.filters["jsx_text"] = jsx_text
            environment.filters["html_text"] = html_text
            environment.filters["markdown_text"] = markdown_text

        def hook(self, context: dict) -> None:
            for name, value in self.environment.globals.items():
                if name in context and context[name] is not value:
                    context[name] = value

    AnswersHook.__qualname__ = "AnswersHook"
    return AnswersHook


def __getattr__(name: str) -> type:
    """AnswersHook, built when Copier (or a test) first asks for it."""
    if name == "AnswersHook":
        globals()[name] = _answers_extension()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
