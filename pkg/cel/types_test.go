package cel_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/apischema"
	"statusd.io/statusd/pkg/cel"
)

// crdWidgets is a CustomResourceDefinition for the typed check of custom
// resources.
const crdWidgets = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {plural: widgets, kind: Widget}
  scope: Cluster
  versions:
  - name: v1
    served: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer}
              color: {type: string}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
              labelled:
                type: object
                x-kubernetes-preserve-unknown-fields: true
                properties:
                  known: {type: string}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  names: {plural: gadgets, kind: Gadget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

func TestTypedCheck(t *testing.T) {
	dir := t.TempDir()
	crdFile := filepath.Join(dir, "crd.yaml")
	require.NoError(t, os.WriteFile(crdFile, []byte(crdWidgets), 0o644))
	crds, err := apischema.LoadCRDs(crdFile)
	require.NoError(t, err)
	builtin, err := apischema.Builtin()
	require.NoError(t, err)
	schemas := apischema.Chain{crds, builtin}

	// Sources on lines 4 to 8, params on line 9, reasons from line 10.
	const head = "sources:\n  pods: {version: v1, resource: pods}\n  deploys: {group: apps, version: v1, resource: deployments}\n" +
		"  widgets: {group: example.com, version: v1, resource: widgets}\n  nodes: {version: v1, resource: nodes}\n" +
		"params: {limit: 3, grace: 5m, names: [a, b]}\nreasons:\n"
	r := func(subject, when string) string {
		return "- {name: R, subject: " + subject + ", summary: s, when: '" + when + "'}\n"
	}
	blockReason := func(subject, join string) string {
		return "- name: R\n  subject: " + subject + "\n  summary: s\n  when: \"true\"\n  suppresses: [{reason: P, join: " + join + "}]\n"
	}
	tests := []struct {
		name string
		body string
		want []string
	}{
		{
			name: "misspelt-field", body: r("deploys", `object.spec.replicaz > 1`),
			want: []string{`t.yaml:11:62: reason R: when: undefined field 'replicaz'; did you mean "replicas"?`},
		},
		{
			name: "misspelt-optional-field", body: r("deploys", `object.?spec.?replicaz.orValue(0) > 1`),
			want: []string{`t.yaml:11:64: reason R: when: undefined field 'replicaz'; did you mean "replicas"?`},
		},
		{
			name: "optional-select-lists-the-fields", body: r("widgets", `object.?qqqqqqq.orValue(1) == 1`),
			want: []string{`t.yaml:11:58: reason R: when: undefined field 'qqqqqqq'; the fields here are apiVersion, kind, metadata, spec`},
		},
		{
			name: "omitted-at-zero", body: r("deploys", `object.spec.replicas > object.status.availableReplicas`),
			want: []string{`t.yaml:11:87: warning: reason R: when: object.status.availableReplicas is optional: Kubernetes omits it when it is unset (an integer at 0, an empty string), and reading an absent field makes the reason Unknown; write object.status.?availableReplicas.orValue(0), or guard it with has(object.status.availableReplicas)`},
		},
		{name: "guarded-by-has", body: r("deploys", `has(object.status.availableReplicas) && object.status.availableReplicas < 1`)},
		{name: "guarded-by-optional", body: r("deploys", `object.status.?availableReplicas.orValue(0) < object.spec.replicas`)},
		{name: "defaulted-field-needs-no-guard", body: r("deploys", `object.spec.replicas > 1 && object.spec.template.spec.containers.exists(c, c.imagePullPolicy == "Always")`)},
		{
			name: "param-int-vs-string", body: r("deploys", `params.limit > "3"`),
			want: []string{`t.yaml:11:63: reason R: when: found no matching overload for '_>_' applied to '(int, string)'; both sides must have one type: convert one with int(), double(), string() or duration(), or compare with a value of the field's type`},
		},
		{name: "param-duration", body: r("pods", `now - timestamp(object.metadata.creationTimestamp) > params.grace`)},
		{name: "param-list", body: r("pods", `object.metadata.name in params.names`)},
		{
			name: "not-a-bool", body: r("deploys", `object.spec.replicas`),
			want: []string{`t.yaml:11:50: reason R: when must return bool, got int: a condition is a comparison or a test, such as x > 0, x == "y" or has(x)`},
		},
		{
			name: "lookup-is-typed", body: r("deploys", `cluster.inNamespace("pods", object.metadata.namespace).exists(p, p.status.phse == "Pending")`),
			want: []string{`t.yaml:11:124: reason R: when: undefined field 'phse'; did you mean "phase"?`},
		},
		{name: "lookup-optional-is-typed", body: r("pods", `cluster.lookup("nodes", "", object.spec.?nodeName.orValue("")).optMap(n, n.spec.?unschedulable.orValue(false)).orValue(false)`)},
		{name: "containers-and-init-containers-are-one-type", body: r("pods", `(object.spec.?initContainers.orValue([]) + object.spec.containers).exists(c, c.name == "x")`)},
		{
			name: "crd-typed", body: r("widgets", `object.spec.size > 1 && object.spec.colour == "red"`),
			want: []string{`t.yaml:11:86: reason R: when: undefined field 'colour'; did you mean "color"?`},
		},
		{
			// A variable is typed with the subject of the reasons reading
			// it, through other variables too.
			name: "variable-typed-by-its-readers",
			body: r("deploys", `variables.outer > 1`) + "variables:\n- {name: inner, expression: object.spec.replicaz}\n- {name: outer, expression: variables.inner}\n",
			want: []string{`t.yaml:13:41: variables.inner: undefined field 'replicaz'; did you mean "replicas"?`},
		},
		{
			// Read by reasons on pods and on Deployments, a variable may
			// branch on its object's kind: it stays dynamic.
			name: "variable-of-two-subjects-stays-dynamic",
			body: r("deploys", `variables.v == 1`) + "- {name: S, subject: pods, summary: s, when: 'variables.v == 1'}\nvariables:\n- {name: v, expression: object.spec.anything}\n",
		},
		{name: "crd-free-form-stays-dynamic", body: r("widgets", `object.spec.extra.anything == 1 && object.metadata.name != ""`)},
		// A subtree that lists some fields and preserves unknown ones may
		// hold any field: what it lists does not close it.
		{
			name: "crd-preserve-unknown-with-properties-stays-dynamic", body: r("widgets", `object.spec.labelled.known == "a" && object.spec.labelled.other == 1 && object.spec.colour == "red"`),
			want: []string{`t.yaml:11:134: reason R: when: undefined field 'colour'; did you mean "color"?`},
		},
		{
			name: "message-int-plus-string", body: "- {name: R, subject: pods, summary: s, when: \"true\", message: '\"restarts \" + object.status.containerStatuses[0].restartCount'}\n",
			want: []string{`t.yaml:11:76: reason R: message: found no matching overload for '_+_' applied to '(string, int)'; both sides must have one type: convert one with int(), double(), string() or duration(), or compare with a value of the field's type`},
		},
		{
			name: "same-node-from-a-deployment", body: blockReason("deploys", "sameNode") + "- {name: P, subject: pods, summary: s, when: 'true'}\n",
			want: []string{`t.yaml:15:16: reason R: suppresses[P].join: sameNode needs both subjects on a node, but the cause R's subject "deploys" (apps/v1/deployments) has no spec.nodeName, so the edge never matches; join on sameNamespace, sameOwner or a key expression instead`},
		},
		{name: "same-node-pod-and-node", body: blockReason("nodes", "sameNode") + "- {name: P, subject: pods, summary: s, when: 'true'}\n"},
		{
			name: "same-owner-on-cluster-scoped", body: blockReason("widgets", "sameOwner") + "- {name: P, subject: pods, summary: s, when: 'true'}\n",
			want: []string{`t.yaml:15:16: reason R: suppresses[P].join: sameOwner joins objects through their controller, but the cause R's subject "widgets" (example.com/v1/widgets) is cluster-scoped, so the edge never matches; join on cluster, sameSubject or a key expression instead`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := cel.Compile(parse(t, head+tt.body), cel.Options{Schemas: schemas})
			var got []string
			for _, e := range errs {
				// Unused declarations are not what these cases test.
				if e.Warning && strings.Contains(e.Msg, "is not used") {
					continue
				}
				got = append(got, e.Head())
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestDynamicSourceIsANote: a source whose objects cannot be typed stays
// dynamic, and lint says so with a note (not a warning, so that
// --fatal-warnings accepts it).
func TestDynamicSourceIsANote(t *testing.T) {
	dir := t.TempDir()
	crdFile := filepath.Join(dir, "crd.yaml")
	require.NoError(t, os.WriteFile(crdFile, []byte(crdWidgets), 0o644))
	crds, err := apischema.LoadCRDs(crdFile)
	require.NoError(t, err)
	tests := []struct {
		name, source, when, want string
	}{
		{
			name: "no-schema", source: "things: {group: example.com, version: v1, resource: things}", when: "object.spec.anything == 1",
			want: `t.yaml:4:19: note: source "things": no schema known for example.com/v1/things, so its objects stay dynamic and their fields are not checked; give lint its CustomResourceDefinition with --crd FILE, or a cluster with --kubeconfig`,
		},
		{
			// A CRD that preserves unknown fields at its root (typed with
			// apiVersion, kind and metadata only, as the API server
			// publishes it) has a spec and a status all the same.
			name: "root-preserves-unknown-fields", source: "gadgets: {group: example.com, version: v1, resource: gadgets}",
			when: `object.status.conditions.exists(c, c.type == "Ready") && object.spec.x == 1 && object.metadata.name != ""`,
			want: `t.yaml:4:20: note: source "gadgets": the schema of example.com/v1/gadgets preserves unknown fields at its top (x-kubernetes-preserve-unknown-fields), so its objects may have any field and stay dynamic; their fields are not checked`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, _, _ := strings.Cut(tt.source, ":")
			_, errs := cel.Compile(parse(t, "sources: {"+tt.source+"}\nreasons:\n"+
				"- {name: R, subject: "+name+", summary: s, when: '"+tt.when+"'}\n"), cel.Options{Schemas: crds})
			require.NoError(t, errs.Err())
			require.Len(t, errs, 1)
			assert.True(t, errs[0].Note)
			assert.Equal(t, tt.want, errs[0].Head())
		})
	}
}
