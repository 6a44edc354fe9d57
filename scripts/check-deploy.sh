#!/usr/bin/env bash
# Checks the deployment files without a cluster, a Docker engine or a helm binary:
#   - helm/switchboard: `helm lint` and `helm template` (default values, values-production.yaml
#     and a few overrides) through helm-python-sdk, which embeds Helm v4; the rendered manifests
#     are checked by scripts/check_manifests.py;
#   - deploy/prometheus-alerts.yml and deploy/prometheus.yml with promtool (Debian's
#     `prometheus` package);
#   - the Grafana dashboard, its provisioning and the OpenTelemetry collector config
#     (scripts/check_observability.py, metric names against docs/operations.md).
# Installs what is missing (python3-venv and prometheus from Debian, the two Python packages into
# a venv under ${XDG_CACHE_HOME:-~/.cache}/switchboard/deploy-venv); needs root or sudo only for
# apt-get. Idempotent, and prints nothing when every check passes.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${XDG_CACHE_HOME:-$HOME/.cache}/switchboard/deploy-venv"
# Bump to reinstall: the venv keeps a copy of this line.
PY_PACKAGES="helm-python-sdk==0.2.2 PyYAML==6.0.3"

die() { printf 'check-deploy.sh: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $* (install it yourself or run as root)"
  fi
}

# Runs a command, showing its output only when it fails.
quiet() {
  local out
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" >&2
    die "failed: $*"
  fi
}

apt_updated=0
install_packages() {
  if [ "$apt_updated" -eq 0 ]; then quiet as_root apt-get update -qq; apt_updated=1; fi
  quiet as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 \
    apt-get install -y -qq --no-install-recommends "$@"
}

ensure_venv() {
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.packages" 2>/dev/null)" = "$PY_PACKAGES" ] \
    && "$VENV/bin/python" -c 'import helm_python, yaml' 2>/dev/null; then
    return 0
  fi
  # pyenv/python.org builds have venv with ensurepip; Debian's python3 needs python3-venv.
  if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    install_packages python3 python3-venv
  fi
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  quiet python3 -m venv "$VENV"
  # shellcheck disable=SC2086 # PY_PACKAGES is a list
  quiet "$VENV/bin/pip" install --quiet --disable-pip-version-check $PY_PACKAGES
  printf '%s\n' "$PY_PACKAGES" >"$VENV/.packages"
}

ensure_promtool() {
  if command -v promtool >/dev/null; then return 0; fi
  # Debian's prometheus package ships promtool. Its postinst would start the Prometheus daemon
  # where services may start: a temporary policy-rc.d (exit 101) prevents that, unless the
  # machine already has one.
  local policy=/usr/sbin/policy-rc.d added=0
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy"
    added=1
  fi
  local status=0
  (install_packages prometheus) || status=$?
  if [ "$added" -eq 1 ]; then as_root rm -f "$policy"; fi
  [ "$status" -eq 0 ] || exit "$status"
  command -v promtool >/dev/null || die "the prometheus package did not provide promtool"
}

ensure_venv
ensure_promtool

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

"$VENV/bin/python" scripts/check_manifests.py
"$VENV/bin/python" scripts/check_observability.py "$stage"
quiet promtool check rules deploy/prometheus-alerts.yml
quiet promtool check config "$stage/etc/prometheus/prometheus.yml"
