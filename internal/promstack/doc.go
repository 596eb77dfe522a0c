// Package promstack starts a real Prometheus server and real Alertmanagers
// on 127.0.0.1 for tests of statusd's Prometheus source and Alertmanager
// delivery, with the pieces around them a test needs: an exporter that
// Prometheus scrapes, whose series the test sets, and a webhook receiver
// that records what Alertmanager would have paged someone with.
//
// The binaries are built by tools/promstack/build.sh (make promstack) into
// bin/promstack, or $STATUSD_PROMSTACK_BIN. A test that finds them missing
// fails with that hint rather than skipping: the integration is the point.
//
// Every server runs in its own temporary directory and process group, with
// PR_SET_PDEATHSIG, and is stopped (SIGTERM, then SIGKILL) by the test's
// cleanup, so neither a failed test nor a killed test binary leaves one
// running.
package promstack
