"""The template's Jinja side: the extensions copier.yml loads (``_jinja_extensions``)
and nothing else. What they expose is pure code beside this file: the services
parser (hooks/services.py), the other answers' checks and escapes
(hooks/answers.py), the file tables (hooks/files.py) and the stack's model
(hooks/model.py), none of which imports Jinja or Copier.

Copier renders two versions of the template in one process when it updates a
project (the project's old version, then the new one, each from a clone of its
own), and loads this file by path under a name every version shares
(copier-template-extensions: ``copier_template_extensions.jinja``). A plain
``import services`` would give the second version the first's rules, so this
module imports its siblings as the parts of a package named after its own
folder (:func:`sibling`): each clone's extensions see that clone's modules, which
import one another relatively. With hooks/ on sys.path (the migrations, the
tests) the same modules import one another by their plain names.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import zlib
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

from copier_template_extensions import ContextHook
from jinja2 import FileSystemBytecodeCache, pass_environment
from jinja2.ext import Extension

HOOKS = Path(__file__).resolve().parent


def sibling(stem: str) -> ModuleType:
    """hooks/<stem>.py of this file's folder, as a part of the package of that folder:
    one package per folder (a checksum of its path in the name), so two clones of the
    template in one process never share a module."""
    package = f"_template_hooks_{zlib.crc32(str(HOOKS).encode()):08x}"
    if package not in sys.modules:
        spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
        spec.submodule_search_locations = [str(HOOKS)]
        # The import system finds a package's parts through its entry in sys.modules.
        sys.modules[package] = importlib.util.module_from_spec(spec)
    return importlib.import_module(f"{package}.{stem}")


model = sibling("model")
services = sibling("services")
answers = sibling("answers")
files = sibling("files")


# ---------------------------------------------------------------- services

class ServicesExtension(Extension):
    """The filters copier.yml validates and computes answers with, and the help's reserved names."""

    def __init__(self, environment):  # noqa: ANN001
        super().__init__(environment)
        environment.filters["services_error"] = services.services_error
        environment.filters["parse_services"] = services.parse_services
        environment.filters["text_error"] = answers.text_error
        environment.filters["project_name_error"] = answers.project_name_error
        environment.filters["usable_name"] = answers.usable_name
        environment.filters["slug_error"] = answers.slug_error
        environment.filters["registry_error"] = answers.registry_error
        environment.filters["slugify_name"] = answers.slugify
        environment.globals["reserved_service_names"] = sorted(services.RESERVED)
        # The stack's members besides the services (hooks/model.py): name, what, ports.
        environment.filters["stack_members"] = model.stack_members


class ServiceListHook(ContextHook):
    """Every render sees service_list computed from services and layout (never supplied)."""

    def hook(self, context: dict) -> None:
        services.computed_service_list(context)


# ----------------------------------------------------------------- answers

@pass_environment
def supplied_internal_error(environment, data: object) -> str:  # noqa: ANN001
    """The `data` question's check: a --data key that hides a name the template uses."""
    return answers.internal_name_error(data, answers.internal_names(environment), answers.questions())


class AnswersHook(ContextHook):
    """The escape filters, the `data` question's check, and the template's globals
    put back in every render whatever an answer of the same name said."""

    def __init__(self, environment):  # noqa: ANN001
        super().__init__(environment)
        environment.filters["jsx_text"] = answers.jsx_text
        environment.filters["html_text"] = answers.html_text
        environment.filters["markdown_text"] = answers.markdown_text
        environment.filters["internal_name_error"] = supplied_internal_error

    def hook(self, context: dict) -> None:
        for name, value in self.environment.globals.items():
            if name in context and context[name] is not value:
                context[name] = value


# ------------------------------------------------------------------- files

def remember_compiled_strings(environment) -> None:  # noqa: ANN001 - a jinja2.Environment
    """Compile each source string once per environment.

    Copier renders every part of every path with ``from_string``, which
    compiles it anew, and compiles the answers file's name once more per part
    (Copier 9.19 ``answers_relpath``): thousands of compiles of the same few
    dozen strings for a project (``bench/render.py --profile``). The compiled
    code depends only on the source and the environment, so it is reused;
    rendering still happens for every path with its own context, and the
    extensions' preprocess step still runs. Templates loaded from files keep
    Jinja's own cache.
    """
    compile_source = environment.compile
    compiled: dict[tuple, object] = {}

    def compile_once(source, name=None, filename=None, raw=False, defer_init=False):  # noqa: ANN001, ANN202, FBT002
        if not isinstance(source, str) or name is not None:
            return compile_source(source, name, filename, raw, defer_init)
        key = (source, filename, raw, defer_init)
        if key not in compiled:
            compiled[key] = compile_source(source, name, filename, raw, defer_init)
        else:
            # What compiling does before parsing, for the extensions that keep
            # state per template: Copier's yield tag resets its own here.
            environment.preprocess(source, name, filename)
        return compiled[key]

    environment.compile = compile_once


CHANGELOG = HOOKS.parent / "CHANGELOG.md"


def template_changelog() -> str:
    """The template's CHANGELOG.md as text (never rendered: it may quote Jinja)."""
    return CHANGELOG.read_text(encoding="utf-8")


def share_compiled_templates(environment) -> None:  # noqa: ANN001 - a jinja2.Environment
    """Keep the compiled templates between renders (Jinja's bytecode cache).

    Compiling the template files and partials is most of what a small project's
    render costs above Copier's own work (``bench/render.py --profile``), and every
    ``copier copy``, update (which renders two versions) and add-service compiled
    them anew: Copier renders from a fresh temporary clone each time, and Jinja's
    cache key holds the file's path. Here the key is the template's name alone,
    in Jinja's private per-user folder, with the Copier and Jinja versions in the
    file name (they decide what the compiled code looks like); Jinja still
    compares the source's checksum before it uses a cached template, so a changed
    template is compiled again. Without a usable folder nothing is cached.
    """
    if environment.bytecode_cache is not None:
        return

    class ByName(FileSystemBytecodeCache):
        def get_cache_key(self, name: str, filename: str | None = None) -> str:
            # What else decides the compiled code: how the source is read and which
            # extensions parse it (read at render time, when every extension is loaded).
            env = environment
            options = (env.block_start_string, env.block_end_string, env.variable_start_string,
                       env.variable_end_string, env.comment_start_string, env.comment_end_string,
                       env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks,
                       env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
                       env.optimized, repr(env.autoescape), type(env).__name__, sorted(env.extensions))
            return super().get_cache_key(f"{name}|{options!r}")

    try:
        tag = f"copier{version('copier')}-jinja{version('jinja2')}"
        environment.bytecode_cache = ByName(pattern=f"__copier_docker_services_{tag}_%s.cache")
    except (OSError, RuntimeError, ValueError):  # no private folder to be had: compile as before
        return


class FilesHook(ContextHook):
    """The `_exclude` filters, the template's changelog, forge_list (computed, never
    supplied) in every render, and the compiled templates kept between renders."""

    def __init__(self, environment):  # noqa: ANN001
        super().__init__(environment)
        # copier.yml's _exclude today: the answers as a mapping, so a later
        # question needs no new filter name.
        environment.filters["excluded_for"] = files.excluded_for
        # The names older versions of copier.yml's _exclude call (see there): Copier
        # renders the newest _exclude in the environment of the project's version.
        environment.filters["excluded_paths"] = files.excluded_paths
        # ... with the components,
        environment.filters["project_excluded_paths"] = files.excluded_paths
        # ... and with the deploy targets,
        environment.filters["deploy_excluded_paths"] = files.excluded_paths
        # ... and as few patterns as mean the same.
        environment.filters["exclude_patterns"] = files.exclude_patterns
        environment.filters["migrating"] = files.migrating
        environment.globals["template_changelog"] = template_changelog
        share_compiled_templates(environment)
        remember_compiled_strings(environment)

    def hook(self, context: dict) -> None:
        if "ci_provider" in context:
            try:
                context["forge_list"] = files.forges(context["ci_provider"])
            except ValueError:  # refused by the question's choices
                context.pop("forge_list", None)
