package emit_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"statusd.io/statusd/pkg/emit"
)

func TestMaterial(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want string
	}{
		{"plain words stay", "the uninstall is stuck", "the uninstall is stuck"},
		{"empty", "", ""},
		{"elapsed duration", "deleting for 23s, threshold 20s.", "deleting for #, threshold #."},
		{"human and Go durations", "for 1h5m (3d2h, 5m0s, 250ms, 1.5s)", "for # (#, #, #, #)"},
		{"RFC 3339 timestamp", "since 2026-12-05T12:47:25Z (at 2026-12-05T12:47:25.123456789Z)", "since # (at #)"},
		{"clock time and offset", "measured at 12:47:25Z, +0000 UTC", "measured at #, # UTC"},
		{"counts and ratios", "has 0/3 available replicas; 2 more", "has # available replicas; # more"},
		{"figures with units", "91% full, 10Gi of 11.5Gi, 1.2e+06 B/s, 2x", "# full, # of #, # B/s, #"},
		{"sign and decimals", "delta -3.25 and +7", "delta # and #"},
		{"key=value", "cpu=16 memory=32Gi nvidia.com/gpu=1", "cpu=# memory=# nvidia.com/gpu=#"},
		{"sentence punctuation", "restarted 5 times.", "restarted # times."},
		{"statefulset ordinals are names", "pod web-0 and web-1", "pod web-0 and web-1"},
		{"hashes are names", "pod vllm-6b9659bf6c-7q8cc, 7d9f8", "pod vllm-6b9659bf6c-7q8cc, 7d9f8"},
		{"versions with letters are names", "runs v1.29.3 on amd64", "runs v1.29.3 on amd64"},
		{"namespace/name", "pod iaas-addon-x1/vllm-0", "pod iaas-addon-x1/vllm-0"},
		{"reasons are words", "Ready=False InstallFailed: exit OOMKilled", "Ready=False InstallFailed: exit OOMKilled"},
		{"units alone are words", "MB/s s m", "MB/s s m"},
		{"unknown unit makes a name", "1st and 2nd try, 5xx", "1st and 2nd try, 5xx"},
		{"underscore makes a name", "x86_64 and 8_000", "x86_64 and 8_000"},
		{"quotes and brackets", `image "repo:5000/app:1.2" [3] {4}`, `image "repo:5000/app:1.2" [#] {#}`},
		{"unicode", "für 23s — Größe 5µs", "für # — Größe #"},
		{"white space kept", "a\t1\n b", "a\t#\n b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, emit.Material(tt.msg))
		})
	}
}

// TestMaterialSeparatesChangeFromDrift pairs messages as shipped reasons
// render them on two ticks: drift keeps the material form, a change of
// cause, pod, condition reason or direction alters it.
func TestMaterialSeparatesChangeFromDrift(t *testing.T) {
	tests := []struct {
		name     string
		a, b     string
		material bool
	}{
		{
			"elapsed time", "HelmRelease a/b has been deleting since 2026-12-05T12:47:05Z (23s, threshold 20s)",
			"HelmRelease a/b has been deleting since 2026-12-05T12:47:05Z (28s, threshold 20s)", false,
		},
		{
			"live queue figures", "has had at least 12 requests waiting for 5m (at 12:47:25Z: 14 waiting, 3 running; threshold 10)",
			"has had at least 11 requests waiting for 5m (at 12:47:55Z: 19 waiting, 4 running; threshold 10)", false,
		},
		{"restart count", "container app restarted 5 times, last exit Error (code 1)", "container app restarted 6 times, last exit Error (code 1)", false},
		{"failing pod", "its pod jupyterhub-5d8f7b-x2kq9 cannot be scheduled", "its pod jupyterhub-5d8f7b-p7vzt cannot be scheduled", true},
		{"statefulset pod", "pod web-0 is not ready", "pod web-1 is not ready", true},
		{"condition reason", "Ready=False InstallFailed: timeout", "Ready=False UpgradeFailed: timeout", true},
		{"exit reason", "last exit Error (code 1)", "last exit OOMKilled (code 137)", true},
		{"direction", "free space is above the threshold", "free space is below the threshold", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.material, emit.Material(tt.a) != emit.Material(tt.b))
		})
	}
}

func FuzzMaterial(f *testing.F) {
	for _, s := range []string{
		"deleting for 23s, threshold 20s.", "since 2026-12-05T12:47:25Z", "pod web-0", "91% of 10Gi", "für 5µs",
		"\xff\xfe 12", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		m := emit.Material(msg)
		if emit.Material(m) != m {
			t.Fatalf("Material is not idempotent: %q -> %q -> %q", msg, m, emit.Material(m))
		}
		if len(m) > len(msg) && utf8.ValidString(msg) {
			t.Fatalf("Material grew %q to %q", msg, m)
		}
		// Words are replaced whole; separators stay where they were.
		if strings.Count(m, " ") != strings.Count(msg, " ") {
			t.Fatalf("Material moved spaces: %q -> %q", msg, m)
		}
	})
}
