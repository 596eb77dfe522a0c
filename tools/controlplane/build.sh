#!/usr/bin/env bash
# Builds the local control plane that every API-server test runs against:
# etcd, kube-apiserver, kube-controller-manager and kube-scheduler from this
# module (pinned by its go.sum), and kwok from its own released module.
#
# Usage: tools/controlplane/build.sh   (normally through `make testenv`)
#
# Output goes to $STATUSD_TESTENV_BIN, default <repo>/bin/testenv. A stamp file
# keyed by everything that decides the result (go.mod, go.sum, this script,
# the etcd main package, the Go version) makes a second run a no-op; when it
# does rebuild, the Go build cache makes that take seconds, not minutes.
#
# Needs only Go. Builds run with -p 2 (override with TESTENV_BUILD_P) because
# the machines this runs on are small and shared.
set -euo pipefail

K8S_VERSION=v1.36.3
K8S_MINOR=36
KWOK_VERSION=v0.8.0

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${STATUSD_TESTENV_BIN:-$root/bin/testenv}
jobs=${TESTENV_BUILD_P:-2}
bins=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
stages=kwok-stages.yaml

mkdir -p "$out"
out=$(cd "$out" && pwd)

key=$(
	cd "$here"
	{
		cat go.mod go.sum build.sh ../stampedbuild.sh etcd/main.go kwok/*.yaml
		go version
		go env GOOS GOARCH
	} | sha256sum | cut -d' ' -f1
)
# shellcheck source=tools/stampedbuild.sh
source "$here/../stampedbuild.sh"
stamped_begin testenv "$out" "$key" "${bins[@]}" "$stages"

# Static binaries: a fresh machine may have no C compiler, and the result
# should not depend on whether it has one.
export CGO_ENABLED=0
# This module stands alone even if someone adds a go.work at the root.
export GOWORK=off

ldflags="-s -w"
ldflags+=" -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
ldflags+=" -X k8s.io/component-base/version.gitMinor=$K8S_MINOR"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"

echo "testenv: building etcd and Kubernetes $K8S_VERSION into $out (several minutes when the Go build cache is cold)"
(
	cd "$here"
	go build -mod=readonly -buildvcs=false -p "$jobs" -trimpath -ldflags "$ldflags" -o "$stage/" \
		./etcd \
		k8s.io/kubernetes/cmd/kube-apiserver \
		k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler
)

echo "testenv: building kwok $KWOK_VERSION"
# `go install pkg@version` builds kwok with its own go.mod, exactly as
# released, so its dependencies cannot drift the Kubernetes build above.
GOBIN="$stage" go install -p "$jobs" -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"

# internal/testenv passes these to kwok with --config; next to the binaries,
# a bin directory (also one restored from a CI cache) is complete on its own.
(
	cd "$here/kwok"
	for f in *.yaml; do
		echo "# From sigs.k8s.io/kwok@$KWOK_VERSION kustomize/stage, via tools/controlplane/kwok/$f"
		cat "$f"
		echo "---"
	done
) >"$stage/$stages"

stamped_end
