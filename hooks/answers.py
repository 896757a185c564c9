"""What answers may reach: each text as the file it lands in reads it, and no
answer under a name the template computes or uses itself.

The validators in hooks/services.py keep out what no file could carry (line
breaks, control characters; in the project name also ``"`` `````` ``$`` ``\\``).
What is left is a fine name in most files (YAML comments, TOML and JSON
strings, docstrings) but means markup in a few: those files pass the value
through a filter of this module, which leaves ordinary text byte for byte as
it is::

    <h1>{{ project_name | jsx_text }}</h1>        App.tsx (JSX text)
    <title>{{ project_name | html_text }}</title> index.html
    # {{ project_name | markdown_text }}          README.md, docs/

Names: Copier puts every key of ``--data``/``--data-file`` into the render
context, questions or not, where it hides the template's own names: a Jinja
global (``template_changelog()``, ``range``) or a value a context hook computes
(``service_list``, ``forge_list``). :func:`internal_name_error` refuses those
keys (copier.yml's ``data`` question, asked of no one, validates
``_copier_conf.data`` before anything is written); the list comes from the
environment itself (:func:`internal_names`), never from a hand-kept list.
Values from elsewhere (Copier's user defaults, a hand-edited answers file)
skip validators: :class:`AnswersHook` puts the globals back in every render,
as ServiceListHook recomputes service_list.

Pure functions but for :func:`questions` (reads copier.yml once); only the
extension needs Jinja and copier-template-extensions.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

COPIER_YML = Path(__file__).resolve().parent.parent / "copier.yml"
# Copier prefixes a refusal with "Validation error for question 'data': " and
# the prompt cuts the line at 80 columns.
DATA_QUESTION = "data"
MAX_MESSAGE = 80 - len(f"Validation error for question '{DATA_QUESTION}': ")
# Ordinary answers a context hook computes its values from, for the probe in
# computed_names(): any valid answers do (no hook may depend on which).
PROBE_ANSWERS: dict[str, object] = {
    "layout": "multi", "services": "api", "ci_provider": "github",
    "components": ["postgres", "redis"], "deploy_targets": ["compose"],
}

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


# ------------------------------------------------------------ internal names


@functools.cache
def questions() -> frozenset[str]:
    """The questions of copier.yml: names --data may give (their validators judge the values)."""
    import yaml

    config = yaml.safe_load(COPIER_YML.read_text(encoding="utf-8"))
    return frozenset(name for name in config if not name.startswith("_"))


def computed_names(hooks: Iterable[Callable[[dict], object]]) -> set[str]:
    """The context values the hooks set or change, found by running them on ordinary answers."""
    names: set[str] = set()
    for hook in hooks:
        context = {"_copier_conf": {}, **{k: v for k, v in PROBE_ANSWERS.items()}}
        before = dict(context)
        hook(context)
        names |= {key for key in context if key not in before or context[key] is not before[key]}
    return names


def internal_names(environment) -> set[str]:  # noqa: ANN001 - a jinja2.Environment
    """Every name the template uses that no answer may take: the environment's
    globals (Jinja's, the extensions') and what its context hooks compute."""
    hooks = [ext.hook for ext in environment.extensions.values() if callable(getattr(ext, "hook", None))]
    return set(environment.globals) | computed_names(hooks)


def internal_name_error(data: object, internal: Iterable[str], allowed: Iterable[str] = ()) -> str:
    """Empty unless data (--data and --data-file) gives a name in internal that is not
    in allowed (the questions: their own validators judge them); else the message."""
    if not isinstance(data, Mapping):
        return ""
    supplied = sorted(set(map(str, data)) & set(internal) - set(allowed))
    if not supplied:
        return ""
    name = supplied[0]
    message = f"{name}: internal; drop it"
    if len(message) > MAX_MESSAGE:
        keep = MAX_MESSAGE - len(message) + len(name) - 1
        message = f"{name[:keep]}…: internal; drop it"
    return message


def _answers_extension() -> type:
    # Imported on first use: the unit tests of the functions above need no Copier.
    from copier_template_extensions import ContextHook
    from jinja2 import pass_environment

    @pass_environment
    def supplied_internal_error(environment, data: object) -> str:  # noqa: ANN001
        return internal_name_error(data, internal_names(environment), questions())

    class AnswersHook(ContextHook):  # type: ignore[misc,valid-type]
        """The escape filters, the `data` question's check, and the template's globals
        put back in every render whatever an answer of the same name said."""

        def __init__(self, environment):  # noqa: ANN001
            super().__init__(environment)
            environment.filters["jsx_text"] = jsx_text
            environment.filters["html_text"] = html_text
            environment.filters["markdown_text"] = markdown_text
            environment.filters["internal_name_error"] = supplied_internal_error

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
