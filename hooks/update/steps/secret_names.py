"""Settings that read every NAME_FILE as a secret read only the names in SECRETS (cbb0ed9).

The settings of dbd23d3..12d2f24 (rendered then, or merged into older settings
by an update to those versions) read EVERY NAME_FILE variable of the
environment as a secret file: a machine's TF_CLI_CONFIG_FILE or SSL_CERT_FILE
broke them. The text as those versions wrote it becomes the reading by name
of samples.SECRETS_BY_NAME, rendered with the new answers (its SECRETS are
this service's; a render of the new version where that commit is not in the
template's history); a copy the team changed is left as it is, with one line
on what to change.
"""

from __future__ import annotations

import re

from services import ServicesError, parse_services

from update.core import Context, MigrationError, say
from update.samples import SECRETS_BY_NAME, settings_file, template_side

# The change: cbb0ed9; this repair since 9901608 (projects updated in between lack it).
COMMIT = "9901608"
STAGE = "after"
# with_secrets / withSecrets as dbd23d3..12d2f24 wrote them, each with the line
# end and blank lines before it.
EVERY_FILE_PY = '''


def with_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """env with its secret files read (compose and swarm mount secrets as files).

    NAME_FILE=/run/secrets/x sets NAME to that file's contents, and a
    NAME_PASSWORD (read so or set) goes into NAME_URL: the prod stack gives
    DATABASE_URL without its password, and DATABASE_PASSWORD_FILE.
    """
    out = dict(env)
    for key, path in env.items():
        if key.endswith("_FILE") and path:
            out[key.removesuffix("_FILE")] = Path(path).read_text(encoding="utf-8").rstrip("\\r\\n")
    for key, password in list(out.items()):
        url_key = key.removesuffix("_PASSWORD") + "_URL"
        if key.endswith("_PASSWORD") and password and out.get(url_key):
            out[url_key] = with_password(out[url_key], password)
    return out
'''
EVERY_FILE_NODE = """
// The environment with its secret files read (compose and swarm mount secrets as files):
// NAME_FILE=/run/secrets/x sets NAME to that file's contents, and a NAME_PASSWORD (read so
// or set) goes into NAME_URL: the prod stack gives DATABASE_URL without its password, and
// DATABASE_PASSWORD_FILE.
export function withSecrets(env{typed}){typed} {{
  const out = {{ ...env }};
  for (const [key, path] of Object.entries(env)) {{
    if (key.endsWith('_FILE') && path) {{
      out[key.slice(0, -'_FILE'.length)] = readFileSync(path, 'utf8').replace(/[\\r\\n]+$/, '');
    }}
  }}
  for (const [key, password] of Object.entries(out)) {{
    const urlKey = `${{key.slice(0, -'_PASSWORD'.length)}}_URL`;
    const url = out[urlKey];
    if (key.endsWith('_PASSWORD') && password && url) {{
      const parsed = new URL(url);
      parsed.password = password; // percent-encoded by URL
      out[urlKey] = parsed.href;
    }}
  }}
  return out;
}}
"""
# {language: (that text, what shows a copy the team changed, the reading by name in a render)}
EVERY_FILE = {
    "python": (EVERY_FILE_PY, 'if key.endswith("_FILE")',
               re.compile(r"\n+(?:#[^\n]*\n)*SECRETS\b.*?\ndef with_secrets\(.*?\n    return out\n", re.S)),
    "node": (EVERY_FILE_NODE.format(typed=""), "if (key.endsWith('_FILE')",
             re.compile(r"\n+(?://[^\n]*\n)*export const SECRETS\b.*?\nexport function withSecrets\(.*?"
                        r"\n  return out;\n\}\n", re.S)),
}
EVERY_FILE["ts"] = (EVERY_FILE_NODE.format(typed=": NodeJS.ProcessEnv"), *EVERY_FILE["node"][1:])


def secrets_by_name(ctx: Context) -> list[str]:
    """Settings that read every NAME_FILE as a secret (dbd23d3..12d2f24) read the names in SECRETS.

    The text as those versions wrote it becomes the reading by name, from a
    render of SECRETS_BY_NAME with the new answers (its SECRETS are this
    service's); a copy the team changed is left as it is, with one line on
    what to change.
    """
    root, new = ctx.root, ctx.new
    try:
        services = parse_services(new.get("services", ""), new.get("layout", "multi"))
    except ServicesError:
        return []
    found: dict[str, str] = {}  # path: language
    for svc in services:
        pattern = settings_file(svc)
        if not pattern:
            continue
        path = ("" if svc["path"] == "." else f"{svc['path']}/") + pattern.format(package=svc["package"])
        language = svc["language"] if svc["language"] in EVERY_FILE else "node"
        try:
            text = (root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        old, changed, _ = EVERY_FILE[language]
        if text.count(old) == 1:
            found[path] = language
        elif changed in text:
            say(f"secrets: {path} reads every NAME_FILE variable of the environment as a secret (one "
                "that is none, such as TF_CLI_CONFIG_FILE, breaks it): read only the names of a SECRETS "
                "list, as the template's settings do now (docs/deploy.md, Secrets)")
    if not found:
        return []
    rewritten = []
    try:
        ours = template_side(ctx, SECRETS_BY_NAME)
    except MigrationError as error:
        say(f"secrets: could not render the template ({error}); make {', '.join(found)} read only "
            "the names of a SECRETS list, as the template's settings do now (docs/deploy.md, Secrets)")
        return []
    for path, language in found.items():
        old, _, by_name = EVERY_FILE[language]
        try:
            block = by_name.search((ours / path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            block = None
        if block is None:
            say(f"secrets: {path}: the template renders no SECRETS there; read only the secret "
                "files you mean (docs/deploy.md, Secrets)")
            continue
        user = root / path
        user.write_bytes(user.read_bytes().replace(old.encode(), block.group(0).encode(), 1))
        rewritten.append(path)
        say(f"secrets: {path}: reads only the names in SECRETS now, no longer every NAME_FILE "
            "variable of the environment (add your own secrets there)")
    return rewritten


def apply(ctx: Context) -> list[str]:
    return secrets_by_name(ctx)
