"""The secrets `up` generates for its embedded servers, kept in its data dir for it and for the tools.

`<DIR>/credentials.json` holds every password (one NATS user per service and an admin; the PostgreSQL
superuser and one role per service database). For tools and other teams' local tests, `up` also writes
`<DIR>/nats-admin.url` and `<DIR>/postgres-admin.url`: one URL a line, with the admin's credentials.
The data dir is 0700 and each of these files 0600, created so from the first byte.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from pydantic import SecretStr

from passerelle.embedded.postgres import SUPERUSER
from passerelle.settings import PlatformSettings

CREDENTIALS_FILE = "credentials.json"
NATS_ADMIN_URL_FILE = "nats-admin.url"
POSTGRES_ADMIN_URL_FILE = "postgres-admin.url"


def private_directory(path: Path) -> Path:
    """Create `path` (and its parents) if needed, and make it reachable by this user only (0700; a data
    dir made before, or under a loose umask, is closed too). One exception is kept: traversal by a group
    the directory was handed to, which is how the embedded PostgreSQL's own system user reaches its
    cluster inside when we are root (see embedded_postgres)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    handed_over = info.st_gid != os.getegid()
    path.chmod(0o700 | (info.st_mode & stat.S_IXGRP if handed_over else 0))
    return path


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read: a temporary file opened 0600, then renamed over `path`
    (a reader sees the old file or the whole new one, and the secret is never readable by others)."""
    temporary = _written_private(path, text)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _written_private(path: Path, text: str) -> Path:
    """A new temporary file next to `path`, 0600, holding `text` on disk; removed if writing fails."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # the mode given to open is reduced by the umask, never widened
        with os.fdopen(descriptor, "w", closefd=False) as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    finally:
        os.close(descriptor)
    return temporary


def read_or_create_secret(path: Path, new: Callable[[], str]) -> str:
    """The secret in `path`, created 0600 by the first call (never readable by others, even briefly).

    Callers racing to create it (`up` and `passerelle token`) all end with the one that is in the file:
    it is linked into place, which fails when the file exists, and always read back."""
    if not path.exists():
        private_directory(path.parent)
        temporary = _written_private(path, new())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another caller created it first: theirs is the secret
        finally:
            temporary.unlink()
    return path.read_text().strip()


def new_password() -> str:
    # Starts with a letter: nats-server parses a `$VARIABLE`'s value, and digits would make it a number.
    return "p" + secrets.token_hex(24)


@dataclass(frozen=True)
class LocalCredentials:
    """Passwords by user name, for the embedded nats-server and for the embedded PostgreSQL."""

    nats: dict[str, str]
    postgres: dict[str, str]

    @classmethod
    def load_or_create(
        cls, data_dir: Path, nats_users: Iterable[str], postgres_roles: Iterable[str]
    ) -> LocalCredentials:
        """The passwords kept in the data dir; any user missing (a data dir made before credentials,
        or a service installed since) gets a new one, saved before it is used."""
        path = data_dir / CREDENTIALS_FILE
        kept: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.exists() else {}
        nats = {**kept.get("nats", {})}
        postgres = {**kept.get("postgres", {})}
        missing_nats = [user for user in nats_users if user not in nats]
        missing_postgres = [role for role in [SUPERUSER, *postgres_roles] if role not in postgres]
        if missing_nats or missing_postgres or not path.exists():
            nats.update({user: new_password() for user in missing_nats})
            postgres.update({role: new_password() for role in missing_postgres})
            private_directory(data_dir)
            write_private(path, json.dumps({"nats": nats, "postgres": postgres}, indent=2) + "\n")
        return cls(nats, postgres)


def with_userinfo(url: str, userinfo: str | None) -> str:
    """A NATS URL with its `user:password@` part replaced (or removed, for None); the host and port
    are kept as written (an IPv6 address keeps its brackets, a missing port stays missing)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{userinfo}@{host}" if userinfo else host).geturl()


def user_url(url: str, user: str, password: str) -> str:
    """`url` with `user:password@` in it (quoted, so that any character is safe)."""
    return with_userinfo(url, f"{quote(user, safe='')}:{quote(password, safe='')}")


def without_secret(url: str) -> str:
    """A URL fit to print: the password, if any, hidden."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return with_userinfo(url, f"{parts.netloc.partition(':')[0]}:***")


def has_nats_credentials(settings: PlatformSettings) -> bool:
    return any(
        (
            settings.nats_creds_file,
            settings.nats_nkey_seed_file,
            settings.nats_token,
            settings.nats_user and settings.nats_password,
        )
    )


def with_local_nats_admin(settings: PlatformSettings, data_dir: Path) -> PlatformSettings:
    """For tools: without NATS credentials in the environment, the admin of the `up` of `data_dir`
    (its user and password, and its URL unless PASSERELLE_NATS_URL says where NATS is)."""
    path = data_dir / NATS_ADMIN_URL_FILE
    if has_nats_credentials(settings) or not path.exists():
        return settings
    parts = urlsplit(path.read_text().strip())
    update: dict[str, object] = {
        "nats_user": unquote(parts.username or ""),
        "nats_password": SecretStr(unquote(parts.password or "")),
    }
    if "nats_url" not in settings.model_fields_set:
        update["nats_url"] = with_userinfo(path.read_text().strip(), None)
    return settings.model_copy(update=update)
