"""A static check that shell code runs on bash 3.2 (macOS) and on BSD userlands.

macOS's /bin/bash is 3.2, and generated Makefiles set SHELL to bash, so every
generated script and Makefile recipe must avoid what bash 4+ and GNU tools
added. :func:`check_script` and :func:`check_makefile` return findings
(file:line, rule, text); tests/run/test_portability.py runs them over every
generated project.

The checks work on lines, with comments and quoted text removed where a rule
could match prose; they are a lint, not a shell parser: a construct hidden
behind eval or split over lines is not seen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NAME = r"[A-Za-z_][A-Za-z0-9_]*"


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.text.strip()}"


# Bash 4+ syntax, found anywhere in code (comments removed).
BASH4: list[tuple[str, re.Pattern[str]]] = [
    ("case modification ${x^^} ${x,,} (bash 4)", re.compile(rf"\$\{{{NAME}(\[[^]]*\])?(\^|,)")),
    ("associative array (bash 4)", re.compile(r"\b(declare|local|typeset|readonly)\s+-[a-zA-Z]*A")),
    ("nameref (bash 4.3)", re.compile(r"\b(declare|local|typeset)\s+-[a-zA-Z]*n")),
    ("declare -g (bash 4.2)", re.compile(r"\b(declare|local|typeset)\s+-[a-zA-Z]*g")),
    ("mapfile/readarray (bash 4)", re.compile(r"(^|[\s;&|(])(mapfile|readarray)\b")),
    ("&>> (bash 4)", re.compile(r"&>>")),
    ("|& (bash 4)", re.compile(r"\|&")),
    ("${x@Q} transformation (bash 4.4)", re.compile(rf"\$\{{{NAME}(\[[^]]*\])?@[A-Za-z]\}}")),
    ("negative array subscript (bash 4.3)", re.compile(rf"\$\{{{NAME}\[\s*-\s*[0-9]")),
    ("coproc (bash 4)", re.compile(r"(^|[\s;&|(])coproc\b")),
    ("[[ -v ]] (bash 4.2)", re.compile(r"\[\[\s+(!\s+)?-v\s")),
    ("wait -n (bash 4.3)", re.compile(r"(^|[\s;&|(])wait\s+-n\b")),
    ("shopt globstar/lastpipe (bash 4)", re.compile(r"\bshopt\s+-s\s+(globstar|lastpipe|autocd)")),
    (";& or ;;& in case (bash 4)", re.compile(r";;?&")),
    ("$BASHPID/$EPOCHSECONDS (bash 4/5)", re.compile(r"\$\{?(BASHPID|EPOCHSECONDS|EPOCHREALTIME)\b")),
    ("printf %(...)T (bash 4.2)", re.compile(r"%\([^)]*\)T")),
]

# GNU-only options: command -> (pattern over its arguments, what to say).
GNU_OPTIONS: dict[str, tuple[re.Pattern[str], str]] = {
    "sed": (re.compile(r"(^|\s)(-[a-zA-Z]*[irz][a-zA-Z]*|--[a-z-]+)\b"),
            "sed -i/-r/-z or long options (BSD sed differs: write a temp file and mv; use -E)"),
    "readlink": (re.compile(r"(^|\s)(-[a-zA-Z]*[fem][a-zA-Z]*|--canonicalize\S*)"),
                 "readlink -f (GNU only: cd \"$(dirname ...)\" && pwd)"),
    "date": (re.compile(r"(^|\s)(-[a-zA-Z]*[dI][a-zA-Z]*|--date\S*|--iso\S*)"), "date -d/-I (GNU only)"),
    "grep": (re.compile(r"(^|\s)(-[a-zA-Z]*P[a-zA-Z]*|--perl-regexp)"), "grep -P (GNU only: use -E)"),
    "stat": (re.compile(r"(^|\s)(-[a-zA-Z]*c[a-zA-Z]*|--format\S*|--printf\S*)"), "stat -c (GNU only; BSD: -f)"),
    "find": (re.compile(r"(^|\s)(-printf|-regextype)\b"), "find -printf/-regextype (GNU only)"),
    "xargs": (re.compile(r"(^|\s)(-[a-zA-Z]*[rda][a-zA-Z]*|--no-run-if-empty|--delimiter\S*)"),
              "xargs -r/-d/-a (GNU only)"),
    "sort": (re.compile(r"(^|\s)(-[a-zA-Z]*V[a-zA-Z]*|--version-sort)"), "sort -V (GNU only)"),
    "head": (re.compile(r"(^|\s)-[nc]\s*-[0-9]"), "head with a negative count (GNU only)"),
    "cp": (re.compile(r"(^|\s)(-t|--target-directory\S*|--parents)\b"), "cp -t/--parents (GNU only)"),
    "mv": (re.compile(r"(^|\s)(-t|--target-directory\S*)\b"), "mv -t (GNU only)"),
    "du": (re.compile(r"(^|\s)(-[a-zA-Z]*b[a-zA-Z]*|--apparent-size)\b"), "du -b (GNU only)"),
    "base64": (re.compile(r"(^|\s)(-w|--wrap\S*)"), "base64 -w (GNU only)"),
    "wc": (re.compile(r"(^|\s)-[a-zA-Z]*L"), "wc -L (GNU only)"),
}
# Commands macOS does not ship.
MISSING_ON_MACOS = ("timeout", "tac", "nproc", "sha256sum", "sha1sum", "md5sum", "getopt")
GAWK_ONLY = re.compile(r"\b(gensub|asorti?|strftime|systime|patsplit)\s*\(")
COMMAND_START = r"(?:^|[\s;&|(`]|\$\()"


def strip_comment(line: str) -> str:
    """The line without a trailing # comment (a # that starts a word, outside quotes)."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"':
                continue
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1] in " \t;"):
            return line[:i]
    return line


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, code) with comments dropped and backslash continuations joined."""
    out: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        code = strip_comment(raw)
        if code.rstrip().endswith("\\"):
            pending += code.rstrip()[:-1] + " "
            continue
        out.append((start, pending + code))
        pending = ""
    if pending:
        out.append((start, pending))
    return out


def command_arguments(code: str, command: str) -> list[str]:
    """The argument text after each use of command, up to the next ; | & ) or line end."""
    pattern = re.compile(rf"{COMMAND_START}{re.escape(command)}((?:\s+[^;|&)\n]*)?)(?=$|[;|&)\n])")
    return [m.group(1) for m in pattern.finditer(code)]


def syntax_findings(path: str, lines: list[tuple[int, str]]) -> list[Finding]:
    found: list[Finding] = []
    for number, code in lines:
        for rule, pattern in BASH4:
            if pattern.search(code):
                found.append(Finding(path, number, rule, code))
        for command, (pattern, rule) in GNU_OPTIONS.items():
            if any(pattern.search(args) for args in command_arguments(code, command)):
                found.append(Finding(path, number, rule, code))
        for command in MISSING_ON_MACOS:
            if re.search(rf"{COMMAND_START}{command}(?=\s|$|[;|&)])", code):
                found.append(Finding(path, number, f"{command} (not on macOS)", code))
        if GAWK_ONLY.search(code):
            found.append(Finding(path, number, "gawk-only awk function", code))
    return found


# ----------------------------------------------------- empty arrays, set -u
SAFE_EXPANSIONS = [
    # ${a[@]+"${a[@]}"}: nothing when a is empty, every element otherwise.
    re.compile(rf"\$\{{({NAME})\[[@*]\]:?\+\"?\$\{{\1\[[@*]\]\}}\"?\}}"),
    # ${a[@]-default} / ${a[*]:-default}
    re.compile(rf"\$\{{{NAME}\[[@*]\]:?[-+][^}}]*\}}"),
]
EXPANSION = re.compile(rf"\$\{{!?({NAME})\[[@*]\]\}}")
ASSIGNMENT = re.compile(rf"(?:^|[\s;&(])(?:(?:local|declare|typeset|readonly)\s+(?:-\w+\s+)*)?({NAME})=\((.*?)\)")
DECLARED = re.compile(rf"\b(?:local|declare|typeset)\s+-[a-zA-Z]*a[a-zA-Z]*\s+((?:{NAME}\s*)+)(?:$|[;&|])")
READ_ARRAY = re.compile(rf"\bread\b[^;|&]*\s-[a-zA-Z]*a\s*({NAME})")
SURE_WORD = re.compile(r"""^(?!\$)(?!"\$@"$)(?!"\$\{@\}"$)(?!"\$\{\w+\[@\]\}"$)\S""")


def may_be_empty_arrays(lines: list[tuple[int, str]]) -> set[str]:
    """Arrays that some assignment can leave empty: (), read -a, or only expansions that may split to nothing."""
    empty: set[str] = set()
    for _, code in lines:
        for match in ASSIGNMENT.finditer(code):
            words = match.group(2).split()
            if not any(SURE_WORD.match(word) for word in words):
                empty.add(match.group(1))
        for match in DECLARED.finditer(code):
            empty.update(name for name in match.group(1).split() if "=" not in name)
        for match in READ_ARRAY.finditer(code):
            empty.add(match.group(1))
    return empty


def sets_nounset(text: str) -> bool:
    return bool(re.search(r"^\s*set\s+(-[a-zA-Z]*u|-o\s+nounset|.*\s-[a-zA-Z]*u)", text, re.MULTILINE))


def array_findings(path: str, lines: list[tuple[int, str]]) -> list[Finding]:
    empty = may_be_empty_arrays(lines)
    found: list[Finding] = []
    for number, code in lines:
        rest = code
        for safe in SAFE_EXPANSIONS:
            rest = safe.sub("SAFE", rest)
        for match in EXPANSION.finditer(rest):
            name = match.group(1)
            if name in empty:
                found.append(Finding(
                    path, number,
                    f"{match.group(0)} of an array that can be empty under set -u (bash < 4.4 calls it "
                    f'unbound); write ${{{name}[@]+"${{{name}[@]}}"}}',
                    code,
                ))
    return found


def check_script(path: str, text: str) -> list[Finding]:
    """Findings for one shell script. A file without a shebang is a library: it runs under its callers' set -u."""
    lines = logical_lines(text)
    found = syntax_findings(path, lines)
    if sets_nounset(text) or not text.startswith("#!"):
        found += array_findings(path, lines)
    return sorted(found, key=lambda f: f.line)


# ------------------------------------------------------------- Makefiles
MAKE_REFERENCE = re.compile(r"(?<!\$)\$(\([^()$]*\)|\{[^{}$]*\}|[@<^?*%+|])")


def recipe_lines(text: str) -> list[tuple[int, str]]:
    """(line number, shell code) of every recipe line, continuations joined, make references replaced."""
    out: list[tuple[int, str]] = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            if not raw.startswith("\t"):
                continue
            start = number
            raw = raw[1:]
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        out.append((start, to_shell(pending + raw)))
        pending = ""
    return out


def to_shell(recipe: str) -> str:
    """A recipe as the shell sees it: make references become a word, $$ becomes $, @-+ prefixes go."""
    previous = None
    while previous != recipe:  # innermost references first: $(call f,$(X))
        previous, recipe = recipe, MAKE_REFERENCE.sub("MAKEVAR", recipe)
    return recipe.replace("$$", "$").lstrip("@-+ ")


def check_makefile(path: str, text: str) -> list[Finding]:
    """Findings for the recipes of one Makefile (they run in bash: SHELL := bash)."""
    lines = [(number, strip_comment(code)) for number, code in recipe_lines(text)]
    found = syntax_findings(path, lines)
    if re.search(r"^\.SHELLFLAGS\s*[:?]?=.*-[a-zA-Z]*u", text, re.MULTILINE):
        found += array_findings(path, lines)
    return sorted(found, key=lambda f: f.line)


def shell_files(project: Path) -> tuple[list[Path], list[Path]]:
    """(shell scripts, Makefiles) of a generated project, its dependencies' folders left out."""
    skip = {".git", "node_modules", ".venv"}
    files = [p for p in sorted(project.rglob("*")) if p.is_file() and not skip & set(p.relative_to(project).parts)]
    scripts = [p for p in files if p.suffix == ".sh" or (p.suffix == "" and p.read_bytes()[:32].startswith(
        (b"#!/usr/bin/env bash", b"#!/bin/bash", b"#!/bin/sh", b"#!/usr/bin/env sh")))]
    makefiles = [p for p in files if p.name in ("Makefile", "GNUmakefile") or p.suffix == ".mk"]
    return scripts, makefiles


def check_project(project: Path) -> list[Finding]:
    scripts, makefiles = shell_files(project)
    found: list[Finding] = []
    for path in scripts:
        found += check_script(path.relative_to(project).as_posix(), path.read_text())
    for path in makefiles:
        found += check_makefile(path.relative_to(project).as_posix(), path.read_text())
    return found
