"""Reading settings from environment variables, failing loudly on bad values.

Rule: a typo in deployment configuration must stop the process at start-up
with a message naming the variable, never silently fall back to a default.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse


class ConfigurationError(Exception):
    """A setting is present but unusable."""


def env_str(name: str, default: str | None = None) -> str | None:
    """A string setting; ``*_FILE`` variants (Docker secrets) are honoured."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ConfigurationError(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number") from exc
    if value < minimum:
        raise ConfigurationError(f"{name}={value} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigurationError(f"{name}={value} must be at most {maximum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


def parse_database_url(url: str) -> dict[str, object]:
    """``postgres://user:pass@host:port/name`` to Django DATABASES settings (PostgreSQL only)."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ConfigurationError(f"DATABASE_URL must be a postgres:// URL, not {parsed.scheme!r}: MAIS runs on PostgreSQL only")
    name = parsed.path.lstrip("/")
    if not name:
        raise ConfigurationError("DATABASE_URL names no database (postgres://user@host:5432/NAME)")
    # libpq's ?host=/path/to/socket-dir form, for a server listening on a Unix socket only.
    socket_dir = parse_qs(parsed.query).get("host", [""])[0]
    return {
        "NAME": unquote(name),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": socket_dir or parsed.hostname or "",
        "PORT": str(parsed.port or ""),
    }


def env_schedule(name: str, default: dict[str, int], *, minimum: int = 1) -> dict[str, int]:
    """A schedule such as ``standard=6,mappa=10``: every key of the default, each a whole number."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return dict(default)
    out = dict(default)
    for part in raw.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in default:
            raise ConfigurationError(f"{name}={raw!r}: each entry must be one of {', '.join(default)} followed by =<years>")
        try:
            out[key] = int(value)
        except ValueError as exc:
            raise ConfigurationError(f"{name}={raw!r}: {value.strip()!r} is not a whole number") from exc
        if out[key] < minimum:
            raise ConfigurationError(f"{name}={raw!r}: {key} must be at least {minimum}")
    return out
