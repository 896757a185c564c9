"""The answers other than ``services``: their checks, each text as the file it
lands in reads it, and no answer under a name the template computes or uses itself.

Checks (copier.yml's validators, and ``check`` on update through
:data:`ANSWER_CHECKS`): :func:`project_name_error`, :func:`slug_error`,
:func:`registry_error` and :func:`text_error` keep out what no file could carry
(line breaks, control characters; in the project name also ``"`` `````` ``$``
``\\``); :func:`slugify` and :func:`usable_name` give the defaults. Messages stay
short: Copier's prompt shows "Validation error for question 'NAME': " and the
message on one line cut at 80 columns.

Escapes: what the checks leave is a fine name in most files (YAML comments,
TOML and JSON strings, docstrings) but means markup in a few: those files pass
the value through a filter of this module, which leaves ordinary text byte for
byte as it is::

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
skip validators: hooks/jinja.py's ``AnswersHook`` puts the globals back in every
render, as its ServiceListHook recomputes service_list.

Pure functions but for :func:`questions` (reads copier.yml once): no Jinja or
Copier import (hooks/jinja.py exposes them to Copier).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

# hooks/services.py (the services' names: an image name's length) and hooks/model.py,
# siblings in hooks/jinja.py's package or by their plain names (hooks/ on sys.path).
if __package__:
    from . import model, services
else:
    import model
    import services

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


# ------------------------------------------------------------ checks
MAX_SLUG = 30
MAX_PROJECT_NAME = 80

# Line breaks as YAML (U+0085, U+2028, U+2029), JSON, TOML or a terminal read
# them, other control characters, and invisible format characters (zero-width
# spaces, bidi overrides): none belongs in a name written into YAML comments,
# workflows, manifests and docstrings.
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible character",
    "Zl": "a line break",
    "Zp": "a line break",
    "Cs": "a lone surrogate",
}
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def text_error(value: object) -> str:
    """Empty when value is one line of printable text, else a short message (a validator)."""
    for char in str(value):
        category = unicodedata.category(char)
        if char in _LINE_BREAKS or category in _REFUSED_CATEGORIES:
            what = "a line break" if char in _LINE_BREAKS else _REFUSED_CATEGORIES[category]
            return f"U+{ord(char):04X} is {what}"
    return ""


def project_name_error(value: object) -> str:
    """Empty when value is a fine project name, else a short message (a validator).

    The name goes into YAML comments, docstrings, JSON and TOML strings: one
    line of printable text without the characters those would need escaped.
    """
    name = str(value)
    if not name.strip():
        return "give the project a name"
    if any(char in name for char in '"`$\\'):
        return 'no " ` $ or \\ in the name'
    if message := text_error(name):
        return message
    if len(name) > MAX_PROJECT_NAME:
        return f"at most {MAX_PROJECT_NAME} characters"
    return ""


def usable_name(value: object) -> str:
    """value without the characters a project name may not have (a folder's name as default)."""
    kept = "".join(char for char in str(value) if char not in '"`$\\' and not text_error(char))
    return kept.strip()[:MAX_PROJECT_NAME].strip()


SLUG_RE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
# Slugs a YAML loader reads as a bool or null, not text (model.YAML_WORDS): the slug
# is a namespace, a name and a label in deploy/k8s/, unquoted; slugify() appends
# SLUG_SUFFIX to them.
YAML_WORDS = model.YAML_WORDS
SLUG_SUFFIX = "-project"

# The registry answer, by the image reference grammar of Docker and OCI
# (github.com/distribution/reference): an optional host[:port], then path
# components. The first part is a host when it has a dot or a port or is
# localhost; otherwise the images are on Docker Hub (docker.io/<registry>/...).
# This template is stricter in one point: the host is lowercase too.
HOST_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
PATH_COMPONENT_RE = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
DOCKER_HUB = "docker.io/"
# distribution/reference's NameTotalLengthMax: the whole image name, host included.
MAX_IMAGE_NAME = 255
REGISTRY_RULE = "like ghcr.io/acme: lowercase, no tag"


def slug_error(value: object) -> str:
    """Empty when value is a project slug (the whole value: no final newline), else the message."""
    slug = str(value)
    if not SLUG_RE.fullmatch(slug):
        return "a letter, then a-z, 0-9, single -"
    if len(slug) > MAX_SLUG:
        return f"at most {MAX_SLUG} characters"
    if slug in YAML_WORDS:
        return f"a YAML {YAML_WORDS[slug]}; write {slug}{SLUG_SUFFIX}"
    return ""


def image_name(registry: str, name: str) -> str:
    """The full name of a service's release image, as Docker reads `<registry>/<name>`
    (partials/compose/prod.jinja, the release workflows, deploy/k8s): Docker Hub's
    host added when the registry names none."""
    first = registry.split("/", 1)[0]
    is_host = "." in first or ":" in first or first == "localhost"
    return f"{registry}/{name}" if is_host else f"{DOCKER_HUB}{registry}/{name}"


def registry_error(value: object) -> str:
    """Empty when value is an image prefix such as ghcr.io/acme, else the message."""
    registry = str(value)
    first, _, rest = registry.partition("/")
    if "." in first or ":" in first or first == "localhost":
        host, colon, port = first.partition(":")
        if colon and port.isascii() and port.isdigit() and not 1 <= int(port) <= 65535:
            return "the port is a number from 1 to 65535"
        if re.fullmatch(r"[a-z0-9._-]+", host) and not HOST_RE.fullmatch(host):
            return "host like ghcr.io: a-z, 0-9, -, dots"
        if not HOST_RE.fullmatch(host) or colon and not (port.isascii() and port.isdigit()):
            return REGISTRY_RULE
        path = rest.split("/") if rest else []
    else:
        path = registry.split("/")
    if not all(PATH_COMPONENT_RE.fullmatch(part) for part in path):
        return REGISTRY_RULE
    # The longest image name a service can give (a name has at most MAX_NAME characters).
    if len(image_name(registry, "a" * services.MAX_NAME)) > MAX_IMAGE_NAME:
        limit = len(registry) - len(image_name(registry, "a" * services.MAX_NAME)) + MAX_IMAGE_NAME
        return f"at most {limit} characters (image names)"
    return ""


# Every free-text answer with a check here, by question: what `check` re-validates on update.
ANSWER_CHECKS = {
    "project_name": project_name_error,
    "project_slug": slug_error,
    "description": text_error,
    "registry": registry_error,
}


def slugify(*candidates: object) -> str:
    """The first candidate that gives a slug: ASCII lowercase, digits, single dashes.

    Accents are dropped (Café -> cafe); a leading digit gets 'p-', a YAML word
    (null, yes, ...) SLUG_SUFFIX. A name
    without ASCII letters or digits gives nothing, so the next candidate (the
    destination folder's name) is tried, and 'project' at last.
    """
    for text in candidates:
        ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
        slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
        if slug[:1].isdigit():
            slug = f"p-{slug}"
        slug = slug[:MAX_SLUG].rstrip("-")
        if slug in YAML_WORDS:  # a bool or null to YAML: slug_error refuses it
            slug += SLUG_SUFFIX
        if slug:
            return slug
    return "project"



# ------------------------------------------------------------ escapes
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
