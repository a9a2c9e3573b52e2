"""Checks of the deployment files in deploy/ (and docs/deploy.md's claims about them).

No container engine runs here or in CI, so the image is checked in two halves: the Dockerfile's text, and
deploy/build-image.sh (the script the Dockerfile RUNs) executed for real into a temporary directory. The systemd
units go through `systemd-analyze`, and the unit's seccomp sandbox (SystemCallFilter=, MemoryDenyWriteExecute=,
RestrictAddressFamilies=) is rebuilt with libseccomp to run the installed program and its dependencies under it.
Missing tools make tests fail with a message saying what to install; nothing is skipped.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import re
import shlex
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"

# Every setting the program reads. deploy/example.env must document each one (and a test below checks this
# list against the settings classes themselves).
SETTINGS = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BASE_URL",
    "TELEGRAM_BASE_FILE_URL",
    "REPORTBOT_DB",
    "REPORTBOT_REPORTS_DIR",
    "REPORTBOT_DICT",
    "REPORTBOT_ADMINS",
    "REPORTBOT_ALLOWED_CHATS",
    "REPORTBOT_TZ",
    "REPORTBOT_DIGEST_TIME",
    "REPORTBOT_WEBHOOK_URL",
    "REPORTBOT_WEBHOOK_LISTEN",
    "REPORTBOT_WEBHOOK_PORT",
    "REPORTBOT_WEBHOOK_SECRET",
    "REPORTBOT_RATE_LIMIT",
    "REPORTBOT_MAX_WATCHES",
    "REPORTBOT_MAX_UPLOAD_MB",
    "REPORTBOT_MAX_REPORT_CHARS",
    "REPORTBOT_MAX_REPORT_PARAGRAPHS",
    "REPORTBOT_LOG_LEVEL",
    "REPORTBOT_PACE_SENDS",
    "REPORTBOT_CONNECTION_POOL",
    "REPORTBOT_CONCURRENT_UPDATES",
)
# Read by docker compose (compose.webhook.yaml, Caddy), not by the program.
COMPOSE_ONLY_SETTINGS = ("REPORTBOT_DOMAIN",)

# Looks like a real bot token: numeric bot id, a colon, a long secret.
REAL_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}")

VENV_REPORTBOT = "/opt/reportbot/.venv/bin/reportbot"
BACKUP_DIR = "/var/backups/reportbot"
SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"


def tool(name: str, *, fixed: str | None = None, package: str) -> str:
    """The path of a command-line tool, or a failed test that says how to get it."""
    path = shutil.which(name) or (fixed if fixed and os.access(fixed, os.X_OK) else None)
    if path is None:
        pytest.fail(f"`{name}` is needed by this test and is not installed (Debian package: {package})")
    return path


def systemd_analyze() -> str:
    return tool("systemd-analyze", fixed=SYSTEMD_ANALYZE, package="systemd")


# ---- compose files -----------------------------------------------------------------------------------------


def load_compose(name: str) -> dict:
    doc = yaml.safe_load((DEPLOY / name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict) and isinstance(doc.get("services"), dict), f"{name}: no services mapping"
    return doc


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def interpolate(value: str, **values: str) -> str:
    """Compose's `${VAR}`, `${VAR:?message}`, `${VAR:-default}` substitution, for the given variables."""
    return re.sub(r"\$\{(\w+)(?::?[?-][^}]*)?\}", lambda m: values[m.group(1)], value)


def check_bot_service(service: dict, compose: dict, name: str) -> None:
    """What both compose files require of the bot's service."""
    build = service["build"]
    dockerfile = (DEPLOY / build["context"] / build["dockerfile"]).resolve()
    assert dockerfile == DEPLOY / "Dockerfile", f"{name}: builds {dockerfile}, not deploy/Dockerfile"
    assert (DEPLOY / build["context"]).resolve() == REPO, f"{name}: the build context must be the repository"
    env_files = service["env_file"] if isinstance(service["env_file"], list) else [service["env_file"]]
    assert env_files == [".env"], f"{name}: settings must come from deploy/.env, got {env_files}"
    env = environment(service)
    assert env.get("REPORTBOT_DB") == "/data/reports.db", f"{name}: the database must live on the /data volume"
    # The token's value stays in deploy/.env; compose only refuses to start without one.
    assert env["TELEGRAM_BOT_TOKEN"].startswith("${TELEGRAM_BOT_TOKEN:?"), f"{name}: token must be required"
    volumes = service["volumes"]
    assert "reportbot-data:/data" in volumes, f"{name}: /data must be the named volume reportbot-data"
    assert "reportbot-data" in (compose.get("volumes") or {}), f"{name}: volume reportbot-data is not declared"
    assert service["restart"] == "unless-stopped", f"{name}: restart policy"
    health = service["healthcheck"]
    assert health["test"] == ["CMD", "reportbot", "stats"], f"{name}: healthcheck must run `reportbot stats`"
    assert {"interval", "timeout", "start_period", "retries"} <= health.keys(), f"{name}: healthcheck timings"
    assert "ports" not in service, f"{name}: the bot must publish no ports"


def test_compose_polling_has_one_bot_service_with_volume_and_healthcheck() -> None:
    compose = load_compose("compose.yaml")
    assert set(compose["services"]) == {"reportbot"}
    check_bot_service(compose["services"]["reportbot"], compose, "compose.yaml")
    assert "REPORTBOT_WEBHOOK_URL" not in environment(compose["services"]["reportbot"])


def test_compose_webhook_puts_the_bot_behind_caddy_and_only_caddy_publishes_ports() -> None:
    compose = load_compose("compose.webhook.yaml")
    assert set(compose["services"]) == {"reportbot", "caddy"}
    bot, caddy = compose["services"]["reportbot"], compose["services"]["caddy"]
    check_bot_service(bot, compose, "compose.webhook.yaml")

    env = environment(bot)
    url = urlparse(interpolate(env["REPORTBOT_WEBHOOK_URL"], REPORTBOT_DOMAIN="bot.example.com"))
    assert (url.scheme, url.netloc, url.path) == ("https", "bot.example.com", "/telegram"), url
    assert env["REPORTBOT_WEBHOOK_LISTEN"] == "0.0.0.0"
    port = env["REPORTBOT_WEBHOOK_PORT"]
    assert [str(p) for p in bot.get("expose", [])] == [port], "the webhook port is exposed to the network only"
    assert env["REPORTBOT_WEBHOOK_SECRET"].startswith("${REPORTBOT_WEBHOOK_SECRET:?"), "the secret is required"

    published = {str(p).split(":")[0] for p in caddy["ports"]}
    assert published == {"80", "443"}, caddy["ports"]
    assert caddy["image"].startswith("caddy:")
    assert "env_file" not in caddy, "Caddy must not receive the bot's settings (token, secret)"
    assert set(environment(caddy)) == {"REPORTBOT_DOMAIN"}
    mounts = {v.split(":")[1]: v.split(":")[0] for v in caddy["volumes"]}
    assert (DEPLOY / mounts["/etc/caddy/Caddyfile"]).resolve() == DEPLOY / "Caddyfile"
    assert "/data" in mounts, "Caddy's certificates must be on a volume"

    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert f"reverse_proxy reportbot:{port}" in caddyfile, "Caddy must proxy to the bot's webhook port"


def test_both_compose_files_share_project_and_database_volume() -> None:
    polling, webhook = load_compose("compose.yaml"), load_compose("compose.webhook.yaml")
    assert polling["name"] == webhook["name"] == "reportbot", "switching modes must keep the same volume"
    assert polling["services"]["reportbot"]["volumes"] == webhook["services"]["reportbot"]["volumes"]


def test_compose_interpolates_only_documented_variables() -> None:
    documented = set(env_file_settings())
    for name in ("compose.yaml", "compose.webhook.yaml"):
        text = (DEPLOY / name).read_text(encoding="utf-8")
        used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
        assert used <= documented, f"{name} uses {sorted(used - documented)}, which example.env does not document"


# ---- reverse proxies ---------------------------------------------------------------------------------------


def assert_balanced_braces(text: str, name: str) -> None:
    depth = 0
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{name}: unbalanced braces at {line!r}"
    assert depth == 0, f"{name}: unbalanced braces"


def test_caddyfile_serves_the_domain_and_proxies_the_webhook_path() -> None:
    text = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert_balanced_braces(text, "Caddyfile")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert lines[0] == "{$REPORTBOT_DOMAIN} {", "the site address must be the REPORTBOT_DOMAIN variable"
    assert "path /telegram" in lines, "only the webhook path is proxied"
    assert "reverse_proxy reportbot:8443" in lines
    assert "respond 404" in lines, "everything else is refused"


def test_nginx_sample_terminates_tls_and_proxies_the_webhook_path() -> None:
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert_balanced_braces(text, "nginx.conf")
    for line in text.splitlines():
        code = line.split("#", 1)[0].strip()
        assert not code or code.endswith((";", "{", "}")), f"nginx.conf: unterminated directive {line!r}"
    assert re.search(r"listen 443 ssl;", text)
    assert re.search(r"ssl_certificate\s+/etc/letsencrypt/live/\S+/fullchain\.pem;", text)
    assert re.search(r"ssl_certificate_key\s+/etc/letsencrypt/live/\S+/privkey\.pem;", text)
    assert "return 301 https://$host$request_uri;" in text, "port 80 must redirect to https"
    webhook = re.search(r"location = /telegram \{(.*?)\n    \}", text, re.S)
    assert webhook, "nginx.conf: no `location = /telegram` block"
    upstream = re.search(r"proxy_pass http://(\S+);", webhook.group(1))
    assert upstream and re.search(rf"upstream {upstream.group(1)} \{{\s*server 127\.0\.0\.1:8443;", text)


# ---- example.env ---------------------------------------------------------------------------------------------

SETTING_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def env_file_settings() -> dict[str, tuple[int, bool, str]]:
    """name -> (line index, active?, value) for every `NAME=value` or `# NAME=value` line of example.env."""
    found: dict[str, tuple[int, bool, str]] = {}
    for i, line in enumerate((DEPLOY / "example.env").read_text(encoding="utf-8").splitlines()):
        m = SETTING_LINE.match(line)
        if m:
            assert m.group(2) not in found, f"example.env: {m.group(2)} appears twice"
            found[m.group(2)] = (i, m.group(1) is None, m.group(3))
    return found


def test_example_env_documents_every_setting_with_a_comment() -> None:
    lines = (DEPLOY / "example.env").read_text(encoding="utf-8").splitlines()
    found = env_file_settings()
    missing = [name for name in SETTINGS if name not in found]
    assert not missing, f"example.env does not document {missing}"
    unknown = set(found) - set(SETTINGS) - set(COMPOSE_ONLY_SETTINGS)
    assert not unknown, f"example.env has settings the program does not read: {sorted(unknown)}"
    for name, (i, _, _) in found.items():
        above = lines[i - 1] if i else ""
        assert above.startswith("# ") and not SETTING_LINE.match(above), f"example.env: {name} has no comment"


def test_example_env_covers_the_settings_the_program_reads() -> None:
    from bot.settings import BotSettings

    read = {field.alias for field in BotSettings.model_fields.values() if field.alias}
    assert read == set(SETTINGS), f"SETTINGS in this test is out of date: {sorted(read ^ set(SETTINGS))}"


def test_example_env_is_portable_and_means_what_it_says() -> None:
    """One file for python-dotenv, systemd's EnvironmentFile= and compose's env_file: plain KEY=value only."""
    for name, (_, active, value) in env_file_settings().items():
        if active:
            assert value == value.strip() and not re.search(r"[\"'\s#]", value), f"{name}: unportable value"
    from dotenv import dotenv_values  # python-dotenv comes with pydantic-settings, which the program uses

    values = dotenv_values(DEPLOY / "example.env")
    assert dict(values) == {"TELEGRAM_BOT_TOKEN": ""}, "only the token is set (empty, to fill in); the rest default"


def test_no_real_looking_token_or_secret_in_deployment_files() -> None:
    # deploy/.env is an operator's filled-in copy (git-ignored), the one place a real token belongs.
    files = [p for p in DEPLOY.iterdir() if p.is_file() and p.name != ".env"] + [REPO / "docs" / "deploy.md"]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not REAL_TOKEN.search(text), f"{path.relative_to(REPO)} contains something like a bot token"
    _, active, value = env_file_settings()["TELEGRAM_BOT_TOKEN"]
    assert active and value == "", "the token ships empty: a placeholder passes every check and restart-loops"
    assert env_file_settings()["REPORTBOT_WEBHOOK_SECRET"][2] == "", "no sample webhook secret to copy"


# ---- systemd -------------------------------------------------------------------------------------------------


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> values, in order (systemd keys may repeat, so no configparser)."""
    unit: dict[str, dict[str, list[str]]] = {}
    section: dict[str, list[str]] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = unit.setdefault(line.strip("[]"), {})
            continue
        assert section is not None, f"{path.name}: setting outside a section: {line}"
        key, _, value = line.partition("=")
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


def one(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    values = unit.get(section, {}).get(key)
    assert values, f"[{section}] {key}= is missing"
    return values[-1]


def unit_copies(tmp_path: Path) -> list[Path]:
    """The three units, with the virtualenv's reportbot (absent here) replaced by an existing program.

    systemd-analyze verify fails on an ExecStart= binary that does not exist; that path is the ONLY change."""
    true = tool("true", package="coreutils")
    copies = []
    for name in ("reportbot.service", "reportbot-backup.service", "reportbot-backup.timer"):
        text = (DEPLOY / name).read_text(encoding="utf-8")
        if name.endswith(".service"):
            assert VENV_REPORTBOT in text, f"{name} must run {VENV_REPORTBOT}"
        copy = tmp_path / name
        copy.write_text(text.replace(VENV_REPORTBOT, true), encoding="utf-8")
        copies.append(copy)
    return copies


def verify(paths: Sequence[Path]) -> tuple[int, list[str]]:
    """Exit status of `systemd-analyze verify`, and its messages about these files.

    It exits 0 even for unknown keys and unparsable values, only printing warnings; so warnings count too."""
    proc = subprocess.run(
        [systemd_analyze(), "verify", "--man=no", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    ours = [ln for ln in (proc.stdout + proc.stderr).splitlines() if any(p.name in ln for p in paths)]
    return proc.returncode, ours


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    copies = unit_copies(tmp_path)
    status, messages = verify(copies)
    assert status == 0 and not messages, "systemd-analyze verify:\n" + "\n".join(messages)

    # The check itself works: a misspelt setting in the same unit is reported.
    broken = tmp_path / "broken" / "reportbot.service"
    broken.parent.mkdir()
    broken.write_text(copies[0].read_text().replace("ProtectHome=yes", "ProtectHome=yess\nProtectHomme=yes"))
    _, messages = verify([broken])
    assert len(messages) == 2, messages


def test_systemd_service_settings_and_hardening(tmp_path: Path) -> None:
    unit = parse_unit(DEPLOY / "reportbot.service")
    expected = {
        "Type": "simple",
        "User": "reportbot",
        "WorkingDirectory": "/opt/reportbot",
        "EnvironmentFile": "/etc/reportbot/reportbot.env",
        "ExecStart": f"{VENV_REPORTBOT} run",
        "Restart": "on-failure",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ReadWritePaths": "/opt/reportbot/data",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "ProtectKernelLogs": "yes",
        "ProtectControlGroups": "yes",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "RestrictNamespaces": "yes",
        "LockPersonality": "yes",
        "CapabilityBoundingSet": "",
    }
    for key, value in expected.items():
        assert one(unit, "Service", key) == value, f"[Service] {key}="
    assert unit["Service"]["SystemCallFilter"][0] == "@system-service", "an allow list, starting @system-service"
    assert re.fullmatch(r"\d+s?", one(unit, "Service", "RestartSec"))
    assert int(one(unit, "Unit", "StartLimitBurst")) > 1 and one(unit, "Unit", "StartLimitIntervalSec")
    assert one(unit, "Install", "WantedBy") == "multi-user.target"

    # systemd's own exposure score (0 = locked down, 10 = unprotected) must stay low.
    copy = unit_copies(tmp_path)[0]
    proc = subprocess.run(
        [systemd_analyze(), "security", "--offline=true", "--man=no", "--threshold=20", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", proc.stdout)
    assert proc.returncode == 0 and score, proc.stdout[-3000:] + proc.stderr
    assert float(score.group(1)) <= 2.0, score.group(0)


def systemd_unescape(value: str) -> str:
    """ExecStart= text as the program receives it: `%%` is `%`, `$$` is `$` (no other specifiers used)."""
    assert not re.search(r"%[^%]", value.replace("%%", "")), f"unexpected specifier in {value}"
    assert not re.search(r"\$[^$]", value.replace("$$", "")), f"unexpected variable in {value}"
    return value.replace("%%", "%").replace("$$", "$")


def test_service_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    """ExecStartPre= stops `reportbot run` from starting its terminal chat (and exiting 0) under systemd."""
    unit = parse_unit(DEPLOY / "reportbot.service")
    argv = shlex.split(systemd_unescape(one(unit, "Service", "ExecStartPre")))
    base = {"PATH": os.environ["PATH"]}
    missing = subprocess.run(argv, env=base, capture_output=True, text=True, timeout=30)
    assert missing.returncode != 0 and "TELEGRAM_BOT_TOKEN" in missing.stderr
    present = subprocess.run(argv, env={**base, "TELEGRAM_BOT_TOKEN": "123456:replace-me"}, timeout=30)
    assert present.returncode == 0


def test_backup_timer_runs_the_backup_service_nightly() -> None:
    timer = parse_unit(DEPLOY / "reportbot-backup.timer")
    assert one(timer, "Timer", "Unit") == "reportbot-backup.service"
    assert (DEPLOY / "reportbot-backup.service").is_file()
    assert one(timer, "Timer", "Persistent") == "true", "a missed night is caught up at boot"
    assert one(timer, "Install", "WantedBy") == "timers.target"
    calendar = one(timer, "Timer", "OnCalendar")
    proc = subprocess.run([systemd_analyze(), "calendar", calendar], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and "Next elapse" in proc.stdout, proc.stdout + proc.stderr
    assert "*-*-* " in proc.stdout, "daily"


def test_backup_service_makes_dated_online_backups_and_prunes_old_ones(tmp_path: Path) -> None:
    service, bot = parse_unit(DEPLOY / "reportbot-backup.service"), parse_unit(DEPLOY / "reportbot.service")
    for key in ("User", "WorkingDirectory", "EnvironmentFile"):
        assert one(service, "Service", key) == one(bot, "Service", key), f"backup and bot differ in {key}="
    assert one(service, "Service", "Type") == "oneshot"
    writable = one(service, "Service", "ReadWritePaths").split()
    assert set(writable) == {one(bot, "Service", "ReadWritePaths"), BACKUP_DIR}

    # Run ExecStart= and ExecStartPost= as systemd would, with a stand-in reportbot and a scratch backup dir.
    calls = tmp_path / "calls.txt"
    fake = tmp_path / "reportbot"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {calls}\n')
    fake.chmod(0o755)
    backups = tmp_path / "backups"
    backups.mkdir()

    def command(key: str) -> list[str]:
        argv = shlex.split(systemd_unescape(one(service, "Service", key)))
        return [a.replace(VENV_REPORTBOT, str(fake)).replace(BACKUP_DIR, str(backups)) for a in argv]

    subprocess.run(command("ExecStart"), check=True, timeout=30)
    args = calls.read_text().splitlines()
    assert args[0] == "backup" and len(args) == 2, args
    assert re.fullmatch(rf"{re.escape(str(backups))}/reports-\d{{8}}-\d{{6}}\.db", args[1]), args[1]

    old, new, other = backups / "reports-20000101-033000.db", Path(args[1]), backups / "keep-me.db"
    for path in (old, new, other):
        path.write_bytes(b"")
    month_ago = time.time() - 30 * 86400
    os.utime(old, (month_ago, month_ago))
    os.utime(other, (month_ago, month_ago))
    subprocess.run(command("ExecStartPost"), check=True, timeout=30)
    assert not old.exists() and new.exists() and other.exists()


# ---- Dockerfile ----------------------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for raw in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        if line:
            word, _, rest = line.partition(" ")
            instructions.append((word.upper(), " ".join(rest.split())))
    return instructions


def test_dockerfile_slim_base_non_root_volume_healthcheck_and_build_script() -> None:
    instructions = dockerfile()
    froms = [args for word, args in instructions if word == "FROM"]
    assert froms and all(re.fullmatch(r"python:3\.11-slim( AS \w+)?", a, re.I) for a in froms), froms
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    final = instructions[last_from:]

    runs = [args for word, args in instructions if word == "RUN"]
    assert any(re.search(r"(^|\s)deploy/build-image\.sh$", a) for a in runs), "must RUN deploy/build-image.sh"
    assert any("APP_DIR=/app" in a and "VENV=/app/.venv" in a for a in runs if "build-image.sh" in a)

    users = [args for word, args in final if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must run as a non-root user"
    user = users[-1].split(":")[0]
    assert any("useradd" in a and user in a.split() for word, a in final if word == "RUN"), (
        f"the final stage must create user {user}"
    )
    volumes = [args for word, args in final if word == "VOLUME"]
    assert any("/data" in v for v in volumes), "the database directory /data must be a VOLUME"
    env = " ".join(args for word, args in final if word == "ENV")
    assert "REPORTBOT_DB=/data/reports.db" in env
    # set in the image, the bundled reports would come back at every start of a library that is the operator's
    assert "REPORTBOT_REPORTS_DIR" not in env
    assert "PATH=/app/.venv/bin:" in env, "the venv built by build-image.sh must be on PATH"
    health = [args for word, args in final if word == "HEALTHCHECK"]
    assert len(health) == 1 and health[0].endswith('CMD ["reportbot", "stats"]'), health
    cmds = [args for word, args in final if word == "CMD"]
    assert cmds == ['["reportbot", "run"]']
    assert any(word == "COPY" and args.startswith("--from=build /app") for word, args in final)

    # the system programs the project runs are in the image, from the one list .ci/run installs too
    packages = [line.strip() for line in (DEPLOY / "debian-packages.txt").read_text(encoding="utf-8").splitlines()]
    packages = [p for p in packages if p and not p.startswith("#")]
    assert "libreoffice-writer-nogui" in packages
    installs = [a for word, a in final if word == "RUN" and "apt-get install" in a]
    assert any("debian-packages.txt" in a for a in installs), "the final stage must install deploy/debian-packages.txt"
    assert any(word == "COPY" and "deploy/debian-packages.txt" in args for word, args in final)
    assert "debian-packages.txt" in (DEPLOY.parent / ".ci" / "run").read_text(encoding="utf-8")

    for word, args in instructions:
        if word in ("ENV", "ARG"):
            assert not re.search(r"TOKEN|SECRET|PASSWORD", args, re.I), f"secret baked into the image: {args}"
        if word in ("COPY", "ADD"):
            assert ".env" not in args.split(), f"settings file copied into the image: {args}"


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_build() -> None:
    patterns = set((DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split())
    assert {".env", "**/.env", ".git", ".venv", "data/*.db", "data/*.db-*"} <= patterns


def test_build_script_is_executable_and_needs_no_root() -> None:
    script = DEPLOY / "build-image.sh"
    assert script.stat().st_mode & stat.S_IXUSR, "deploy/build-image.sh must be executable (chmod +x)"
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert not re.search(r"^\s*[^#\n]*\b(sudo|useradd|adduser|chown)\b", text, re.M), "CI runs it unprivileged"


# ---- the build script, for real ------------------------------------------------------------------------------


@dataclass
class Build:
    app: Path
    venv: Path
    proc: subprocess.CompletedProcess[str]
    seconds: float

    def log(self) -> str:
        return f"--- stdout\n{self.proc.stdout[-5000:]}\n--- stderr\n{self.proc.stderr[-8000:]}"


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Run deploy/build-image.sh as the Dockerfile does, into a temporary APP_DIR/VENV (pip cache reused)."""
    root = tmp_path_factory.mktemp("image")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env.update(SRC_DIR=str(REPO), APP_DIR=str(root / "app"), VENV=str(root / "venv"), PYTHON=sys.executable)
    started = time.monotonic()
    proc = subprocess.run(
        [str(DEPLOY / "build-image.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    result = Build(root / "app", root / "venv", proc, time.monotonic() - started)
    print(f"\ndeploy/build-image.sh: exit {proc.returncode} in {result.seconds:.1f}s")
    return result


def test_build_script_installs_the_project_and_reportbot_help_runs(build: Build) -> None:
    assert build.proc.returncode == 0, f"deploy/build-image.sh failed ({build.seconds:.0f}s)\n{build.log()}"
    reportbot = build.venv / "bin" / "reportbot"
    proc = subprocess.run(
        [str(reportbot), "--help"],
        cwd=build.app,
        env=minimal_env(build, build.app),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "run" in proc.stdout, proc.stdout + proc.stderr

    bundled = sorted(p.name for p in (REPO / "data" / "reports").glob("*.txt"))
    assert bundled and sorted(p.name for p in (build.app / "data" / "reports").glob("*.txt")) == bundled
    if (REPO / "data" / "dict.txt").exists():
        assert (build.app / "data" / "dict.txt").read_bytes() == (REPO / "data" / "dict.txt").read_bytes()

    # Runtime dependencies only: the [test] and [bench] extras stay out of the image.
    listed = subprocess.run(
        [str(build.venv / "bin" / "python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert {"reportbot", "python-telegram-bot", "numpy", "rjieba", "matplotlib", "openpyxl"} <= names  # /trend, export
    assert not names & {"pytest", "ruff", "mypy", "hypothesis", "tantivy", "rank-bm25"}, names
    # Not an editable install: the code is copied into the venv, not read from the checkout.
    site = subprocess.run(
        [str(build.venv / "bin" / "python"), "-c", "import bot; print(bot.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=build.app,
        env=minimal_env(build, build.app),  # a PYTHONPATH of the caller's would import the checkout instead
    )
    assert str(build.venv) in site.stdout, site.stdout + site.stderr


# ---- the unit's sandbox, for real ----------------------------------------------------------------------------

# Installs seccomp filters equivalent to the unit's MemoryDenyWriteExecute=, RestrictAddressFamilies= and
# SystemCallFilter= (with SystemCallErrorNumber=), the way systemd builds them, then execs the command.
# Filters survive execve, so the command and everything it starts run under them.
SANDBOX = r"""
import ctypes, errno, json, os, shutil, sys

policy = json.loads(sys.argv[1])
command = sys.argv[2:]
lib = ctypes.CDLL(policy["libseccomp"], use_errno=True)

class Cmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]

lib.seccomp_init.restype = ctypes.c_void_p
lib.seccomp_init.argtypes = [ctypes.c_uint32]
lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                       ctypes.POINTER(Cmp)]
lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
lib.seccomp_load.argtypes = [ctypes.c_void_p]
ALLOW = 0x7FFF0000
CMP_EQ, CMP_GT, CMP_MASKED_EQ = 4, 6, 7
def ERRNO(e): return 0x00050000 | (e & 0xFFFF)

def new(default):
    ctx = lib.seccomp_init(default)
    if not ctx:
        sys.exit("seccomp_init failed")
    return ctx

def rule(ctx, action, name, *cmps):
    nr = lib.seccomp_syscall_resolve_name(name.encode())
    if nr < 0:
        return 0  # not a system call of this architecture
    rc = lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), (Cmp * len(cmps))(*cmps) if cmps else None)
    if rc < 0:
        sys.exit(f"seccomp_rule_add {name}: {os.strerror(-rc)}")
    return 1

def load(ctx):
    rc = lib.seccomp_load(ctx)
    if rc < 0:
        sys.exit(f"seccomp_load: {os.strerror(-rc)}")

if policy["mdwe"]:  # systemd: no W+X mmap, no mprotect/pkey_mprotect adding X, no SHM_EXEC shmat
    ctx = new(ALLOW)
    rule(ctx, ERRNO(errno.EPERM), "mmap", Cmp(2, CMP_MASKED_EQ, 0x6, 0x6))
    rule(ctx, ERRNO(errno.EPERM), "mprotect", Cmp(2, CMP_MASKED_EQ, 0x4, 0x4))
    rule(ctx, ERRNO(errno.EPERM), "pkey_mprotect", Cmp(2, CMP_MASKED_EQ, 0x4, 0x4))
    rule(ctx, ERRNO(errno.EPERM), "shmat", Cmp(2, CMP_MASKED_EQ, 0o100000, 0o100000))
    load(ctx)

if policy["families"]:  # systemd: socket() with another family fails with EAFNOSUPPORT
    allowed = sorted(policy["families"])
    ctx = new(ALLOW)
    for family in range(allowed[-1]):
        if family not in allowed:
            rule(ctx, ERRNO(errno.EAFNOSUPPORT), "socket", Cmp(0, CMP_EQ, family, 0))
    rule(ctx, ERRNO(errno.EAFNOSUPPORT), "socket", Cmp(0, CMP_GT, allowed[-1], 0))
    load(ctx)

executable = shutil.which(command[0])
ctx = new(ERRNO(policy["errno"]))  # the allow list goes last: loading filters needs seccomp()/prctl()
added = sum(rule(ctx, ALLOW, name) for name in policy["allow"])
if added < 200:
    sys.exit(f"only {added} system calls allowed: the allow list was not read correctly")
load(ctx)
os.execv(executable, command)
"""

# The program's dependencies at work, plus proof that the sandbox is really on.
DEPENDENCIES_WORKLOAD = r"""
import asyncio, errno, os, socket, sqlite3, sys, tempfile, zoneinfo
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

def refused(what, call, code):
    try:
        call()
    except OSError as exc:
        assert exc.errno == code, f"{what}: {exc}"
    else:
        sys.exit(f"sandbox not active: {what} was allowed")

refused("setuid()", lambda: os.setuid(os.getuid()), errno.EPERM)
refused("a netlink socket", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW), errno.EAFNOSUPPORT)

import numpy as np
rng = np.random.default_rng(0)
a = rng.random((300, 300))
with ThreadPoolExecutor(4) as pool:
    products = list(pool.map(lambda m: m @ m.T, [a] * 4))
assert np.allclose(products[0], products[3]) and np.linalg.eigvalsh(products[0]).shape == (300,)

from retrieval import kernels  # numba: compiles (or loads from NUMBA_CACHE_DIR) and runs machine code
ids, counts = np.array([1, 1, 2, 5, 5, 5], dtype=np.int64), np.empty(6, dtype=np.int64)
assert kernels.run_lengths(ids, 6, counts) == 3 and ids[:3].tolist() == [1, 2, 5] and counts[:3].tolist() == [2, 1, 3]

text = "坚持四下基层，深入开展主题教育和调查研究，抓好检视整改落实。"
dictionary = Path("data/dict.txt")
import rjieba
tokenizer = rjieba.Jieba()
if dictionary.exists():
    for line in dictionary.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts and not parts[0].startswith("#"):
            tokenizer.add_word(parts[0], int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None, None)
tokens = tokenizer.cut_for_search(text, True)
assert "调查研究" in tokens, tokens

import opencc
assert opencc.OpenCC("t2s").convert("漢字報告") == "汉字报告"

with tempfile.TemporaryDirectory() as tmp:
    db = sqlite3.connect(f"{tmp}/t.db")
    assert db.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
    db.execute("CREATE VIRTUAL TABLE t USING fts5(body)")
    db.execute("INSERT INTO t VALUES ('主题 教育')")
    db.commit()
    copy = sqlite3.connect(f"{tmp}/backup.db")
    db.backup(copy)
    assert copy.execute("SELECT count(*) FROM t WHERE t MATCH '教育'").fetchone()[0] == 1

assert zoneinfo.ZoneInfo("Asia/Shanghai").key == "Asia/Shanghai"

import charset_normalizer, click, docx, pydantic_settings, pypdfium2, sqlite_utils, tqdm, tornado.web
from telegram.ext import ApplicationBuilder
app = ApplicationBuilder().token("123456:replace-me").build()
assert app.job_queue is not None, "the job-queue extra (APScheduler) is missing"

async def echo_over_tcp():
    async def handle(reader, writer):
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping\n")
    line = await reader.readline()
    writer.close()
    server.close()
    return line
assert asyncio.run(echo_over_tcp()) == b"ping\n"
print("sandbox-ok")
"""


def syscall_groups() -> dict[str, list[str]]:
    """systemd's system call groups (@system-service, ...) as this systemd defines them."""
    out = subprocess.run(
        [systemd_analyze(), "syscall-filter"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    groups: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif not line.strip() or line.startswith("#"):
            current = None if line.startswith("#") else current
        elif current is not None and not line.strip().startswith("#"):
            current.append(line.strip())
    assert "@system-service" in groups and "@default" in groups, out[:2000]
    return groups


def sandbox_policy(unit_path: Path) -> dict:
    """The seccomp-relevant settings of a unit, resolved like systemd resolves them."""
    service = parse_unit(unit_path)["Service"]
    groups = syscall_groups()

    def expand(item: str) -> set[str]:
        return set().union(*(expand(x) for x in groups[item])) if item.startswith("@") else {item}

    filters = service["SystemCallFilter"]
    assert not filters[0].startswith("~"), "the test models an allow list (first SystemCallFilter= not ~)"
    allow: set[str] = set()
    for value in filters:
        names = set().union(*(expand(x) for x in value.lstrip("~").split()))
        allow = allow - names if value.startswith("~") else allow | names
    # systemd.exec(5): always allowed, whatever the filter says.
    allow |= {
        "execve",
        "exit",
        "exit_group",
        "getrlimit",
        "rt_sigreturn",
        "sigreturn",
        "clock_gettime",
        "gettimeofday",
        "nanosleep",
        "clock_nanosleep",
        "time",
    }
    families = [getattr(socket, name) for name in service["RestrictAddressFamilies"][-1].split()]
    library = ctypes.util.find_library("seccomp")
    if library is None:
        pytest.fail("libseccomp is needed to rebuild the unit's sandbox (Debian package: libseccomp2)")
    return {
        "libseccomp": library,
        "mdwe": service.get("MemoryDenyWriteExecute", ["no"])[-1] == "yes",
        "families": [int(f) for f in families],
        "allow": sorted(allow),
        "errno": getattr(__import__("errno"), service.get("SystemCallErrorNumber", ["EPERM"])[-1]),
    }


def minimal_env(build: Build, home: Path) -> dict[str, str]:
    """What the service gets: no token, no dev environment."""
    return {
        "PATH": f"{build.venv}/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "NUMBA_CACHE_DIR": str(home / "numba-cache"),  # as the unit sets it (its checkout is read-only)
    }


def sandboxed(command: Sequence[str], unit: str = "reportbot.service") -> list[str]:
    return [sys.executable, "-c", SANDBOX, json.dumps(sandbox_policy(DEPLOY / unit)), *command]


def test_dependencies_work_under_the_units_seccomp_sandbox(build: Build, tmp_path: Path) -> None:
    """SystemCallFilter=@system-service and the rest of the unit's seccomp rules do not break numpy, numba, rjieba,
    jieba, OpenCC, sqlite3, zoneinfo, python-telegram-bot or asyncio networking (the sandbox is proven active too)."""
    python = build.venv / "bin" / "python"
    if not python.exists():
        pytest.fail(f"build-image.sh did not create {python}\n{build.log()}")
    proc = subprocess.run(
        sandboxed([str(python), "-c", DEPENDENCIES_WORKLOAD]),
        cwd=build.app,
        env=minimal_env(build, tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0 and "sandbox-ok" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-5000:]


@dataclass
class Cli:
    build: Build
    env: dict[str, str]

    def __call__(self, *args: str, ok: bool = True, unit: str = "reportbot.service") -> str:
        command = [str(self.build.venv / "bin" / "reportbot"), *args]
        proc = subprocess.run(
            sandboxed(command, unit), cwd=self.build.app, env=self.env, capture_output=True, text=True, timeout=240
        )
        if (proc.returncode == 0) != ok:
            plain = subprocess.run(
                command, cwd=self.build.app, env=self.env, capture_output=True, text=True, timeout=240
            )
            pytest.fail(
                f"`reportbot {' '.join(args)}` under {unit}'s sandbox exited {proc.returncode} "
                f"(without the sandbox: {plain.returncode}); expected {'0' if ok else 'an error'}\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
            )
        return proc.stdout


@pytest.fixture
def cli(build: Build, tmp_path: Path) -> Iterator[Cli]:
    if not (build.venv / "bin" / "reportbot").exists():
        pytest.fail(f"build-image.sh did not install reportbot\n{build.log()}")
    env = minimal_env(build, tmp_path)
    env.update(
        REPORTBOT_DB=str(tmp_path / "data" / "reports.db"), REPORTBOT_REPORTS_DIR=str(build.app / "data" / "reports")
    )
    yield Cli(build, env)


def test_cli_commands_the_deployment_relies_on(cli: Cli, tmp_path: Path) -> None:
    """ingest, stats (the HEALTHCHECK), backup (the timer) and restore (docs/deploy.md), each without a token,
    run from the app directory under the units' sandbox, with the exit codes the deployment depends on."""
    cli("--help")
    cli("ingest", str(cli.build.app / "data" / "reports"))
    cli("stats")
    json.loads(cli("stats", "--json"))

    backup = tmp_path / "backups" / "reports-20250101-033000.db"
    cli("backup", str(backup), unit="reportbot-backup.service")
    with sqlite3.connect(backup) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    stranger = tmp_path / "stranger.db"
    with sqlite3.connect(stranger) as db:
        db.execute("CREATE TABLE t (x)")
    cli("restore", str(stranger), ok=False)  # not a reportbot database: refused
    cli("stats")  # ... and the database is untouched
    cli("restore", str(backup))
    counts = json.loads(cli("stats", "--json"))
    assert counts, "stats --json after restore"

    # The healthcheck must notice a database that cannot be read.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "reports.db").write_bytes(b"this is not a database" * 100)
    cli.env["REPORTBOT_DB"] = str(broken / "reports.db")
    cli("stats", ok=False)


def test_converters_work_under_the_units_seccomp_sandbox(build: Build, tmp_path: Path) -> None:
    """LibreOffice (a .doc) and OCR (a photo), each a child process, read their files under the unit's seccomp
    rules, as the installed copy runs them (HOME and TMPDIR are a private directory, as with ProtectHome/PrivateTmp)."""
    from officefiles import libreoffice_export, photo_jpeg, word_document

    doc = libreoffice_export(word_document("标题", ["一、主要做法", "正文内容。"]), ["doc"])["doc"]
    (tmp_path / "a.doc").write_bytes(doc)
    (tmp_path / "a.jpg").write_bytes(photo_jpeg(["我们坚持四下基层，推动工作落实。"])[0])
    workload = (
        "import sys\nfrom retrieval.extract import read_report_file\nfrom pathlib import Path\n"
        "for name in ('a.doc', 'a.jpg'):\n    print(read_report_file(Path(sys.argv[1]) / name).lines)\n"
    )
    proc = subprocess.run(
        sandboxed([str(build.venv / "bin" / "python"), "-c", workload, str(tmp_path)]),
        cwd=build.app,
        env=minimal_env(build, tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert proc.stdout.splitlines() == [
        "('标题', '一、主要做法', '正文内容。')",
        "('我们坚持四下基层，推动工作落实。',)",
    ]


def test_the_installed_command_works_from_any_folder(build: Build, tmp_path: Path) -> None:
    """The dictionary and the bundled reports are package data (importlib.resources), not files read by a path
    relative to the checkout or the working folder; and --version names the installed version."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    reportbot = str(build.venv / "bin" / "reportbot")
    env = {**minimal_env(build, elsewhere), "REPORTBOT_DB": str(elsewhere / "reports.db")}
    version = subprocess.run([reportbot, "--version"], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("reportbot 0."), version.stdout + version.stderr
    # without a token, `run` seeds a new library with the bundled reports and answers what is typed in
    asked = subprocess.run(
        [reportbot, "run"],
        cwd=elsewhere,
        env=env,
        input="哪些报告提到四下基层\n",
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert asked.returncode == 0 and "份报告提到“四下基层”" in asked.stdout, asked.stdout + asked.stderr
