"""The answers other than `services`, without Copier: their validators and the
escape filters (hooks/answers.py), the names no answer may take, and every
refusal message on one prompt line.

tests/render/test_questions.py checks the same rules through Copier;
tests/render/test_answers_reach_files.py checks the rendered files with their tools.
"""

from __future__ import annotations

from typing import Any

import jinja2
import pytest
import yaml
from support import TEMPLATE, hook_answers, hook_services, image_name_problem, template_environment

services = hook_services()
answers = hook_answers()

# Copier's prompt: "Validation error for question 'NAME': MESSAGE", cut at 80 columns.
COLUMNS = 80


def prompt_line(question: str, message: str) -> str:
    return f"Validation error for question '{question}': {message}"


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
    "triple-underscore": ("ghcr.io/a___b", answers.REGISTRY_RULE),
    "empty": ("", answers.REGISTRY_RULE),
    "scheme": ("https://ghcr.io/acme", answers.REGISTRY_RULE),
    "port-not-a-number": ("ghcr.io:x/acme", answers.REGISTRY_RULE),
    "tag": ("ghcr.io/acme:latest", answers.REGISTRY_RULE),
    "digest": ("ghcr.io/acme@sha256:ab", answers.REGISTRY_RULE),
    "upper": ("ghcr.io/Acme", answers.REGISTRY_RULE),
    "host-224": ("r.io/" + "a" * 219, ""),
    "host-225": ("r.io/" + "a" * 220, "at most 224 characters (image names)"),
    # Docker Hub's host counts: docker.io/<registry>/<service>.
    "hub-214": ("a" * 214, ""),
    "hub-215": ("a" * 215, "at most 214 characters (image names)"),
    "300-chars": ("ghcr.io/" + "a" * 292, "at most 224 characters (image names)"),
}


@pytest.mark.parametrize(("registry", "message"), REGISTRIES.values(), ids=REGISTRIES.keys())
def test_registry_error(registry: str, message: str) -> None:
    assert answers.registry_error(registry) == message


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
    fitting = {word for word in spellings if answers.SLUG_RE.fullmatch(word)}
    assert fitting == set(answers.YAML_WORDS) == set(YAML_WORDS_11)


@pytest.mark.parametrize("word", YAML_WORDS_11)
def test_yaml_word_slug_is_refused_with_what_to_write(word: str) -> None:
    message = answers.slug_error(word)
    assert message == f"a YAML {answers.YAML_WORDS[word]}; write {word}-project"
    assert answers.slug_error(f"{word}-project") == ""


@pytest.mark.parametrize(("name", "slug"), [("null", "null-project"), ("True", "true-project"),
                                            ("  Yes! ", "yes-project"), ("ON", "on-project"),
                                            ("nullable", "nullable"), ("No Shop", "no-shop")])
def test_slugify_never_gives_a_yaml_word(name: str, slug: str) -> None:
    assert answers.slugify(name) == slug
    assert answers.slug_error(slug) == ""


def test_slugify_of_a_yaml_word_folder() -> None:
    assert answers.slugify("日本語", "off") == "off-project"


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


# ----------------------------------------------------------- internal names


def environment() -> jinja2.Environment:
    return template_environment()


def test_internal_names_come_from_the_environment_and_the_hooks() -> None:
    names = answers.internal_names(environment())
    assert {"template_changelog", "stack_test_dependencies", "reserved_service_names", "range",
            "namespace", "service_list", "forge_list"} <= names, names
    assert not names & answers.questions() - {"service_list"}, names & answers.questions()


def test_computed_names_probe_finds_what_each_hook_sets() -> None:
    def sets_two(context: dict) -> None:
        context["forge_list"] = ["github"]
        context["layout"] = "single"

    def reads_only(context: dict) -> None:
        assert context["services"]

    assert answers.computed_names([sets_two, reads_only]) == {"forge_list", "layout"}


ERRORS: dict[str, tuple[Any, str]] = {
    "nothing": ({"project_name": "Acme"}, ""),
    "question-computed-by-a-hook": ({"service_list": []}, ""),  # its own validator answers
    "global": ({"project_name": "Acme", "template_changelog": "x"}, "template_changelog: internal; drop it"),
    "hook-value": ({"forge_list": ["x"]}, "forge_list: internal; drop it"),
    "first-of-two": ({"range": 1, "forge_list": 2}, "forge_list: internal; drop it"),
    "not-a-mapping": ("x", ""),
}


@pytest.mark.parametrize(("data", "message"), ERRORS.values(), ids=ERRORS.keys())
def test_internal_name_error(data: Any, message: str) -> None:
    internal = {"template_changelog", "range", "forge_list", "service_list"}
    assert answers.internal_name_error(data, internal, answers.questions()) == message


def test_internal_name_error_shortens_a_long_name() -> None:
    name = "a_very_long_internal_name_" * 3
    message = answers.internal_name_error({name: 1}, {name})
    assert message.endswith("…: internal; drop it") and len(prompt_line("data", message)) == COLUMNS


def test_hook_puts_the_globals_back() -> None:
    env = environment()
    env.globals["template_changelog"] = lambda: "the changelog"
    text = env.from_string("{{ template_changelog() }} {{ reserved_service_names | length }}").render(
        _copier_conf={}, template_changelog="x", reserved_service_names="xy")
    assert text == f"the changelog {len(services.RESERVED)}"


def test_data_question_refuses_through_the_filter() -> None:
    config = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    question = config[answers.DATA_QUESTION]
    env = environment()
    refused = {"_copier_conf": {"data": {"range": 3}}}
    fine = {"_copier_conf": {"data": {"project_name": "x"}}}
    assert env.from_string(question["when"]).render(refused) == "True"
    assert env.from_string(question["when"]).render(fine) == "False"
    assert env.from_string(question["validator"]).render(refused) == "range: internal; drop it"
    assert env.from_string(question["validator"]).render(fine) == ""


# ------------------------------------------------ every message on one line

# (question, answers) for every refusal of the questions other than services: the
# validators of copier.yml rendered as Copier renders them.
REFUSALS: list[tuple[str, dict[str, Any]]] = [
    ("project_name", {"project_name": ""}),
    ("project_name", {"project_name": 'a"b'}),
    ("project_name", {"project_name": "a\nb"}),
    ("project_name", {"project_name": "a\tb"}),
    ("project_name", {"project_name": "a\u200bb"}),
    ("project_name", {"project_name": "a\u2028b"}),
    ("project_name", {"project_name": "a\ud800b"}),
    ("project_name", {"project_name": "a" * 81}),
    ("project_slug", {"project_slug": "Acme"}),
    ("project_slug", {"project_slug": "a" * 31}),
    *[("project_slug", {"project_slug": word}) for word in YAML_WORDS_11],
    ("description", {"description": "a\u200bb"}),
    ("description", {"description": "a\x85b"}),
    *[("registry", {"registry": registry}) for registry, message in REGISTRIES.values() if message],
    ("components", {"components": ["postgres"], "services": "api beat:scheduler", "layout": "multi"}),
    ("components", {"components": ["llm"], "services": "api", "layout": "multi"}),
    ("deploy_targets", {"deploy_targets": ["kubernetes"]}),
    ("service_list", {"_copier_conf": {"data": {"service_list": []}}}),
    ("data", {"_copier_conf": {"data": {"stack_test_dependencies": 1}}}),
    ("data", {"_copier_conf": {"data": {"a" * 60: 1, "range": 2}}}),
]


def validator_message(question: str, context: dict[str, Any]) -> str:
    config = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    env = environment()
    env.globals["a" * 60] = None  # an internal name longer than any line
    return env.from_string(config[question]["validator"]).render(
        {"_copier_conf": {"data": {}}, **context}).strip()


@pytest.mark.parametrize(("question", "context"), REFUSALS, ids=lambda v: repr(v)[:40])
def test_every_refusal_fits_one_prompt_line(question: str, context: dict[str, Any]) -> None:
    message = validator_message(question, context)
    assert message, f"{question}: {context} is not refused"
    line = prompt_line(question, message)
    assert len(line) <= COLUMNS and "\n" not in line, f"{len(line)} columns: {line}"


def test_refusals_cover_every_validated_question() -> None:
    config = yaml.safe_load((TEMPLATE / "copier.yml").read_text())
    validated = {name for name, spec in config.items()
                 if isinstance(spec, dict) and "validator" in spec and name != "services"}
    assert validated == {question for question, _ in REFUSALS}
