package rbac_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/rbac"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestManifest renders each testdata catalogue and compares it with its
// golden file, testdata/<name>.golden.yaml.
func TestManifest(t *testing.T) {
	tests := []struct {
		name string
		file string
		opts rbac.Options
	}{
		{name: "objects-defaults", file: "objects.yaml"},
		{name: "metrics", file: "metrics.yaml", opts: rbac.Options{ConfigMaps: []string{"statusd-catalog"}}},
		{name: "namespace-selector", file: "namespace-selector.yaml", opts: rbac.Options{
			Name: "diag", Namespace: "monitoring", Lease: "diag-leader", ConfigMaps: []string{"diag-rules"},
			Labels: map[string]string{"app.kubernetes.io/name": "statusd"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat, errs := catalog.Load(filepath.Join("testdata", tt.file))
			require.NoError(t, errs.Err())
			got, err := rbac.Manifest(cat, tt.opts)
			require.NoError(t, err)
			golden(t, filepath.Join("testdata", tt.name+".golden.yaml"), got)
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file: run go test ./pkg/rbac -update")
	assert.Equal(t, string(want), string(got), "stale golden file %s: run go test ./pkg/rbac -update and review the diff", path)
}

// TestClusterRules checks the properties the roles must have whatever the
// catalogue: reads only where a source reads, Events always, never Secrets.
func TestClusterRules(t *testing.T) {
	obj := func(group, resource string) catalog.Source {
		return catalog.Source{Group: group, Version: "v1", Resource: resource}
	}
	tests := []struct {
		name    string
		sources map[string]catalog.Source
		want    []rbacv1.PolicyRule
		wantErr []string // substrings; each must appear
	}{
		{
			name:    "no sources still publishes events",
			sources: nil,
			want:    []rbacv1.PolicyRule{eventsRule()},
		},
		{
			name:    "glob needs no namespaces",
			sources: map[string]catalog.Source{"p": {Version: "v1", Resource: "pods", Namespaces: catalog.Namespaces{Names: []string{"a-*"}}}},
			want:    []rbacv1.PolicyRule{eventsRule(), readRule("", "pods")},
		},
		{
			name:    "namespace selector needs namespaces",
			sources: map[string]catalog.Source{"p": {Version: "v1", Resource: "pods", Namespaces: catalog.Namespaces{Selector: "a=b"}}},
			want:    []rbacv1.PolicyRule{eventsRule(), readRule("", "namespaces", "pods")},
		},
		{
			name:    "metrics source reads pods",
			sources: map[string]catalog.Source{"m": {Metrics: &catalog.Scrape{Selector: "app=x", Port: catalog.IntOrString{Int: 80}}}},
			want:    []rbacv1.PolicyRule{eventsRule(), readRule("", "pods")},
		},
		{
			name:    "groups sorted and merged",
			sources: map[string]catalog.Source{"z": obj("z.io", "zs"), "b": obj("apps", "statefulsets"), "a": obj("apps", "deployments"), "c": obj("", "configmaps")},
			want:    []rbacv1.PolicyRule{readRule("", "configmaps"), eventsRule(), readRule("apps", "deployments", "statefulsets"), readRule("z.io", "zs")},
		},
		{
			name:    "secrets refused",
			sources: map[string]catalog.Source{"s": obj("", "secrets"), "p": obj("", "pods")},
			wantErr: []string{`source "s" (v1/secrets): statusd never reads Secrets`},
		},
		{
			name:    "every secret-reaching source named",
			sources: map[string]catalog.Source{"all": obj("", "*"), "any": obj("*", "things"), "s": obj("", "secrets")},
			wantErr: []string{`source "all" (v1/*)`, `source "any" (*/v1/things)`, `source "s" (v1/secrets)`},
		},
		{
			name:    "secrets in another group are another resource",
			sources: map[string]catalog.Source{"s": obj("example.io", "secrets")},
			want:    []rbacv1.PolicyRule{eventsRule(), readRule("example.io", "secrets")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rbac.ClusterRules(&catalog.Catalog{Sources: tt.sources})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, rbac.ErrSecrets)
				for _, w := range tt.wantErr {
					assert.Contains(t, err.Error(), w)
				}
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			for _, r := range got {
				for _, g := range r.APIGroups {
					if g == "" {
						assert.NotContains(t, r.Resources, "secrets")
					}
				}
			}
		})
	}
}

// TestRoleRules checks the namespaced rules are pinned to their names.
func TestRoleRules(t *testing.T) {
	tests := []struct {
		name string
		opts rbac.Options
		want []string // "resource verbs names", one per rule
	}{
		{name: "defaults grant no configmap", opts: rbac.Options{}, want: []string{
			"leases create []", "leases get,update [statusd]",
		}},
		{name: "named lease and configmap", opts: rbac.Options{Lease: "l", ConfigMaps: []string{"cm"}}, want: []string{
			"leases create []", "leases get,update [l]", "configmaps get,list,watch [cm]",
		}},
		{name: "catalogue and overlay configmaps in one rule", opts: rbac.Options{Lease: "l", ConfigMaps: []string{"cm", "", "overlay", "cm"}}, want: []string{
			"leases create []", "leases get,update [l]", "configmaps get,list,watch [cm,overlay]",
		}},
		{name: "only empty names grant no configmap", opts: rbac.Options{ConfigMaps: []string{""}}, want: []string{
			"leases create []", "leases get,update [statusd]",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range rbac.RoleRules(tt.opts) {
				got = append(got, strings.Join(r.Resources, ",")+" "+strings.Join(r.Verbs, ",")+" ["+strings.Join(r.ResourceNames, ",")+"]")
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func readRule(group string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: []string{group}, Resources: resources, Verbs: []string{"get", "list", "watch"}}
}

func eventsRule() rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch"}}
}
