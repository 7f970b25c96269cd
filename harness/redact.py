"""Secrets kept out of everything a run writes: results, predictions, caches, reports, history, messages.

A secret is the value of an environment variable a config names (`api_key_env: NAME`, `env: [NAME, ...]`:
any adapter option called `env` or ending in `_env` names variables), of any variable whose name says it
holds one (`*KEY*`, `*TOKEN*`, `*SECRET*`, `*PASSWORD*`, …, in any case), and the user name and password in a URL
(`http://user:KEY@host/v1`). A model that echoes one rarely echoes it verbatim, so besides exact copies the
redactor finds it in any letter case, URL-encoded, hex-encoded, base64-encoded at any alignment inside a
longer encoded text, and cut short (any prefix of at least MIN_PREFIX characters).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

MARK = "[secret removed]"
MIN_PREFIX = 8  # a cut-short copy this long is still a copy; shorter prefixes would match ordinary text
SECRET_NAME = re.compile(r"key|token|secret|passw|pwd|credential|auth", re.IGNORECASE)
TOKEN_LIKE = re.compile(r"[^\s/\\]{8,}")  # a value with spaces or a path is not a key; a short one is not either


VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def looks_like_variable_name(value: str) -> bool:
    """A plausible environment variable name, not a key typed where the name belongs (`sk-...`, a long run of
    mixed letters and digits): an error about such a value must not echo it."""
    return bool(VARIABLE_NAME.fullmatch(value)) and sum(c.isdigit() for c in value) < 6


def url_without_credentials(url: str) -> str:
    """`url` with its user name and password removed: http://user:KEY@host/v1 -> http://host/v1."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.netloc or "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def url_credentials(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    if "@" not in parts.netloc:
        return []
    userinfo = parts.netloc.rsplit("@", 1)[0]
    user, _, password = userinfo.partition(":")
    return [value for value in (password, user if len(user) >= MIN_PREFIX else "") if value]


def strings_in(value: object) -> Iterator[str]:
    """Every string inside a JSON-like value (option values are strings, lists and mappings of them)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings_in(item)


def named_variables(settings: Mapping[str, object]) -> list[str]:
    """The environment variables an adapter's options name: options called `env` or ending in `_env`."""
    names: list[str] = []
    for option, value in settings.items():
        if option == "env" or option.endswith("_env"):
            names += [v for v in strings_in(value) if v]
    return names


def secrets_of(settings: Mapping[str, object], environ: Mapping[str, str] | None = None) -> list[str]:
    """The secret values one adapter's options lead to: the variables they name, and credentials in URLs."""
    environ = os.environ if environ is None else environ
    found = [environ[name] for name in named_variables(settings) if environ.get(name)]
    for text in strings_in(dict(settings)):
        found += url_credentials(text)
    return found


def environment_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of variables whose name says they hold a secret (API keys, tokens, passwords)."""
    environ = os.environ if environ is None else environ
    return [value for name, value in environ.items() if SECRET_NAME.search(name) and TOKEN_LIKE.fullmatch(value)]


def without_url_credentials(value: object) -> object:
    """A JSON-like value with the credentials of every URL string in it removed (for the run manifest)."""
    if isinstance(value, str):
        return url_without_credentials(value)
    if isinstance(value, Mapping):
        return {key: without_url_credentials(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_url_credentials(item) for item in value]
    return value


def _base64_cores(secret: bytes) -> set[str]:
    """The base64 characters that depend only on the secret, for each of the three alignments it can have
    inside a longer encoded text (standard and URL-safe alphabets)."""
    cores = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret).decode("ascii")
        first, end = -(-8 * offset // 6), 8 * (offset + len(secret)) // 6  # whole 6-bit groups inside the secret
        core = encoded[first:end]
        if len(core) >= MIN_PREFIX:
            cores |= {core, core.translate(str.maketrans("+/", "-_"))}
    return cores


class Redactor:
    """Replaces every copy of the secrets in a text with MARK (see the module docstring for what a copy is)."""

    def __init__(self, secrets: Iterable[str]):
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        long = [s for s in self.secrets if len(s) >= MIN_PREFIX]
        encoded_forms = {form for s in long for form in (s, quote(s, safe=""), quote(s), quote_plus(s),
                                                         s.encode("utf-8").hex())}
        self._any_case = _alternation(encoded_forms, re.IGNORECASE)
        self._exact = _alternation({s for s in self.secrets if len(s) < MIN_PREFIX}
                                   | {core for s in long for core in _base64_cores(s.encode("utf-8"))}, 0)
        self._prefixes = [(s, re.compile(re.escape(s[:MIN_PREFIX]), re.IGNORECASE)) for s in long]

    def __bool__(self) -> bool:
        return bool(self.secrets)

    def __call__(self, text: str | None) -> str | None:
        if not text or not self.secrets:
            return text
        spans = [m.span() for pattern in (self._any_case, self._exact) if pattern for m in pattern.finditer(text)]
        for secret, pattern in self._prefixes:
            spans += [(m.start(), _copy_end(text, m.end(), secret)) for m in pattern.finditer(text)]
        if not spans:
            return text
        out, cursor = [], 0
        for start, end in _merged(spans):
            out += [text[cursor:start], MARK]
            cursor = end
        out.append(text[cursor:])
        return "".join(out)

    def value(self, obj: object) -> object:
        """Every string inside a JSON-like value, redacted."""
        if isinstance(obj, str):
            return self(obj)
        if isinstance(obj, Mapping):
            return {key: self.value(item) for key, item in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.value(item) for item in obj]
        return obj


def _alternation(forms: set[str], flags: int) -> re.Pattern | None:
    if not forms:
        return None
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)), flags)


def _copy_end(text: str, position: int, secret: str) -> int:
    """Where a copy of `secret` that starts MIN_PREFIX characters before `position` ends (any letter case)."""
    index = MIN_PREFIX
    while position < len(text) and index < len(secret) and text[position].lower() == secret[index].lower():
        position, index = position + 1, index + 1
    return position


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
