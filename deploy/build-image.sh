#!/usr/bin/env bash
# Builds reportbot's application directory: a virtualenv with the project installed (no dev dependencies)
# next to the runtime data the bot reads (the bundled reports and the jieba dictionary).
#
# These are THE build steps. deploy/Dockerfile runs this script (`RUN ... deploy/build-image.sh`), CI runs it
# without a container engine (tests/test_deploy.py), and the systemd install in docs/deploy.md runs it in place.
#
# Settings (environment variables):
#   SRC_DIR  the repository checkout to build from       default: the checkout this script belongs to
#   APP_DIR  where the runtime files go (created)         default: /app
#   VENV     the virtualenv to create or update           default: $APP_DIR/.venv
#   PYTHON   the interpreter (>= 3.11) to create it with  default: python3
#   PIP_*    pip's own settings pass through (PIP_NO_CACHE_DIR, PIP_FIND_LINKS, PIP_INDEX_URL, ...)
#
# Examples:
#   APP_DIR=/tmp/rb/app VENV=/tmp/rb/venv deploy/build-image.sh    # CI, as an unprivileged user
#   sudo env APP_DIR=/opt/reportbot deploy/build-image.sh          # systemd install, in the checkout itself
#
# It needs no root and creates no users: it only writes APP_DIR, VENV and a temporary directory.
# Creating the `reportbot` user is a separate step (in the Dockerfile; by hand for systemd), because CI cannot.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC_DIR="$(cd "${SRC_DIR:-$here/..}" && pwd)"
APP_DIR="${APP_DIR:-/app}"
VENV="${VENV:-$APP_DIR/.venv}"
PYTHON="${PYTHON:-python3}"

say() { printf 'build-image: %s\n' "$*"; }
die() { printf 'build-image: error: %s\n' "$*" >&2; exit 1; }

[ -f "$SRC_DIR/pyproject.toml" ] || die "$SRC_DIR has no pyproject.toml (set SRC_DIR to the repository checkout)"
command -v "$PYTHON" >/dev/null 2>&1 || die "no Python interpreter '$PYTHON' (set PYTHON)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$PYTHON is $("$PYTHON" -V 2>&1); reportbot needs Python 3.11 or newer"

mkdir -p "$APP_DIR"
APP_DIR="$(cd "$APP_DIR" && pwd)"

# 1. Runtime data: the bundled corpus (the default REPORTBOT_REPORTS_DIR, data/reports) and the jieba domain
#    dictionary (data/dict.txt). The bot runs with APP_DIR as its working directory, so both are found there.
if [ "$SRC_DIR" != "$APP_DIR" ]; then
    say "copying runtime data from $SRC_DIR to $APP_DIR"
    mkdir -p "$APP_DIR/data"
    rm -rf "$APP_DIR/data/reports"
    cp -R "$SRC_DIR/data/reports" "$APP_DIR/data/reports"
    if [ -f "$SRC_DIR/data/dict.txt" ]; then
        cp "$SRC_DIR/data/dict.txt" "$APP_DIR/data/dict.txt"
    fi
    chmod -R a+rX "$APP_DIR/data"
else
    say "building in place in $APP_DIR"
fi
ls "$APP_DIR"/data/reports/*.txt >/dev/null 2>&1 || die "no reports in $APP_DIR/data/reports (the bundled corpus)"
[ -f "$APP_DIR/data/dict.txt" ] || die "no $APP_DIR/data/dict.txt (the jieba domain dictionary; the bot needs it)"

# 2. Stage the package sources in a temporary directory and install from there, so that setuptools' build/ and
#    *.egg-info never land in the checkout (which may be read-only, shared, or an engineer's work tree).
stage="$(mktemp -d "${TMPDIR:-/tmp}/reportbot-build.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
for item in pyproject.toml README.md LICENSE bot retrieval; do
    if [ -e "$SRC_DIR/$item" ]; then
        cp -R "$SRC_DIR/$item" "$stage/$item"
    fi
done
# the dictionary and the bundled reports go into the package too (retrieval/bundled), not a database beside them
mkdir -p "$stage/data"
cp "$SRC_DIR/data/dict.txt" "$stage/data/dict.txt"
cp -R "$SRC_DIR/data/reports" "$stage/data/reports"
find "$stage" -name __pycache__ -type d -prune -exec rm -rf {} +

# 3. The virtualenv: the project and its runtime dependencies only (no [test] or [bench] extras).
say "creating virtualenv $VENV with $("$PYTHON" -V 2>&1)"
"$PYTHON" -m venv "$VENV"
say "installing reportbot into $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$stage[fast]"  # numba: the compiled loops
"$VENV/bin/python" -m pip check

# 4. Prove the result runs: the console script starts and prints its help (no token or database needed).
say "checking that 'reportbot --help' runs"
(cd "$APP_DIR" && "$VENV/bin/reportbot" --help >/dev/null) \
    || die "'$VENV/bin/reportbot --help' failed"
say "done: $VENV/bin/reportbot (working directory $APP_DIR)"
