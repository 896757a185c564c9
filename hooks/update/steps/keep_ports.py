"""Host ports no longer follow the list position: a project keeps the ports it has.

Older templates gave the n-th service host port 8000+n; since cb3505e the
template takes a checksum of the service's name (hooks/services.py
default_port) or the service's `port=N` option. Before Copier renders, each
api whose port in the project's dev stack differs gets `port=N` in the
services answer; a node api whose UPSTREAM_URL the new rule changes is
reported. A no-op once the ports are pinned.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from gitutil import show as head_file
from services import ServicesError, default_port, parse, parse_services, upstream_of

from update.core import ANSWERS_FILE, Context, load_answers, say

# The change: cb3505e; this repair since c3d1de1 (projects updated in between lack it).
COMMIT = "c3d1de1"
STAGE = "before"
# `${API_PORT:-8359}`: a service's host port in the dev and prod stacks.
PORT_DEFAULT = re.compile(r"\$\{([A-Z][A-Z0-9_]*)_PORT:-([0-9]+)\}")
SERVICE_KEY = re.compile(r"^  ([a-z][a-z0-9-]*):\s*$")
UPSTREAM_URL = re.compile(r"^\s+UPSTREAM_URL: http://([a-z][a-z0-9-]*):")


def upstreams(stack: str) -> dict[str, str]:
    """The UPSTREAM_URL target of each service block of a stack file."""
    found, current = {}, ""
    for line in stack.splitlines():
        key = SERVICE_KEY.match(line)
        if key:
            current = key.group(1)
            continue
        url = UPSTREAM_URL.match(line)
        if url and current:
            found[current] = url.group(1)
    return found


def keep_ports(root: Path) -> list[str]:
    """Before the update: keep the host ports and say which upstreams the rules change.

    Older templates gave the n-th service port 8000+n; the template now takes
    a checksum of the name (hooks/services.py default_port). Each api whose
    port in this project's dev stack differs gets `port=N` in the services
    answer, which the new version reads. Returns the pinned words.
    """
    path = root / ANSWERS_FILE
    if not path.is_file():
        return []
    text = path.read_text()
    answers = load_answers(text)
    spec, layout = str(answers.get("services", "")), str(answers.get("layout", "multi"))
    try:
        services = parse(spec, layout)
    except ServicesError:
        return []  # the update's own validation says what is wrong
    stack = (head_file(root, "deploy/dev/docker-compose.yml")
             or head_file(root, "deploy/prod/docker-compose.yml") or b"").decode(errors="replace")
    have = {env: int(port) for env, port in PORT_DEFAULT.findall(stack)}
    words = [str(item["word"]) for item in parse_services(spec, layout)]

    def pin(every: bool) -> list[str]:
        return [f"{word}:port={have[s.package.upper()]}"
                if s.kind == "api" and s.dev_port is None and s.package.upper() in have
                and (every or have[s.package.upper()] != default_port(s.name)) else word
                for word, s in zip(words, services, strict=True)]

    out = pin(every=False)
    try:
        parse(" ".join(out), layout)
    except ServicesError:
        out = pin(every=True)  # an unpinned default meets a kept port: keep every api's
    pinned = [word for word in out if word not in words]
    for name, target in upstreams(stack).items():
        service = next((s for s in services if s.name == name), None)
        rule = upstream_of(service, services) if service else target
        if service and rule != target:
            say(f"'{name}' called '{target}' (UPSTREAM_URL), chosen by its place in the list; "
                f"the template now gives a node api the python api named 'api'"
                f"{'' if rule else ' (none here)'}: to keep '{target}', set UPSTREAM_URL in "
                "your compose override")
    if pinned:
        value = yaml.safe_dump({"services": " ".join(out)}, width=1 << 20).rstrip("\n")
        lines, kept, skipping = text.splitlines(keepends=True), [], False
        for line in lines:
            if line.startswith("services:"):
                kept.append(value + "\n")
                skipping = True
            elif skipping and line[:1] in (" ", "\t"):
                continue  # a folded long answer
            else:
                skipping = False
                kept.append(line)
        path.write_text("".join(kept))
        say("kept the host ports this project had (now in the services answer): " + " ".join(pinned))
    return pinned


def apply(ctx: Context) -> list[str]:
    return [ANSWERS_FILE] if keep_ports(ctx.root) else []
