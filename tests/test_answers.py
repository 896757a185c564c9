"""The answers other than `services`, without Copier: their validators, the
escape filters of hooks/answers.py, the names no answer may take, and every
refusal message on one prompt line.

tests/test_questions.py checks the same rules through Copier;
tests/test_answers_reach_files.py checks the rendered files with their tools.
"""

from __future__ import annotations

import pytest
from support import hook_answers, hook_services, image_name_problem

services = hook_services()
answers = hook_answers()


# ------------------------------------------------------------------ registry

REGISTRIES: dict[str, tuple[str, str]] = {
    "ghcr": ("ghcr.io/acme", ""),
    "host-port-path": ("registry.example.com:5000/team/sub", ""),
    "host-only": ("ghcr.io", ""),
    "localhost-port": ("localhost:5000", ""),
    "docker-hub-namespace": ("acme", ""),
    "docker-hub-underscore": ("my_org/acme", ""),
    "dashes-and-double-underscore": ("ghcr.io/acme--team/a__b", ""),
    "port-1": ("reg.example:1/acme", ""),
    "port-65535": ("reg.example:65535/acme", ""),
    "port-0": ("reg.example:0/acme", "the port is a number from 1 to 65535"),
    "port-99999": ("reg.example:99999/acme", "the port is a number from 1 to 65535"),
    "underscore-in-host": ("my_host.io/acme", "host like ghcr.io: a-z, 0-9, -, dots"),
    "dash-first-in-host": ("-ghcr.io/acme", "host like ghcr.io: a-z, 0-9, -, dots"),
    "empty-host-part": ("ghcr..io/acme", "host like ghcr.io: a-z, 0-9, -, dots"),
    "triple-underscore": ("ghcr.io/a___b", services.REGISTRY_RULE),
    "empty": ("", services.REGISTRY_RULE),
    "scheme": ("https://ghcr.io/acme", services.REGISTRY_RULE),
    "port-not-a-number": ("ghcr.io:x/acme", services.REGISTRY_RULE),
    "tag": ("ghcr.io/acme:latest", services.REGISTRY_RULE),
    "digest": ("ghcr.io/acme@sha256:ab", services.REGISTRY_RULE),
    "upper": ("ghcr.io/Acme", services.REGISTRY_RULE),
    "host-224": ("r.io/" + "a" * 219, ""),
    "host-225": ("r.io/" + "a" * 220, "at most 224 characters (image names)"),
    # Docker Hub's host counts: docker.io/<registry>/<service>.
    "hub-214": ("a" * 214, ""),
    "hub-215": ("a" * 215, "at most 214 characters (image names)"),
    "300-chars": ("ghcr.io/" + "a" * 292, "at most 224 characters (image names)"),
}


@pytest.mark.parametrize(("registry", "message"), REGISTRIES.values(), ids=REGISTRIES.keys())
def test_registry_error(registry: str, message: str) -> None:
    assert services.registry_error(registry) == message


@pytest.mark.parametrize("registry", [r for r, m in REGISTRIES.values() if not m])
def test_every_accepted_registry_gives_valid_image_names(registry: str) -> None:
    """The longest name a service can have, under the registry: the grammar, 255 characters."""
    assert image_name_problem(f"{registry}/{'s' * services.MAX_NAME}") == ""


@pytest.mark.parametrize("registry", [r for r, m in REGISTRIES.values() if m])
def test_refused_registries_give_invalid_image_names(registry: str) -> None:
    assert image_name_problem(f"{registry}/{'s' * services.MAX_NAME}")


# --------------------------------------------------------------------- slug

YAML_WORDS_11 = ["y", "yes", "n", "no", "true", "false", "on", "off", "null"]


def test_yaml_words_are_every_bool_and_null_the_slug_grammar_allows() -> None:
    # YAML 1.1 bools and nulls (yaml.org/type/bool.html, null.html) and YAML 1.2's,
    # lower-cased: the slug grammar has no capitals and no '~'.
    spellings = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
                 "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
                 "~", "null", "Null", "NULL"}
    fitting = {word for word in spellings if services.SLUG_RE.fullmatch(word)}
    assert fitting == set(services.YAML_WORDS) == set(YAML_WORDS_11)


@pytest.mark.parametrize("word", YAML_WORDS_11)
def test_yaml_word_slug_is_refused_with_what_to_write(word: str) -> None:
    message = services.slug_error(word)
    assert message == f"a YAML {services.YAML_WORDS[word]}; write {word}-project"
    assert services.slug_error(f"{word}-project") == ""


@pytest.mark.parametrize(("name", "slug"), [("null", "null-project"), ("True", "true-project"),
                                            ("  Yes! ", "yes-project"), ("ON", "on-project"),
                                            ("nullable", "nullable"), ("No Shop", "no-shop")])
def test_slugify_never_gives_a_yaml_word(name: str, slug: str) -> None:
    assert services.slugify(name) == slug
    assert services.slug_error(slug) == ""


def test_slugify_of_a_yaml_word_folder() -> None:
    assert services.slugify("日本語", "off") == "off-project"


# ------------------------------------------------------------------ escapes

JSX = {
    "plain": ("Acme Shop", "Acme Shop"),
    "apostrophe": ("Bob's Shop", "Bob's Shop"),
    "braces": ("Acme {Shop}", '{"Acme {Shop}"}'),
    "tag": ("X </title><script>alert(1)</script>", '{"X </title><script>alert(1)</script>"}'),
    "ampersand": ("R&D", '{"R&D"}'),
    "non-ascii": ("Café ✓", "Café ✓"),
}


@pytest.mark.parametrize(("name", "text"), JSX.values(), ids=JSX.keys())
def test_jsx_text(name: str, text: str) -> None:
    assert answers.jsx_text(name) == text


HTML = {
    "plain": ("Acme Shop", "Acme Shop"),
    "apostrophe": ("Bob's Shop", "Bob's Shop"),
    "tag": ("X </title><script>", "X &lt;/title&gt;&lt;script&gt;"),
    "entity": ("R&amp;D", "R&amp;amp;D"),
}


@pytest.mark.parametrize(("name", "text"), HTML.values(), ids=HTML.keys())
def test_html_text(name: str, text: str) -> None:
    assert answers.html_text(name) == text


MARKDOWN = {
    "plain": ("Acme Shop", "Acme Shop"),
    "default-description": ("Acme Shop: services built and tested with Docker",
                            "Acme Shop: services built and tested with Docker"),
    "punctuation-kept": ("Bob's Shop (beta), v2.0!", "Bob's Shop (beta), v2.0!"),
    "emphasis": ("*Acme* _Shop_", r"\*Acme\* \_Shop\_"),
    "html": ("<script>alert(1)</script>", r"\<script\>alert(1)\</script\>"),
    "link": ("[x](http://e.org)", r"\[x\](http://e.org)"),
    "entity": ("&copy;", r"\&copy;"),
    "heading-closer": ("Acme #", r"Acme \#"),
    "list": ("- a list", r"\- a list"),
    "ordered-list": ("1. first", r"1\. first"),
    "ordered-list-paren": ("12) first", r"12\) first"),
    "thematic-break": ("===", r"\==="),
    "quote": ("> quoted", r"\> quoted"),
}


@pytest.mark.parametrize(("text", "markdown"), MARKDOWN.values(), ids=MARKDOWN.keys())
def test_markdown_text(text: str, markdown: str) -> None:
    assert answers.markdown_text(text) == markdown
