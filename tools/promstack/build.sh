#!/usr/bin/env bash
# Builds the real Prometheus server and Alertmanager that statusd's Prometheus
# source and Alertmanager delivery are tested against (internal/promstack).
#
# Usage: tools/promstack/build.sh   (normally through `make promstack`)
#
# Output goes to $STATUSD_PROMSTACK_BIN, default <repo>/bin/promstack. Each
# server is built by `go install module/cmd@version`, that is with the
# module's own go.mod exactly as released, so none of their dependencies enter
# statusd's go.mod. A stamp file keyed by this script (which pins both
# versions) and the Go version makes a second run a no-op.
#
# Cold, Prometheus takes about 8.5 minutes on two idle cores and Alertmanager
# under one once the module cache is warm. Builds run with -p 2 (override with
# PROMSTACK_BUILD_P) because the machines this runs on are small and shared.
#
# Alertmanager stays at v0.31.1: from v0.32 on, its module does not build
# with go install (its UI is embedded from assets the module does not ship),
# and v0.31 speaks the same v2 API.
set -euo pipefail

PROMETHEUS_VERSION=v0.316.0
ALERTMANAGER_VERSION=v0.31.1

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${STATUSD_PROMSTACK_BIN:-$root/bin/promstack}
jobs=${PROMSTACK_BUILD_P:-2}
bins=(prometheus alertmanager)

mkdir -p "$out"
out=$(cd "$out" && pwd)

key=$(
	{
		cat "$here/build.sh" "$here/../stampedbuild.sh"
		go version
		go env GOOS GOARCH
	} | sha256sum | cut -d' ' -f1
)
# shellcheck source=tools/stampedbuild.sh
source "$here/../stampedbuild.sh"
stamped_begin promstack "$out" "$key" "${bins[@]}"

export CGO_ENABLED=0
export GOWORK=off
# go install pkg@version ignores the surrounding module; this keeps a
# GOFLAGS=-mod=vendor or similar from the caller's environment out of it.
export GOFLAGS=

# The release builds stamp the version; without it both report an empty one.
stampver() { echo "-s -w -X github.com/prometheus/common/version.Version=${1#v}"; }

echo "promstack: building alertmanager $ALERTMANAGER_VERSION into $out"
GOBIN="$stage" go install -p "$jobs" -trimpath -ldflags "$(stampver "$ALERTMANAGER_VERSION")" \
	"github.com/prometheus/alertmanager/cmd/alertmanager@$ALERTMANAGER_VERSION"
echo "promstack: building prometheus $PROMETHEUS_VERSION (about 8 minutes when the Go build cache is cold)"
GOBIN="$stage" go install -p "$jobs" -trimpath -ldflags "$(stampver "$PROMETHEUS_VERSION")" \
	"github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION"

stamped_end
