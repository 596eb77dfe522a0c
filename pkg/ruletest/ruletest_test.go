package ruletest

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./pkg/ruletest -update")
	require.Equal(t, string(want), string(got), "stale golden file %s; run go test ./pkg/ruletest -update", path)
}

func run(t *testing.T, opts Options, files ...string) (*Runner, *Report, string) {
	t.Helper()
	var out bytes.Buffer
	r := NewRunner(opts)
	rep := r.RunAll(context.Background(), files, &out)
	r.WriteSummary(&out, rep, true)
	return r, rep, out.String()
}

func TestRun(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		run        string
		wantFailed int
		wantCases  int
		wantGaps   int
	}{
		{name: "passing cases cover the catalogue", file: "testdata/pass.yaml", wantCases: 2, wantGaps: 0},
		{name: "a wrong expectation fails with a diff", file: "testdata/fail.yaml", wantCases: 1, wantFailed: 1, wantGaps: 4},
		{name: "run selects cases", file: "testdata/pass.yaml", run: "queue", wantCases: 1, wantGaps: 3},
		{name: "a broken file is a failed case", file: "testdata/bad.yaml", wantCases: 1, wantFailed: 1},
		{name: "vacuous expectations and unexpected Unknowns fail", file: "testdata/vacuous.yaml", wantCases: 3, wantFailed: 2, wantGaps: 5},
		{name: "a file without cases is a failed case", file: "testdata/empty.yaml", wantCases: 1, wantFailed: 1},
		{name: "query results in notation, one value per step", file: "testdata/queries/queries.yaml", wantCases: 1, wantGaps: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts Options
			if tc.run != "" {
				opts.Run = regexp.MustCompile(tc.run)
			}
			r, rep, out := run(t, opts, tc.file)
			assert.Len(t, rep.Cases, tc.wantCases, out)
			assert.Equal(t, tc.wantFailed, rep.Failed(), out)
			gaps := 0
			for _, c := range r.Coverages() {
				gaps += len(c.Gaps())
			}
			assert.Equal(t, tc.wantGaps, gaps, out)
		})
	}
}

func TestFailureOutput(t *testing.T) {
	_, _, out := run(t, Options{}, "testdata/fail.yaml")
	golden(t, "fail.out", []byte(out))
	_, _, out = run(t, Options{}, "testdata/vacuous.yaml", "testdata/empty.yaml")
	golden(t, "vacuous.out", []byte(out))
}

func TestDecodeErrorsHavePositions(t *testing.T) {
	_, err := ReadFile("testdata/bad.yaml")
	require.Error(t, err)
	golden(t, "bad.out", []byte(err.Error()+"\n"))
}

func TestJUnit(t *testing.T) {
	_, rep, _ := run(t, Options{}, "testdata/pass.yaml", "testdata/fail.yaml")
	for _, c := range rep.Cases {
		c.Duration = 0 // keep the golden file stable
	}
	var buf bytes.Buffer
	require.NoError(t, WriteJUnit(&buf, rep))
	golden(t, "junit.xml", buf.Bytes())
}

func TestCollectFindsRuleTestsOnly(t *testing.T) {
	files, err := Collect("testdata")
	require.NoError(t, err)
	assert.Equal(t, []string{"testdata/bad.yaml", "testdata/empty.yaml", "testdata/fail.yaml", "testdata/objects/files.yaml", "testdata/objects/inline.yaml", "testdata/pass.yaml", "testdata/queries/queries.yaml", "testdata/unknown.yaml", "testdata/vacuous.yaml"}, files)
}

func TestNotationSlicesRoundTrip(t *testing.T) {
	// Loading a series step by step must give the same samples as loading
	// it whole: render is the bridge.
	for _, in := range []string{"1 2 3", "0+5x3", "1 _x2 stale 4", "Inf -Inf 0.25", "1000000 0.001"} {
		t.Run(in, func(t *testing.T) {
			steps := mustNotation(t, in)
			again := mustNotation(t, render(steps))
			require.Len(t, again, len(steps))
			for i := range steps {
				assert.Equal(t, steps[i].Missing, again[i].Missing)
				assert.Equal(t, steps[i].Stale, again[i].Stale)
				if !steps[i].Missing && !steps[i].Stale {
					assert.Equal(t, steps[i].Value, again[i].Value) //nolint:testifylint // exact round trip wanted
				}
			}
		})
	}
}

// FuzzDecode checks that no rule-test file, however broken, panics the
// decoder.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"pass.yaml", "fail.yaml", "bad.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Decode(newFile("fuzz.yaml", data))
	})
}

// TestShippedRulesPruned runs the shipped catalogue's rule tests over
// objects trimmed to the fields the catalogue reads: every case that passes
// over whole objects must pass over what the daemon's watch caches keep.
func TestShippedRulesPruned(t *testing.T) {
	files, err := Collect("../../rules/tests")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	_, whole, _ := run(t, Options{}, files...)
	_, pruned, out := run(t, Options{Prune: true}, files...)
	require.Equal(t, 0, whole.Failed(), "the shipped rule tests must pass over whole objects")
	assert.Len(t, pruned.Cases, len(whole.Cases))
	assert.Equal(t, 0, pruned.Failed(), out)
}

// TestExtendExample runs the README's "write a reason" walkthrough: an
// overlay beside the shipped catalogue, with an edge from a shipped cause,
// tested without touching rules/.
func TestExtendExample(t *testing.T) {
	files, err := Collect("../../examples/extend/tests")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	declared := 0
	for _, name := range files {
		f, err := ReadFile(name)
		require.NoError(t, err)
		declared += len(f.Cases)
	}
	_, rep, out := run(t, Options{}, files...)
	assert.Equal(t, 0, rep.Failed(), out)
	assert.Len(t, rep.Cases, declared, out, "every case of the example runs")
}

// TestUnknownExemption: a case fails when a reason is Unknown unless it
// expects it, except for the outages the case's own input explains; no
// error of the expression itself is exempt, however it reads.
func TestUnknownExemption(t *testing.T) {
	tests := []struct {
		name string
		// fails is whether the case fails; want is a part of its output.
		fails bool
		want  string
	}{
		{name: "nothing scraped", want: "PASS"},
		{name: "window not yet covered", want: "PASS"},
		{name: "a scraped target without the series", fails: true, want: `QueueMisspelt is Unknown on Pod/ml/vllm-0: avg_over_time(vllm:num_requests_waitng[2m]) on target "ml/vllm-0": no data: no series matches`},
		{name: "a scraped target without the series, expected", want: "PASS"},
		{name: "a failed scrape", want: "PASS"},
		{name: "a field the object lacks", fails: true, want: "LabelMissing is Unknown on Pod/shop/web-0: no such key: labels"},
		{name: "a key that reads like an outage", fails: true, want: "OutageLookalike is Unknown on ConfigMap/shop/c: no such key: no data: not scraped yet"},
		{name: "a type error at run time", fails: true, want: "WidgetTooBig is Unknown on Widget/shop/w: no such overload"},
		{name: "a source the case marks failed", want: "PASS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, rep, out := run(t, Options{Run: regexp.MustCompile(": " + regexp.QuoteMeta(tc.name) + "$")}, "testdata/unknown.yaml")
			require.Len(t, rep.Cases, 1, out)
			assert.Equal(t, tc.fails, rep.Failed() == 1, out)
			assert.Contains(t, out, tc.want)
		})
	}
}

func TestExemptUnknown(t *testing.T) {
	tests := []struct {
		err    string
		exempt bool
	}{
		{`no data: Pod ml/vllm-0 is not scraped by any metrics source`, true},
		{`variable podRestarts: no data: Pod sai/x is not scraped by any metrics source`, true},
		{`x on target "ml/vllm-0": no data: not scraped yet`, true},
		{`no data: no pods to read metrics from`, true},
		{`variable r: window not yet covered: 2m of 15m scraped on target "a/b"`, true},
		{`target "a/b": scrape failed 0s ago: connection refused`, true},
		{`x on target "a/b": stale data: last scrape 10m ago`, true},
		{`source widgets cannot be read: context deadline exceeded`, true},
		{`source "widgets" cannot be read: forbidden`, true},
		{`x on target "a/b": no data: no series matches`, false},
		{`no such key: no data: not scraped yet`, false},
		{`no such key: window not yet covered: `, false},
		{`no such overload`, false},
		{`found no matching overload for '_>_' applied to '(string, int)'`, false},
		{`tick cost budget exhausted`, false},
		{`operation cancelled: actual cost limit exceeded`, false},
	}
	for _, tc := range tests {
		t.Run(tc.err, func(t *testing.T) {
			assert.Equal(t, tc.exempt, exemptUnknown(tc.err))
		})
	}
}

// TestMalformedObjects runs rule tests whose objects are malformed, inline
// (refused when the file is read, every problem at once) and in objects
// files (the case fails with every problem of the step); the output is
// golden. A case of well-formed objects without uids passes: the uid each
// is given is the same in every step, so the finding carries over.
func TestMalformedObjects(t *testing.T) {
	_, err := ReadFile("testdata/objects/inline.yaml")
	require.Error(t, err)
	require.ErrorIs(t, err, ErrInvalid)
	for _, want := range []string{
		`testdata/objects/inline.yaml:16:85: "HelmRelease/shop/web": lastTransitionTime "12" is not an RFC 3339 timestamp`,
		`testdata/objects/inline.yaml:17:7: object has no metadata`,
		`metadata.name "web_0" is not a valid Pod name`,
		`creationTimestamp "yesterday" is not an RFC 3339 timestamp`,
		`"Pod/shop/web-0": the same object as at testdata/objects/inline.yaml:29:7`,
		`"Pod/shop/web-1": uid "a" is also the uid of the object at testdata/objects/inline.yaml:29:7`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	golden(t, "objects/inline.out", []byte(err.Error()+"\n"))

	_, rep, out := run(t, Options{}, "testdata/objects/files.yaml")
	require.Len(t, rep.Cases, 2, out)
	assert.Equal(t, 1, rep.Failed(), out)
	assert.Contains(t, out, `testdata/objects/pods.objects.yaml:1:1: "Pod/shop/web-0": the same object as at testdata/objects/files.yaml:12:7`)
	assert.Contains(t, out, `testdata/objects/pods.objects.yaml:11:63: "Pod/shop/web-1": deletionTimestamp "2026-13-01T00:00:00Z" is not an RFC 3339 timestamp`)
	assert.True(t, rep.Cases[1].Passed(), out)
	golden(t, "objects/files.out", []byte(stripDurations(out)))
}

// stripDurations drops the timings from a run's output.
func stripDurations(s string) string {
	return regexp.MustCompile(` \([0-9.]+[µmn]?s\)`).ReplaceAllString(s, "")
}
