package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/daemon"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/loader"
	"statusd.io/statusd/pkg/prune"
	"statusd.io/statusd/pkg/reload"
	"statusd.io/statusd/pkg/snapshot"
)

// TestEvalExampleSnapshot runs the README's main job: the shipped
// catalogue on the example snapshot names each broken add-on's root cause.
func TestEvalExampleSnapshot(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"eval", "--snapshot", "../../examples/addons-snapshot.yaml", "-o", "json"}, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	var res engine.Result
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	roots := map[string]string{}
	for _, f := range res.Findings {
		if f.Root {
			roots[f.Subject.String()] = f.Reason
		}
	}
	assert.Equal(t, "AddonInstallFailed", roots["HelmRelease/iaas-addon-kuberay-p3m9/kuberay-p3m9"])
	assert.Equal(t, "AddonReleaseStuck", roots["HelmRelease/iaas-addon-jupyterhub-old1/jupyterhub-old1"])
	assert.Equal(t, "AddonPodsUnschedulable", roots["Pod/iaas-addon-model-provider-q8z1/vllm-qwen3-5-35b-0"])
	assert.NotContains(t, roots, "HelmRelease/iaas-addon-jupyterhub-x7k2/jupyterhub-x7k2", "the healthy add-on has no root cause")
	suppressed := res.Find("AddonPodsUnschedulable", "Pod/iaas-addon-kuberay-p3m9/kuberay-operator-7d9f8-xk2lp")
	require.NotNil(t, suppressed)
	assert.Equal(t, engine.Suppressed, suppressed.State)
	assert.Equal(t, "AddonInstallFailed", suppressed.SuppressedBy.Reason)
}

func TestEvalAndExplainOutputs(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{
			name: "table names root causes and suppressed symptoms",
			args: []string{"eval", "--snapshot", "../../examples/addons-snapshot.yaml"},
			want: []string{"SUBJECT", "ROOT CAUSE", "AddonInstallFailed", "AddonPodsUnschedulable←AddonInstallFailed", "Insufficient cpu"},
		},
		{
			name: "yaml output",
			args: []string{"eval", "--snapshot", "../../examples/addons-snapshot.yaml", "-o", "yaml"},
			want: []string{"catalog: ", "state: Suppressed", "suppressedBy:"},
		},
		{
			name: "explain prints the suppression chain",
			args: []string{"explain", "--snapshot", "../../examples/addons-snapshot.yaml", "Pod/iaas-addon-kuberay-p3m9/kuberay-operator-7d9f8-xk2lp"},
			want: []string{"AddonPodsUnschedulable", "=> true", "state: Suppressed", "suppressed: AddonPodsUnschedulable ← AddonInstallFailed on HelmRelease/iaas-addon-kuberay-p3m9/kuberay-p3m9"},
		},
		{name: "explain of an unknown subject fails", args: []string{"explain", "--snapshot", "../../examples/addons-snapshot.yaml", "Pod/x/y"}, wantCode: 1},
		{name: "missing snapshot flag", args: []string{"eval"}, wantCode: 1},
		{name: "bad output format", args: []string{"eval", "--snapshot", "../../examples/addons-snapshot.yaml", "-o", "xml"}, wantCode: 1},
		{name: "bad time", args: []string{"eval", "--snapshot", "../../examples/addons-snapshot.yaml", "--at", "yesterday"}, wantCode: 1},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut)
			require.Equal(t, tc.wantCode, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
			for _, w := range tc.want {
				assert.Contains(t, out.String(), w)
			}
		})
	}
}

func TestTestRulesCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{name: "passing file", args: []string{"test", "rules", "../../pkg/ruletest/testdata/pass.yaml"}, want: "2 passed, 0 failed"},
		{name: "coverage required and met", args: []string{"test", "rules", "--require-coverage", "../../pkg/ruletest/testdata/pass.yaml"}, want: "every reason and suppression edge is exercised"},
		{name: "coverage required and missed", args: []string{"test", "rules", "--require-coverage", "--run", "queue", "../../pkg/ruletest/testdata/pass.yaml"}, wantCode: 1, want: "coverage required: 3 gaps"},
		{name: "wrong expectation prints a diff and fails", args: []string{"test", "rules", "../../pkg/ruletest/testdata/fail.yaml"}, wantCode: 1, want: `- firing ReleaseBroken on HelmRelease/shop/web: no such finding`},
		{name: "no files", args: []string{"test", "rules"}, wantCode: 2},
		{name: "bad regexp", args: []string{"test", "rules", "--run", "(", "x"}, wantCode: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut)
			require.Equal(t, tc.wantCode, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
			assert.Contains(t, out.String()+errOut.String(), tc.want)
		})
	}
}

// TestTestRulesOutput: -o json and -o yaml print one document on stdout,
// the cases with their failures and each catalogue's coverage gaps; the
// exit code is the table's.
func TestTestRulesOutput(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		check    func(t *testing.T, doc testRulesReport)
	}{
		{name: "json, passing", args: []string{"test", "rules", "-o", "json", "../../pkg/ruletest/testdata/pass.yaml"}, check: func(t *testing.T, doc testRulesReport) {
			assert.Equal(t, 2, doc.Passed)
			assert.Zero(t, doc.Failed)
			require.Len(t, doc.Cases, 2)
			assert.True(t, doc.Cases[0].Passed)
			assert.Equal(t, "../../pkg/ruletest/testdata/pass.yaml", doc.Cases[0].File)
			require.Len(t, doc.Coverage, 1)
			assert.Empty(t, doc.Coverage[0].Gaps)
		}},
		{name: "yaml, failing", args: []string{"test", "rules", "-o", "yaml", "../../pkg/ruletest/testdata/fail.yaml"}, wantCode: 1, check: func(t *testing.T, doc testRulesReport) {
			assert.Positive(t, doc.Failed)
			var failures []string
			for _, c := range doc.Cases {
				failures = append(failures, c.Failures...)
			}
			assert.Contains(t, strings.Join(failures, "\n"), "- firing ReleaseBroken on HelmRelease/shop/web: no such finding")
		}},
		{name: "json, coverage required and missed", args: []string{"test", "rules", "-o", "json", "--require-coverage", "--run", "queue", "../../pkg/ruletest/testdata/pass.yaml"}, wantCode: 1, check: func(t *testing.T, doc testRulesReport) {
			require.Len(t, doc.Coverage, 1)
			assert.Len(t, doc.Coverage[0].Gaps, 3)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut)
			require.Equal(t, tc.wantCode, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
			var doc testRulesReport
			require.NoError(t, yaml.UnmarshalStrict(out.Bytes(), &doc), "stdout is one document:\n%s", out.String())
			tc.check(t, doc)
		})
	}
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run([]string{"test", "rules", "-o", "xml", "../../pkg/ruletest/testdata/pass.yaml"}, &out, &errOut))
	assert.Contains(t, errOut.String(), `-o "xml": want table, json or yaml`)
}

func TestTestRulesWritesJUnit(t *testing.T) {
	path := t.TempDir() + "/junit.xml"
	var out, errOut bytes.Buffer
	code := run([]string{"test", "rules", "--junit", path, "../../pkg/ruletest/testdata/fail.yaml"}, &out, &errOut)
	require.Equal(t, 1, code)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(data), `<testcase name="wrong expectation"`)
	assert.Contains(t, string(data), `<failure message="step 1 (at 0s):"`)
}

// TestExplainAgainstAServer asks a running daemon's /explain endpoint, the
// way an operator does with statusd explain --server.
func TestExplainAgainstAServer(t *testing.T) {
	var errOut bytes.Buffer
	var f snapshotFlags
	f.snapshot, f.output = "../../examples/addons-snapshot.yaml", "table"
	cat, snap, ok := f.load(&errOut)
	require.True(t, ok, errOut.String())
	d, err := daemon.New(daemon.Options{
		Sources: fixedSources{snap}, Publisher: nopPublisher{},
		Catalogs: reload.NewStatic(&loader.Result{Catalog: cat, Origin: "test"}),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	require.Eventually(t, func() bool { res, _ := d.Last(); return res != nil }, 10*time.Second, 10*time.Millisecond)
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()

	var out bytes.Buffer
	code := run([]string{"explain", "--server", srv.URL, "Pod/iaas-addon-kuberay-p3m9/kuberay-operator-7d9f8-xk2lp"}, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	assert.Contains(t, out.String(), "suppressed: AddonPodsUnschedulable ← AddonInstallFailed")

	out.Reset()
	errOut.Reset()
	code = run([]string{"explain", "--server", srv.URL, "Pod/nowhere/nothing"}, &out, &errOut)
	require.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "404 Not Found")
}

// fixedSources serves one snapshot at every tick.
type fixedSources struct{ snap *snapshot.Snapshot }

func (f fixedSources) Apply(*catalog.Catalog, map[string]*prune.Tree) error { return nil }
func (f fixedSources) Snapshot(time.Time) *snapshot.Snapshot                { return f.snap }
func (f fixedSources) Changed() <-chan struct{}                             { return nil }

func (f fixedSources) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

type nopPublisher struct{}

func (nopPublisher) Publish(*engine.Result)                             {}
func (nopPublisher) Restore(context.Context) ([]engine.Restored, error) { return nil, nil }
func (nopPublisher) Forget()                                            {}
func (nopPublisher) Drain(context.Context) error                        { return nil }

func (nopPublisher) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// TestLintWarnsAboutUntestedReasons checks lint's rule-test coverage: the
// passing tests cover the test catalogue; the failing file covers nothing,
// so every reason and edge is reported, at its declaration.
func TestLintWarnsAboutUntestedReasons(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
		dont     []string
	}{
		{
			name: "covered",
			args: []string{"lint", "rules", "--tests", "../../pkg/ruletest/testdata/pass.yaml", "../../pkg/ruletest/testdata/catalog.yaml"},
			dont: []string{"rule tests:"},
		},
		{
			name:     "uncovered reasons are warnings at their declarations",
			args:     []string{"lint", "rules", "--fatal-warnings", "--tests", "../../pkg/ruletest/testdata/fail.yaml", "../../pkg/ruletest/testdata/catalog.yaml"},
			wantCode: 3,
			want: []string{
				"catalog.yaml:12:3: warning: reason ReleaseBroken: rule tests: no case where it fires",
				"catalog.yaml:19:5: warning: reason ReleaseBroken: rule tests: edge ReleaseBroken → PodPending (sameNamespace): no case where the cause suppresses the symptom",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut)
			require.Equal(t, tc.wantCode, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
			for _, w := range tc.want {
				assert.Contains(t, out.String(), w)
			}
			for _, d := range tc.dont {
				assert.NotContains(t, out.String(), d)
			}
		})
	}
}
