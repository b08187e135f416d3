"""Typed configuration, read from a YAML file that uses Synapse's option names.

Every option, its default and its meaning are listed in docs/CONFIGURATION.md and in the
commented file `generate_config` writes. Relative paths in the file are relative to the
folder of the file, so a data folder can be moved as a whole.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from nacl.signing import SigningKey
from signedjson.key import generate_signing_key, read_signing_keys, write_signing_keys

from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS


class ConfigError(Exception):
    """The configuration is unusable; the message names the option."""


@dataclass(frozen=True)
class ListenerConfig:
    port: int
    bind_addresses: tuple[str, ...] = ("127.0.0.1",)
    type: str = "http"
    tls: bool = False
    #: Resource names served: "client", "federation", "keys", "media", "admin"...
    resources: frozenset[str] = frozenset({"client"})
    #: Trust X-Forwarded-For from a reverse proxy for the client's IP address.
    x_forwarded: bool = False


@dataclass(frozen=True)
class DatabaseConfig:
    engine: str  # "sqlite" or "postgres"
    #: SQLite: the database file.
    path: str = ""
    #: PostgreSQL: keyword arguments for asyncpg.connect (user, password, host, port,
    #: database, or dsn).
    connect_args: Mapping[str, Any] = field(default_factory=dict)
    cp_min: int = 5
    cp_max: int = 10


@dataclass(frozen=True)
class RateLimit:
    per_second: float
    burst_count: int


@dataclass(frozen=True)
class LoginRateLimits:
    address: RateLimit = RateLimit(0.003, 5)
    account: RateLimit = RateLimit(0.003, 5)
    failed_attempts: RateLimit = RateLimit(0.17, 3)


@dataclass(frozen=True)
class PasswordConfig:
    enabled: bool = True
    #: argon2id parameters. The defaults cost about as much CPU time as Synapse's
    #: default bcrypt_rounds of 12 (~0.2 s); benchmarks set both to the same cost.
    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 1


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ThumbnailSize:
    width: int
    height: int
    method: str  # "crop" or "scale"


#: Synapse's default `thumbnail_sizes`, which are also the spec's recommended sizes.
DEFAULT_THUMBNAIL_SIZES = (
    ThumbnailSize(32, 32, "crop"),
    ThumbnailSize(96, 96, "crop"),
    ThumbnailSize(320, 240, "scale"),
    ThumbnailSize(640, 480, "scale"),
    ThumbnailSize(800, 600, "scale"),
)

#: Addresses URL previews never fetch from unless whitelisted: loopback, private,
#: link-local, shared, documentation, benchmarking, multicast and reserved ranges.
DEFAULT_URL_PREVIEW_IP_RANGE_BLACKLIST = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::/128", "::1/128", "64:ff9b::/96", "100::/64", "2001::/32", "2001:db8::/32",
    "2002::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
)


@dataclass(frozen=True)
class MediaConfig:
    """The media repository's options (docs/MEDIA.md), with Synapse's names."""

    #: New uploads are served only by the authenticated /_matrix/client/v1/media API
    #: (the spec's "freeze" of the legacy /_matrix/media/v3 downloads).
    enable_authenticated_media: bool = True
    #: Images with more pixels than this are not thumbnailed (M_TOO_LARGE).
    max_image_pixels: int = 32 * 1024 * 1024
    #: Thumbnail exactly the requested size instead of the nearest of thumbnail_sizes.
    dynamic_thumbnails: bool = False
    thumbnail_sizes: tuple[ThumbnailSize, ...] = DEFAULT_THUMBNAIL_SIZES
    #: Created-but-not-uploaded media IDs (POST /create) a user may hold at once.
    max_pending_media_uploads: int = 5
    #: How long a created media ID waits for its upload (ms).
    unused_expiration_time_ms: int = 24 * 3_600_000
    rc_media_create: RateLimit = RateLimit(10, 50)
    url_preview_enabled: bool = False
    url_preview_ip_range_blacklist: tuple[IPNetwork, ...] = tuple(
        ipaddress.ip_network(n) for n in DEFAULT_URL_PREVIEW_IP_RANGE_BLACKLIST
    )
    #: Addresses fetched even though the blacklist covers them.
    url_preview_ip_range_whitelist: tuple[IPNetwork, ...] = ()
    #: Largest page or image a URL preview downloads (bytes).
    max_spider_size: int = 10 * 1024 * 1024
    url_preview_accept_language: tuple[str, ...] = ("en",)


@dataclass(frozen=True)
class VoipConfig:
    """TURN servers handed to clients by /voip/turnServer (Synapse's option names)."""

    turn_uris: tuple[str, ...] = ()
    #: Shared secret for time-limited credentials (TURN REST API); preferred over the
    #: fixed username/password when both are set.
    turn_shared_secret: str | None = None
    turn_username: str | None = None
    turn_password: str | None = None
    #: How long credentials are valid (ms).
    turn_user_lifetime_ms: int = 3_600_000
    turn_allow_guests: bool = True


@dataclass(frozen=True)
class CacheConfig:
    """Sizes of the in-memory caches (`caches:`, after Synapse's section of that name).
    Each size is multiplied by `global_factor`."""

    global_factor: float = 1.0
    #: Parsed events kept, measured by the bytes of their JSON (a parsed event takes
    #: about four times its JSON in memory: 2,000-2,500 bytes for a 600-byte message).
    event_cache_size: int = 2 * 1024 * 1024
    #: (type, state_key) entries held by each of the two state-group caches (about
    #: 40 bytes an entry in a full map).
    state_cache_entries: int = 100_000

    def scaled(self, size: int) -> int:
        return max(1, int(size * self.global_factor))


@dataclass(frozen=True)
class Config:
    server_name: str
    #: The folder relative paths were resolved against (the config file's folder).
    config_dir: Path
    database: DatabaseConfig
    public_baseurl: str = ""
    listeners: tuple[ListenerConfig, ...] = (ListenerConfig(8008),)
    serve_server_wellknown: bool = False
    signing_key_path: Path = Path("signing.key")
    default_room_version: str = "12"
    enable_registration: bool = False
    enable_registration_without_verification: bool = False
    registration_requires_token: bool = False
    registration_shared_secret: str | None = None
    allow_guest_access: bool = False
    password_config: PasswordConfig = PasswordConfig()
    #: Lifetime of access tokens that come with a refresh token (ms); None: forever.
    refreshable_access_token_lifetime_ms: int | None = 5 * 60 * 1000
    #: Lifetime of refresh tokens (ms); None: until used.
    refresh_token_lifetime_ms: int | None = None
    #: How long an unfinished user-interactive authentication session lives (ms).
    ui_auth_session_timeout_ms: int = 15 * 60 * 1000
    rc_message: RateLimit = RateLimit(0.2, 10)
    rc_registration: RateLimit = RateLimit(0.17, 3)
    rc_login: LoginRateLimits = LoginRateLimits()
    #: Largest JSON request body accepted by the client and federation APIs (bytes).
    max_request_size: int = 10 * 1024 * 1024
    max_upload_size: int = 50 * 1024 * 1024
    media_store_path: Path = Path("media_store")
    media: MediaConfig = MediaConfig()
    tls_certificate_path: Path | None = None
    tls_private_key_path: Path | None = None
    app_service_config_files: tuple[Path, ...] = ()
    #: Synapse's list of {user_id, alias, room_id, action} rules, kept as given.
    room_list_publication_rules: tuple[Mapping[str, Any], ...] = (
        {"user_id": "*", "alias": "*", "room_id": "*", "action": "allow"},
    )
    user_directory_enabled: bool = True
    user_directory_search_all_users: bool = False
    #: Track and share presence (Synapse's `presence: {enabled}`).
    presence_enabled: bool = True
    voip: VoipConfig = VoipConfig()
    caches: CacheConfig = CacheConfig()
    log_level: str = "INFO"
    report_stats: bool = False


# --- parsing helpers --------------------------------------------------------------------

_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
_DURATION_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
                   "w": 604_800_000, "y": 31_536_000_000}


def parse_size(value: Any, option: str) -> int:
    """Bytes from an int or a string like "50M" (Synapse's size syntax)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    m = re.fullmatch(r"\s*(\d+)\s*([KMG]?)\s*", str(value), re.I)
    if m is None:
        raise ConfigError(f"{option} must be a size such as 512K or 50M, not {value!r}")
    return int(m[1]) * _SIZE_UNITS[m[2].upper()]


def parse_duration(value: Any, option: str) -> int:
    """Milliseconds from an int (already ms) or a string like "5m" or "1h"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    m = re.fullmatch(r"\s*(\d+)\s*(ms|s|m|h|d|w|y)\s*", str(value))
    if m is None:
        raise ConfigError(f"{option} must be a duration such as 30s, 5m or 1h, not {value!r}")
    return int(m[1]) * _DURATION_UNITS[m[2]]


def _typed(raw: Mapping[str, Any], key: str, kind: type, default: Any, prefix: str = "") -> Any:
    value = raw.get(key, default)
    if value is None:
        return default
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok:
        raise ConfigError(f"{prefix}{key} must be of type {kind.__name__}, not {value!r}")
    return value


def _section(raw: Mapping[str, Any], key: str, prefix: str = "") -> Mapping[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{prefix}{key} must be a mapping")
    return value


def _rate_limit(
    raw: Mapping[str, Any], key: str, default: RateLimit, prefix: str = ""
) -> RateLimit:
    section = _section(raw, key, prefix)
    name = f"{prefix}{key}."
    return RateLimit(
        per_second=float(_typed(section, "per_second", float, default.per_second, name)),
        burst_count=_typed(section, "burst_count", int, default.burst_count, name),
    )


def _path(base: Path, value: Any, option: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{option} must be a path")
    return (base / os.path.expanduser(value)).resolve()


def _parse_listener(raw: Any, index: int) -> ListenerConfig:
    prefix = f"listeners[{index}]."
    if not isinstance(raw, Mapping):
        raise ConfigError(f"listeners[{index}] must be a mapping")
    port = raw.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ConfigError(f"{prefix}port must be a port number")
    listener_type = _typed(raw, "type", str, "http", prefix)
    if listener_type != "http":
        raise ConfigError(f"{prefix}type {listener_type!r} is not supported (only http)")
    binds = raw.get("bind_addresses") or ([raw["bind_address"]] if raw.get("bind_address")
                                          else ["127.0.0.1"])
    if not isinstance(binds, list) or not all(isinstance(b, str) for b in binds):
        raise ConfigError(f"{prefix}bind_addresses must be a list of addresses")
    names: set[str] = set()
    for resource in raw.get("resources") or [{"names": ["client"]}]:
        resource_names = resource.get("names") if isinstance(resource, Mapping) else None
        if not isinstance(resource_names, list):
            raise ConfigError(f"{prefix}resources entries must have a list of names")
        names.update(resource_names)
    return ListenerConfig(
        port=port,
        bind_addresses=tuple(binds),
        type=listener_type,
        tls=_typed(raw, "tls", bool, False, prefix),
        resources=frozenset(names),
        x_forwarded=_typed(raw, "x_forwarded", bool, False, prefix),
    )


def _parse_database(raw: Mapping[str, Any], base: Path) -> DatabaseConfig:
    section = _section(raw, "database")
    name = section.get("name", "sqlite3")
    args = _section(section, "args", "database.")
    if name in ("sqlite3", "sqlite"):
        return DatabaseConfig(
            engine="sqlite",
            path=str(_path(base, args.get("database", "homeserver.db"), "database.args.database")),
        )
    if name in ("psycopg2", "psycopg", "postgres", "postgresql"):
        keys = ("user", "password", "host", "port", "database", "dsn")
        connect = {k: args[k] for k in keys if args.get(k) is not None}
        if "dbname" in args and "database" not in connect:
            connect["database"] = args["dbname"]  # libpq's spelling, which Synapse accepts
        return DatabaseConfig(
            engine="postgres",
            connect_args=connect,
            cp_min=_typed(args, "cp_min", int, 5, "database.args."),
            cp_max=_typed(args, "cp_max", int, 10, "database.args."),
        )
    raise ConfigError(f"database.name must be sqlite3 or psycopg2, not {name!r}")


def _ip_networks(raw: Mapping[str, Any], key: str, default: tuple[IPNetwork, ...]
                 ) -> tuple[IPNetwork, ...]:
    value = raw.get(key)
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of CIDR ranges")
    try:
        return tuple(ipaddress.ip_network(v, strict=False) for v in value)
    except ValueError as e:
        raise ConfigError(f"{key}: {e}") from None


def _parse_thumbnail_sizes(raw: Mapping[str, Any]) -> tuple[ThumbnailSize, ...]:
    value = raw.get("thumbnail_sizes")
    if value is None:
        return DEFAULT_THUMBNAIL_SIZES
    if not isinstance(value, list):
        raise ConfigError("thumbnail_sizes must be a list of {width, height, method}")
    sizes = []
    for i, item in enumerate(value):
        name = f"thumbnail_sizes[{i}]."
        if not isinstance(item, Mapping):
            raise ConfigError(f"thumbnail_sizes[{i}] must be a mapping")
        width = _typed(item, "width", int, None, name)
        height = _typed(item, "height", int, None, name)
        method = _typed(item, "method", str, "scale", name)
        if not width or not height or width < 1 or height < 1:
            raise ConfigError(f"{name}width and height must be positive integers")
        if method not in ("crop", "scale"):
            raise ConfigError(f"{name}method must be crop or scale")
        sizes.append(ThumbnailSize(width, height, method))
    return tuple(sizes)


def _parse_media(raw: Mapping[str, Any]) -> MediaConfig:
    d = MediaConfig()
    languages = raw.get("url_preview_accept_language", list(d.url_preview_accept_language))
    if not isinstance(languages, list) or not all(isinstance(v, str) for v in languages):
        raise ConfigError("url_preview_accept_language must be a list of language tags")
    return MediaConfig(
        enable_authenticated_media=_typed(raw, "enable_authenticated_media", bool, True),
        max_image_pixels=parse_size(raw.get("max_image_pixels", "32M"), "max_image_pixels"),
        dynamic_thumbnails=_typed(raw, "dynamic_thumbnails", bool, False),
        thumbnail_sizes=_parse_thumbnail_sizes(raw),
        max_pending_media_uploads=_typed(raw, "max_pending_media_uploads", int, 5),
        unused_expiration_time_ms=parse_duration(
            raw.get("unused_expiration_time", "24h"), "unused_expiration_time"
        ),
        rc_media_create=_rate_limit(raw, "rc_media_create", d.rc_media_create),
        url_preview_enabled=_typed(raw, "url_preview_enabled", bool, False),
        url_preview_ip_range_blacklist=_ip_networks(
            raw, "url_preview_ip_range_blacklist", d.url_preview_ip_range_blacklist
        ),
        url_preview_ip_range_whitelist=_ip_networks(raw, "url_preview_ip_range_whitelist", ()),
        max_spider_size=parse_size(raw.get("max_spider_size", "10M"), "max_spider_size"),
        url_preview_accept_language=tuple(languages),
    )


def _parse_voip(raw: Mapping[str, Any]) -> VoipConfig:
    uris = raw.get("turn_uris") or []
    if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
        raise ConfigError("turn_uris must be a list of turn: or turns: URIs")
    bad = [u for u in uris if not u.startswith(("turn:", "turns:"))]
    if bad:
        raise ConfigError(f"turn_uris: {bad[0]!r} is not a turn: or turns: URI")
    return VoipConfig(
        turn_uris=tuple(uris),
        turn_shared_secret=_typed(raw, "turn_shared_secret", str, None),
        turn_username=_typed(raw, "turn_username", str, None),
        turn_password=_typed(raw, "turn_password", str, None),
        turn_user_lifetime_ms=parse_duration(
            raw.get("turn_user_lifetime", "1h"), "turn_user_lifetime"
        ),
        turn_allow_guests=_typed(raw, "turn_allow_guests", bool, True),
    )


def _parse_caches(raw: Mapping[str, Any]) -> CacheConfig:
    section = _section(raw, "caches")
    factor = float(_typed(section, "global_factor", float, 1.0, "caches."))
    if factor <= 0:
        raise ConfigError(f"caches.global_factor must be positive, not {factor}")
    entries = _typed(section, "state_cache_entries", int, CacheConfig.state_cache_entries,
                     "caches.")
    if entries <= 0:
        raise ConfigError(f"caches.state_cache_entries must be positive, not {entries}")
    events = parse_size(section.get("event_cache_size", CacheConfig.event_cache_size),
                        "caches.event_cache_size")
    return CacheConfig(factor, events, entries)


def parse_config(raw: Mapping[str, Any], config_dir: Path) -> Config:
    """Build a `Config` from the parsed YAML; relative paths are resolved against
    `config_dir`."""
    if not isinstance(raw, Mapping):
        raise ConfigError("the configuration file must hold a mapping")
    server_name = raw.get("server_name")
    if not isinstance(server_name, str) or not server_name:
        raise ConfigError("server_name is required")
    base = config_dir.resolve()
    defaults = Config(server_name, base, DatabaseConfig("sqlite"))

    room_version = str(raw.get("default_room_version", defaults.default_room_version))
    if room_version not in KNOWN_ROOM_VERSIONS:
        raise ConfigError(f"default_room_version {room_version!r} is not a known room version")
    listeners = raw.get("listeners", [{"port": 8008}])
    if not isinstance(listeners, list):
        raise ConfigError("listeners must be a list")
    pw = _section(raw, "password_config")
    argon2 = _section(pw, "argon2", "password_config.")
    rc_login = _section(raw, "rc_login")
    user_dir = _section(raw, "user_directory")
    presence = _section(raw, "presence")
    ui_auth = _section(raw, "ui_auth")
    tls_cert = raw.get("tls_certificate_path")
    tls_key = raw.get("tls_private_key_path")
    refresh_lifetime = raw.get("refresh_token_lifetime")
    access_lifetime = raw.get("refreshable_access_token_lifetime", "5m")
    rules = raw.get("room_list_publication_rules", defaults.room_list_publication_rules)
    if not isinstance(rules, (list, tuple)) or not all(isinstance(r, Mapping) for r in rules):
        raise ConfigError("room_list_publication_rules must be a list of mappings")
    appservices = raw.get("app_service_config_files") or []
    if not isinstance(appservices, list):
        raise ConfigError("app_service_config_files must be a list of paths")
    log_level = str(raw.get("log_level", defaults.log_level)).upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"log_level {log_level!r} is not a logging level")

    config = Config(
        server_name=server_name,
        config_dir=base,
        database=_parse_database(raw, base),
        public_baseurl=_typed(raw, "public_baseurl", str, ""),
        listeners=tuple(_parse_listener(item, i) for i, item in enumerate(listeners)),
        serve_server_wellknown=_typed(raw, "serve_server_wellknown", bool, False),
        signing_key_path=_path(
            base, raw.get("signing_key_path", f"{server_name}.signing.key"), "signing_key_path"
        ),
        default_room_version=room_version,
        enable_registration=_typed(raw, "enable_registration", bool, False),
        enable_registration_without_verification=_typed(
            raw, "enable_registration_without_verification", bool, False
        ),
        registration_requires_token=_typed(raw, "registration_requires_token", bool, False),
        registration_shared_secret=_typed(raw, "registration_shared_secret", str, None),
        allow_guest_access=_typed(raw, "allow_guest_access", bool, False),
        password_config=PasswordConfig(
            enabled=_typed(pw, "enabled", bool, True, "password_config."),
            time_cost=_typed(argon2, "time_cost", int, 3, "password_config.argon2."),
            memory_cost=_typed(argon2, "memory_cost", int, 65536, "password_config.argon2."),
            parallelism=_typed(argon2, "parallelism", int, 1, "password_config.argon2."),
        ),
        refreshable_access_token_lifetime_ms=(
            None if access_lifetime is None
            else parse_duration(access_lifetime, "refreshable_access_token_lifetime")
        ),
        refresh_token_lifetime_ms=(
            None if refresh_lifetime is None
            else parse_duration(refresh_lifetime, "refresh_token_lifetime")
        ),
        ui_auth_session_timeout_ms=parse_duration(
            ui_auth.get("session_timeout", "15m"), "ui_auth.session_timeout"
        ),
        rc_message=_rate_limit(raw, "rc_message", defaults.rc_message),
        rc_registration=_rate_limit(raw, "rc_registration", defaults.rc_registration),
        rc_login=LoginRateLimits(
            address=_rate_limit(rc_login, "address", LoginRateLimits.address, "rc_login."),
            account=_rate_limit(rc_login, "account", LoginRateLimits.account, "rc_login."),
            failed_attempts=_rate_limit(
                rc_login, "failed_attempts", LoginRateLimits.failed_attempts, "rc_login."
            ),
        ),
        max_request_size=parse_size(raw.get("max_request_size", "10M"), "max_request_size"),
        max_upload_size=parse_size(raw.get("max_upload_size", "50M"), "max_upload_size"),
        media_store_path=_path(base, raw.get("media_store_path", "media_store"),
                               "media_store_path"),
        media=_parse_media(raw),
        tls_certificate_path=_path(base, tls_cert, "tls_certificate_path") if tls_cert else None,
        tls_private_key_path=_path(base, tls_key, "tls_private_key_path") if tls_key else None,
        app_service_config_files=tuple(
            _path(base, p, "app_service_config_files") for p in appservices
        ),
        room_list_publication_rules=tuple(rules),
        user_directory_enabled=_typed(user_dir, "enabled", bool, True, "user_directory."),
        user_directory_search_all_users=_typed(
            user_dir, "search_all_users", bool, False, "user_directory."
        ),
        presence_enabled=_typed(presence, "enabled", bool, True, "presence."),
        voip=_parse_voip(raw),
        caches=_parse_caches(raw),
        log_level=log_level,
        report_stats=_typed(raw, "report_stats", bool, False),
    )
    if any(listener.tls for listener in config.listeners) and not (
        config.tls_certificate_path and config.tls_private_key_path
    ):
        raise ConfigError(
            "a listener has tls: true but tls_certificate_path/tls_private_key_path are not set"
        )
    return config


def load_config(path: str | os.PathLike[str]) -> Config:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{path} is not valid YAML: {e}") from e
    return parse_config(raw or {}, path.parent)


# --- signing keys -------------------------------------------------------------------------


def new_signing_key_file(path: Path) -> None:
    """Write a new ed25519 key in Synapse's format: `ed25519 <key id> <base64 seed>`."""
    version = "a_" + "".join(secrets.choice(string.ascii_letters) for _ in range(4))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        write_signing_keys(f, [generate_signing_key(version)])


def read_signing_key(path: Path) -> SigningKey:
    """The first key of a Synapse-format key file (it has `.alg` and `.version`)."""
    try:
        with open(path) as f:
            keys = read_signing_keys(f)
    except OSError as e:
        raise ConfigError(f"cannot read signing_key_path {path}: {e.strerror}") from e
    except ValueError as e:
        raise ConfigError(f"signing_key_path {path} is not a signing key file: {e}") from e
    if not keys:
        raise ConfigError(f"signing_key_path {path} holds no key")
    return keys[0]


def generate_config(server_name: str, config_path: Path) -> None:
    """Write a commented configuration with every option at its default, data in the
    config file's folder, a new signing key and a new registration secret."""
    from ranvier.config_template import render_config_template

    config_path.parent.mkdir(parents=True, exist_ok=True)
    key_path = config_path.parent / f"{server_name}.signing.key"
    if not key_path.exists():
        new_signing_key_file(key_path)
    config_path.write_text(
        render_config_template(
            server_name=server_name,
            signing_key_path=key_path.name,
            registration_shared_secret=secrets.token_urlsafe(32),
        )
    )
