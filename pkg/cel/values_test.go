package cel

import (
	"context"
	"testing"
	"time"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
)

// TestLookupThroughOptional pins the round trip of a look-up's list through
// an optional. cel-go unwraps an optional reached through a field or index
// with Value and converts the result back with the type adapter; a look-up
// list whose Value was the snapshot's own objects failed there with
// "unsupported conversion to ref.Val", making such reasons Unknown.
func TestLookupThroughOptional(t *testing.T) {
	cases := []struct{ name, when string }{
		{"optMap then filter", `cluster.lookup("deployments", "ns", "web").optMap(d, cluster.withLabels("pods", "ns", "app=web")).orValue([]).filter(p, p.metadata.name == "web-1").size() == 1`},
		{"optional of a look-up, then index", `optional.of(cluster.inNamespace("pods", "ns")).orValue([])[0].metadata.name == "web-1"`},
		{"optional index of a look-up", `cluster.inNamespace("pods", "ns")[?0].optMap(p, p.metadata.name).orValue("") == "web-1"`},
	}
	src := "apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: t, version: \"1\"}\n" +
		"sources:\n  pods: {version: v1, resource: pods}\n  deployments: {group: apps, version: v1, resource: deployments}\n" +
		"reasons:\n"
	for i, tc := range cases {
		src += "- name: R" + string(rune('A'+i)) + "\n  subject: deployments\n  summary: s\n  when: '" + tc.when + "'\n"
	}
	parsed, errs := catalog.Parse(catalog.NewFile("t.yaml", []byte(src)))
	if err := errs.Err(); err != nil {
		t.Fatalf("parse: %v", err)
	}
	c, errs := Compile(parsed, Options{})
	if err := errs.Err(); err != nil {
		t.Fatalf("compile: %v", err)
	}
	b := snapshot.NewBuilder(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), snapshot.Cluster{Version: "v1.36.3"})
	dep := snapshot.NewObject(map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "ns", "uid": "d1"},
	})
	b.Add("deployments", dep)
	b.Add("pods", snapshot.NewObject(map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "web-1", "namespace": "ns", "uid": "p1", "labels": map[string]any{"app": "web"}},
	}))
	ev := c.NewEvaluator(context.Background(), b.Build())
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := ev.When(c.Reason("R"+string(rune('A'+i))), dep)
			if res.Outcome != True {
				t.Fatalf("outcome %s (%v), want true", res.Outcome, res.Err)
			}
		})
	}
}
