"""Configuration: the generated file, Synapse option names, errors naming the option."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ranvier.cli import main
from ranvier.config import ConfigError, load_config, parse_config, read_signing_key


def test_generated_config_loads_with_defaults_and_relative_paths(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["generate-config", "--server-name", "example.org",
                                       "--config-path", str(tmp_path / "hs.yaml")])
    assert result.exit_code == 0, result.output
    config = load_config(tmp_path / "hs.yaml")
    assert config.server_name == "example.org"
    assert config.database.engine == "sqlite"
    assert config.database.path == str(tmp_path / "homeserver.db")
    assert config.media_store_path == tmp_path / "media_store"
    assert config.default_room_version == "12"
    assert config.listeners[0].port == 8008
    assert config.listeners[0].resources == {"client", "federation"}
    assert config.registration_shared_secret
    key = read_signing_key(config.signing_key_path)
    assert key.alg == "ed25519" and key.version.startswith("a_")
    line = config.signing_key_path.read_text().split()
    assert line[0] == "ed25519" and line[1] == key.version


def test_generate_config_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "hs.yaml"
    path.write_text("keep me")
    args = ["generate-config", "-H", "example.org", "--config-path", str(path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0 and path.read_text() == "keep me"
    assert CliRunner().invoke(main, [*args, "--force"]).exit_code == 0
    assert load_config(path).server_name == "example.org"


def test_register_user_command_creates_an_admin_offline(tmp_path: Path) -> None:
    path = tmp_path / "hs.yaml"
    runner = CliRunner()
    runner.invoke(main, ["generate-config", "-H", "example.org", "--config-path", str(path)])
    result = runner.invoke(main, ["register-user", "-c", str(path), "-u", "root", "-p", "pw",
                                  "--admin"])
    assert result.exit_code == 0, result.output
    assert "@root:example.org" in result.output
    again = runner.invoke(main, ["register-user", "-c", str(path), "-u", "root", "-p", "pw"])
    assert again.exit_code != 0 and "M_USER_IN_USE" in again.output


def test_postgres_database_accepts_synapses_psycopg2_name(tmp_path: Path) -> None:
    config = parse_config({
        "server_name": "x",
        "database": {"name": "psycopg2", "args": {
            "user": "u", "password": "p", "host": "db", "port": 5433, "database": "d",
            "cp_min": 2, "cp_max": 4}},
    }, tmp_path)
    assert config.database.engine == "postgres"
    assert dict(config.database.connect_args) == {
        "user": "u", "password": "p", "host": "db", "port": 5433, "database": "d"}
    assert (config.database.cp_min, config.database.cp_max) == (2, 4)


def test_sizes_durations_and_rate_limits_are_parsed(tmp_path: Path) -> None:
    config = parse_config({
        "server_name": "x", "max_upload_size": "100M", "refresh_token_lifetime": "1h",
        "rc_login": {"address": {"per_second": 1, "burst_count": 7}},
        "password_config": {"argon2": {"time_cost": 5, "memory_cost": 1024}},
    }, tmp_path)
    assert config.max_upload_size == 100 * 1024 * 1024
    assert config.refresh_token_lifetime_ms == 3_600_000
    assert config.rc_login.address.burst_count == 7
    assert config.rc_login.account.burst_count == 5
    assert (config.password_config.time_cost, config.password_config.memory_cost) == (5, 1024)


def test_cache_sizes_are_parsed_and_scaled_by_the_global_factor(tmp_path: Path) -> None:
    default = parse_config({"server_name": "x"}, tmp_path).caches
    config = parse_config({"server_name": "x", "caches": {
        "global_factor": 0.5, "event_cache_size": "8M", "state_cache_entries": 1000,
    }}, tmp_path).caches
    assert config.scaled(config.event_cache_size) == 4 * 1024 * 1024
    assert config.scaled(config.state_cache_entries) == 500
    assert default.scaled(default.event_cache_size) == default.event_cache_size


@pytest.mark.parametrize(("raw", "option"), [
    ({}, "server_name"),
    ({"server_name": "x", "default_room_version": "99"}, "default_room_version"),
    ({"server_name": "x", "enable_registration": "yes"}, "enable_registration"),
    ({"server_name": "x", "listeners": [{"port": "80"}]}, r"listeners\[0\]\.port"),
    ({"server_name": "x", "database": {"name": "mysql"}}, "database.name"),
    ({"server_name": "x", "max_upload_size": "lots"}, "max_upload_size"),
    ({"server_name": "x", "rc_message": {"per_second": "fast"}}, r"rc_message\.per_second"),
    ({"server_name": "x", "listeners": [{"port": 8448, "tls": True}]}, "tls_certificate_path"),
    ({"server_name": "x", "caches": {"global_factor": 0}}, r"caches\.global_factor"),
    ({"server_name": "x", "caches": {"global_factor": "big"}}, r"caches\.global_factor"),
    ({"server_name": "x", "caches": {"event_cache_size": "lots"}}, r"caches\.event_cache_size"),
    ({"server_name": "x", "caches": {"state_cache_entries": 0}}, r"caches\.state_cache_entries"),
])
def test_bad_options_are_errors_naming_the_option(
    tmp_path: Path, raw: dict, option: str
) -> None:
    with pytest.raises(ConfigError, match=option):
        parse_config(raw, tmp_path)
