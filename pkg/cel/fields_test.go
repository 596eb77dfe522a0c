package cel_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
)

// podsNodes declares pods and nodes, for look-ups between them.
const podsNodes = "sources: {pods: {version: v1, resource: pods}, nodes: {version: v1, resource: nodes}}\n"

func TestFields(t *testing.T) {
	tests := []struct {
		name string
		body string
		// want is each source's tree in prune's notation; a source left
		// out must read nothing ({}).
		want map[string]string
	}{
		{
			name: "a compared field is kept whole",
			body: pods + "reasons:\n" + reason("A", `object.status.phase == "Failed"`),
			want: map[string]string{"pods": `{status{phase*}}`},
		},
		{
			name: "has keeps the field present only",
			body: pods + "reasons:\n" + reason("A", `has(object.status.reason)`),
			want: map[string]string{"pods": `{status{reason}}`},
		},
		{
			name: "optional selects",
			body: pods + "reasons:\n" + reason("A", `object.?status.?podIP.orValue("") != ""`),
			want: map[string]string{"pods": `{status{podIP*}}`},
		},
		{
			name: "ranging over a list keeps what the loop reads of each element",
			body: pods + "reasons:\n" + reason("A", `object.spec.containers.exists(c, c.image.startsWith("x"))`),
			want: map[string]string{"pods": `{spec{containers~{image*}}}`},
		},
		{
			name: "ranging over a map keeps it whole",
			body: pods + "reasons:\n" + reason("A", `object.spec.nodeSelector.exists(k, v, k == "a")`),
			want: map[string]string{"pods": `{spec{nodeSelector~}}`},
		},
		{
			// A single variable may be a key or an element; comparing it
			// reads it whole.
			name: "a compared iteration variable",
			body: pods + "reasons:\n" + reason("A", `object.spec.nodeSelector.exists(k, k == "a")`),
			want: map[string]string{"pods": `{spec{nodeSelector*}}`},
		},
		{
			name: "two-variable comprehension over a list",
			body: pods + "reasons:\n" + reason("A", `object.spec.containers.exists(i, c, i == 0 && c.name == "a")`),
			want: map[string]string{"pods": `{spec{containers~{name*}}}`},
		},
		{
			name: "ranging over an element of a list keeps it whole",
			body: pods + "reasons:\n" + reason("A", `object.spec.a.exists(e, e.exists(k, k == "x"))`),
			want: map[string]string{"pods": `{spec{a*}}`},
		},
		{
			name: "conditions",
			body: pods + "reasons:\n" + reason("A", `conditions(object).exists(c, c.type == "Ready" && c.status != "True")`),
			want: map[string]string{"pods": `{status{conditions~{status*,type*}}}`},
		},
		{
			name: "filter, index and select",
			body: pods + "reasons:\n" + reason("A", `object.status.containerStatuses.filter(s, s.ready)[0].name == "a"`),
			want: map[string]string{"pods": `{status{containerStatuses~{name*,ready*}}}`},
		},
		{
			name: "map and join",
			body: pods + "reasons:\n" + reason("A", `object.spec.containers.map(c, c.name).join(",") != ""`),
			want: map[string]string{"pods": `{spec{containers~{name*}}}`},
		},
		{
			name: "sortBy",
			body: pods + "reasons:\n" + reason("A", `object.spec.containers.sortBy(c, c.name)[0].image == "x"`),
			want: map[string]string{"pods": `{spec{containers~{image*,name*}}}`},
		},
		{
			name: "optMap",
			body: pods + "reasons:\n" + reason("A", `object.?spec.?a.optMap(x, x.b).orValue("") == ""`),
			want: map[string]string{"pods": `{spec{a{b*}}}`},
		},
		{
			name: "literal index",
			body: pods + "reasons:\n" + reason("A", `object.spec.containers[0].name == "a" && object.spec["x"] == 1`),
			want: map[string]string{"pods": `{spec{containers{name*},x*}}`},
		},
		{
			name: "computed index reads the whole value",
			body: pods + "reasons:\n" + reason("A", `object.spec.a[object.spec.b] == 1`),
			want: map[string]string{"pods": `{spec{a*,b*}}`},
		},
		{
			name: "both branches of a conditional",
			body: pods + "reasons:\n" + reason("A", `(object.spec.x == 1 ? object.spec.a : object.spec.b).c == 2`),
			want: map[string]string{"pods": `{spec{a{c*},b{c*},x*}}`},
		},
		{
			name: "list literals and concatenation",
			body: pods + "reasons:\n" + reason("A", `([object.spec.a] + object.spec.b).exists(e, e.c == 1)`),
			want: map[string]string{"pods": `{spec{a{c*},b~{c*}}}`},
		},
		{
			name: "size keeps a map whole, a list's length",
			body: pods + "reasons:\n" + reason("A", `size(object.spec.containers) > 1 && object.spec.containers.filter(c, c.name == "a").size() == 1`),
			want: map[string]string{"pods": `{spec{containers~{name*}}}`},
		},
		{
			name: "size below a list level reads it whole",
			body: pods + "reasons:\n" + reason("A", `object.spec.containers.exists(c, c.size() > 1)`),
			want: map[string]string{"pods": `{spec{containers*}}`},
		},
		{
			name: "a map literal reads its values whole",
			body: pods + "reasons:\n" + reason("A", `{"a": object.spec.a}.a.b == 1`),
			want: map[string]string{"pods": `{spec{a*}}`},
		},
		{
			name: "look-ups read the source they name",
			body: podsNodes + "reasons:\n- {name: A, subject: nodes, summary: s, when: 'cluster.onNode(\"pods\", object.metadata.name).exists(p, p.status.phase == \"Failed\")'}\n",
			want: map[string]string{"nodes": `{metadata{name*}}`, "pods": `{status{phase*}}`},
		},
		{
			name: "the size of a look-up reads no object",
			body: podsNodes + "reasons:\n- {name: A, subject: nodes, summary: s, when: 'cluster.inNamespace(\"pods\", \"x\").size() > 0'}\n",
			want: map[string]string{"pods": `{}`},
		},
		{
			name: "lookup returns an optional object",
			body: podsNodes + "reasons:\n" + reason("A", `cluster.lookup("nodes", "", object.spec.nodeName).?status.?capacity.hasValue()`),
			want: map[string]string{"pods": `{spec{nodeName*}}`, "nodes": `{status{capacity}}`},
		},
		{
			name: "an object read whole",
			body: podsNodes + "reasons:\n" + reason("A", `cluster.objects("nodes").exists(n, n == object)`),
			want: map[string]string{"pods": `*`, "nodes": `*`},
		},
		{
			name: "a computed source name prunes nothing",
			body: podsNodes + "reasons:\n" + reason("A", `cluster.objects(object.spec.x).size() > 0`),
			want: map[string]string{"pods": `nil`, "nodes": `nil`},
		},
		{
			name: "message and since",
			body: pods + "reasons:\n- {name: A, subject: pods, summary: s, when: 'true', message: '\"x\" + object.status.message', grace: {for: 1m, since: 'timestamp(object.status.startTime)'}}\n",
			want: map[string]string{"pods": `{status{message*,startTime*}}`},
		},
		{
			name: "variables are read in the context of each subject",
			body: podsNodes + "variables:\n- {name: st, expression: 'object.status'}\n- {name: phase, expression: 'variables.st.phase'}\nreasons:\n" +
				reason("A", `variables.phase == "x"`) +
				"- {name: B, subject: nodes, summary: s, when: 'has(variables.st.capacity)'}\n",
			want: map[string]string{"pods": `{status{phase*}}`, "nodes": `{status{capacity}}`},
		},
		{
			name: "comprehension variables shadow object",
			body: pods + "reasons:\n" + reason("A", `[1].exists(object, object > 0)`),
			want: map[string]string{"pods": `{}`},
		},
		{
			name: "key joins are read on both subjects",
			body: podsNodes + "reasons:\n" +
				"- {name: A, subject: nodes, summary: s, when: 'true', suppresses: [{reason: B, join: {key: 'object.spec.providerID'}}]}\n" +
				reason("B", `true`),
			want: map[string]string{"pods": `{spec{providerID*}}`, "nodes": `{spec{providerID*}}`},
		},
		{
			// The joiner reads every source of the resources a join
			// needs, not only the edge's subjects.
			name: "sameVolumeClaim keeps pods' volumes and volumes' claimRef",
			body: "sources:\n  pods: {version: v1, resource: pods}\n  pvcs: {version: v1, resource: persistentvolumeclaims}\n" +
				"  pvs: {version: v1, resource: persistentvolumes}\n  otherPods: {version: v1, resource: pods, namespaces: x}\nreasons:\n" +
				"- {name: A, subject: pvcs, summary: s, when: 'true', suppresses: [{reason: B, join: sameVolumeClaim}]}\n" + reason("B", `true`) +
				"- {name: C, subject: otherPods, summary: s, when: 'true'}\n- {name: D, subject: pvs, summary: s, when: 'true'}\n",
			want: map[string]string{
				"pods":      `{spec{volumes{ephemeral,name*,persistentVolumeClaim{claimName*}}}}`,
				"otherPods": `{spec{volumes{ephemeral,name*,persistentVolumeClaim{claimName*}}}}`,
				"pvs":       `{spec{claimRef{name*,namespace*}}}`,
			},
		},
		{
			name: "sameService keeps slices' targetRefs and Services' selectors",
			body: "sources:\n  pods: {version: v1, resource: pods}\n  services: {version: v1, resource: services}\n" +
				"  slices: {group: discovery.k8s.io, version: v1, resource: endpointslices}\nreasons:\n" +
				"- {name: A, subject: services, summary: s, when: 'true', suppresses: [{reason: B, join: sameService}]}\n" + reason("B", `true`) +
				"- {name: C, subject: slices, summary: s, when: 'true'}\n",
			want: map[string]string{
				"services": `{spec{selector*}}`,
				"slices":   `{endpoints{targetRef{kind*,name*,namespace*,uid*}}}`,
			},
		},
		{
			name: "sameWorkload reads metadata only",
			body: "sources:\n  pods: {version: v1, resource: pods}\n  deploys: {group: apps, version: v1, resource: deployments}\n" +
				"  rs: {group: apps, version: v1, resource: replicasets}\nreasons:\n" +
				"- {name: A, subject: deploys, summary: s, when: 'true', suppresses: [{reason: B, join: sameWorkload}]}\n" + reason("B", `true`) +
				"- {name: C, subject: rs, summary: s, when: 'true'}\n",
			want: map[string]string{},
		},
		{
			name: "metrics reads kind and metadata only",
			body: "sources:\n  pods: {version: v1, resource: pods}\n  vllm: {metrics: {selector: app=vllm, port: 8000}}\nreasons:\n" +
				reason("A", `cluster.metrics(object).value("up") == 0.0`),
			want: map[string]string{"pods": `{}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compile(t, tt.body, cel.Options{})
			got := map[string]string{}
			for name, tree := range c.Fields() {
				got[name] = tree.String()
			}
			want := map[string]string{}
			for name, s := range c.Source.Sources {
				if !s.IsMetrics() {
					want[name] = `{}`
				}
			}
			for name, s := range tt.want {
				want[name] = s
			}
			assert.Equal(t, want, got)
		})
	}
}

// TestFieldsOfBrokenCatalogue: a catalogue that did not compile is never
// run, but should its fields be asked for, they prune nothing.
func TestFieldsOfBrokenCatalogue(t *testing.T) {
	c, errs := cel.Compile(parse(t, pods+"reasons:\n"+reason("A", `object.status.phase == `)), cel.Options{})
	require.Error(t, errs.Err())
	assert.Equal(t, map[string]string{"pods": "nil"}, func() map[string]string {
		out := map[string]string{}
		for name, tree := range c.Fields() {
			out[name] = tree.String()
		}
		return out
	}())
}

// BenchmarkFieldsShipped analyses the shipped catalogue, which every load
// and reload does once.
func BenchmarkFieldsShipped(b *testing.B) {
	src, errs := catalog.Load("../../rules")
	require.NoError(b, errs.Err())
	c, errs := cel.Compile(src, cel.Options{})
	require.NoError(b, errs.Err())
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Fields()
	}
}
