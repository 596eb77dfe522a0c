package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMalformedObjects runs eval, explain and test rules on snapshots and
// rule tests whose objects are malformed (a lastTransitionTime of 12, an
// object without metadata, the same object twice, an invalid name): each
// command fails with every problem at its position, quoted, and prints no
// finding, rather than starting a grace window in 1970. The whole output is
// golden.
func TestMalformedObjects(t *testing.T) {
	t.Chdir(filepath.Join("testdata", "objects"))
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // also required, so that -update cannot bless a regression
	}{
		{name: "eval-bad", args: []string{"eval", "--catalog", "catalog.yaml", "--snapshot", "snapshot.bad.yaml"}, wantCode: 1, want: []string{
			`snapshot.bad.yaml:10:58: "Pod/shop/web-1": lastTransitionTime "12" is not an RFC 3339 timestamp`,
			`snapshot.bad.yaml:11:3: object has no metadata`,
			`snapshot.bad.yaml:14:3: "Pod/shop/web-1": the same object as at snapshot.bad.yaml:5:3`,
			`metadata.name "Web\x1b[2J" is not a valid Pod name`,
		}},
		{name: "explain-bad", args: []string{"explain", "--catalog", "catalog.yaml", "--snapshot", "snapshot.bad.yaml", "Pod/shop/web-1"}, wantCode: 1, want: []string{
			`lastTransitionTime "12" is not an RFC 3339 timestamp`,
		}},
		{name: "eval-good", args: []string{"eval", "--catalog", "catalog.yaml", "--snapshot", "snapshot.good.yaml"}, want: []string{
			"note: 2 objects have no metadata.uid",
			"PodNotReady (fires in 5m0s)",
		}},
		{name: "test-inline-bad", args: []string{"test", "rules", "inline.bad.yaml"}, wantCode: 1, want: []string{
			`inline.bad.yaml:14:62: "Pod/shop/web-1": lastTransitionTime "12" is not an RFC 3339 timestamp`,
			`inline.bad.yaml:15:7: object has no metadata`,
			`inline.bad.yaml:25:24: "Pod/shop/web_2": metadata.name "web_2" is not a valid Pod name`,
		}},
		{name: "test-files-bad", args: []string{"test", "rules", "files.bad.yaml"}, wantCode: 1, want: []string{
			`pods.bad.yaml:1:1: "Pod/shop/web-1": the same object as at files.bad.yaml:9:7`,
			`pods.bad.yaml:10:63: "Pod/shop/web-3": creationTimestamp "1700000000" is not an RFC 3339 timestamp`,
		}},
		{name: "test-good", args: []string{"test", "rules", "good.test.yaml"}, want: []string{"1 passed, 0 failed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut)
			all := out.String() + errOut.String()
			require.Equal(t, tc.wantCode, code, all)
			for _, w := range tc.want {
				assert.Contains(t, all, w)
			}
			if tc.wantCode != 0 {
				assert.NotContains(t, all, "PodNotReady  warning", "a malformed object never makes a finding")
			}
			assert.NotContains(t, all, "\x1b", "a name is quoted, never written raw")
			lintGolden(t, filepath.Join("golden", tc.name+".txt"), normalizeDurations(all))
		})
	}
}

// normalizeDurations drops the timings rule tests print, so the output can
// be golden.
func normalizeDurations(s string) string {
	var b strings.Builder
	for line := range strings.SplitAfterSeq(s, "\n") {
		if i := strings.LastIndex(line, " ("); i >= 0 && strings.HasSuffix(strings.TrimSpace(line), "s)") && strings.HasPrefix(line, "PASS") {
			line = line[:i] + "\n"
		}
		b.WriteString(line)
	}
	return b.String()
}
