package cel_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/apischema"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
)

// header is the first three lines of every inline catalogue.
const header = "apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: t, version: \"1\"}\n"

// pods declares the pods source on line 4.
const pods = "sources: {pods: {version: v1, resource: pods}}\n"

// parse parses an inline catalogue called t.yaml, failing on decode errors:
// these tests are about what the compiler finds.
func parse(t testing.TB, body string) *catalog.Catalog {
	t.Helper()
	src, errs := catalog.Parse(catalog.NewFile("t.yaml", []byte(header+body)))
	require.NoError(t, errs.Err(), "the catalogue must decode")
	return src
}

// compile compiles an inline catalogue, failing on any error; warnings are
// allowed.
//
// The objects these tests evaluate are partial, so the catalogue is
// compiled untyped unless opts names schemas: the typed check has tests of
// its own (types_test.go).
func compile(t testing.TB, body string, opts cel.Options) *cel.Catalog {
	t.Helper()
	if opts.Schemas == nil {
		opts.Schemas = apischema.Chain{}
	}
	c, errs := cel.Compile(parse(t, body), opts)
	require.NoError(t, errs.Err(), "the catalogue must compile")
	return c
}

// fakeCPU is a CPU clock that advances by step at every reading.
func fakeCPU(step time.Duration) cel.CPUClock {
	var now time.Duration
	return func() time.Duration {
		now += step
		return now
	}
}

// heads returns the one-line form of each finding, or nil.
func heads(errs catalog.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Head())
	}
	return out
}

// reason writes a one-line reason over pods with the given when.
func reason(name, when string) string {
	return "- {name: " + name + ", subject: pods, summary: s, when: '" + when + "'}\n"
}

func TestCompile(t *testing.T) {
	quadratic := `cluster.objects("pods").all(p, cluster.objects("pods").all(q, p.metadata.name != "" && q.metadata.name != ""))`
	tests := []struct {
		name string
		body string
		opts cel.Options
		want []string
	}{
		{
			name: "clean",
			body: pods + "params: {stuck: 10m}\nvariables:\n- {name: ready, expression: 'conditions(object).exists(c, c.type == \"Ready\" && c.status == \"True\")'}\nreasons:\n" +
				reason("A", `!variables.ready && now - timestamp(object.metadata.creationTimestamp) > params.stuck`),
		},
		{
			name: "type-error",
			body: pods + "reasons:\n" + reason("A", `object.status.restartCount > 5 + "x"`),
			want: []string{`t.yaml:6:78: reason A: when: found no matching overload for '_+_' applied to '(int, string)'`},
		},
		{
			name: "syntax-error",
			body: pods + "reasons:\n- {name: A, subject: pods, when: 'object.x ==', message: '\"a\" + '}\n",
			want: []string{
				`t.yaml:6:46: reason A: when: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}`,
				`t.yaml:6:65: reason A: message: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}`,
			},
		},
		{
			name: "undeclared-identifier",
			body: pods + "reasons:\n" + reason("A", `pods.size() > 0`),
			want: []string{`t.yaml:6:47: reason A: when: undeclared reference to 'pods'`},
		},
		{
			name: "when-not-bool",
			body: pods + "reasons:\n" + reason("A", `1 + 2`),
			want: []string{`t.yaml:6:47: reason A: when must return bool, got int`},
		},
		{
			name: "when-typed-is-checked-at-load",
			body: pods + "reasons:\n" + reason("A", `object.spec.paused`),
			want: []string{`t.yaml:6:59: reason A: when: undefined field 'paused'; the fields here are activeDeadlineSeconds, affinity, automountServiceAccountToken, containers, dnsConfig, dnsPolicy, enableServiceLinks, ephemeralContainers, hostAliases, hostIPC, hostNetwork, hostPID, ...`},
		},
		{
			name: "message-not-string",
			body: pods + "reasons:\n- {name: A, subject: pods, when: 'true', message: 'object.status.restartCount + 1'}\n",
			want: []string{`t.yaml:6:52: reason A: message must return string, got int`},
		},
		{
			name: "key-join-not-string",
			body: pods + "reasons:\n- {name: A, subject: pods, summary: s, when: 'true', suppresses: [{reason: B, join: {key: 'object.metadata.generation + 1'}}]}\n" + reason("B", "true"),
			want: []string{`t.yaml:6:92: reason A: suppresses[B].join.key must return string, got int`},
		},
		{
			name: "unknown-param",
			body: "params: {stuck: 5m}\n" + pods + "reasons:\n" + reason("A", `now - timestamp(object.metadata.creationTimestamp) > params.stuk`),
			want: []string{
				`t.yaml:4:17: warning: param "stuck" is not used`,
				`t.yaml:7:107: reason A: when: unknown param "stuk"; declared: stuck`,
			},
		},
		{
			name: "unknown-variable",
			body: pods + "reasons:\n" + reason("A", `variables.ready`),
			want: []string{`t.yaml:6:57: reason A: when: unknown variable "ready"`},
		},
		{
			name: "unknown-source",
			body: pods + "reasons:\n" + reason("A", `cluster.inNamespace("pod", object.metadata.namespace).size() > 1`),
			want: []string{`t.yaml:6:67: reason A: when: unknown source "pod"; declared: pods`},
		},
		{
			name: "unknown-source-in-message",
			body: pods + "reasons:\n- name: A\n  subject: pods\n  when: 'true'\n  message: |\n    \"pods: \" +\n      string(cluster.objects(\"pdos\").size())\n",
			want: []string{`t.yaml:11:30: reason A: message: unknown source "pdos"; declared: pods`},
		},
		{
			name: "metrics-source-read-as-objects",
			body: "sources: {pods: {version: v1, resource: pods}, vllm: {metrics: {selector: app=vllm, port: 8000}}}\nreasons:\n" + reason("A", `cluster.objects("vllm").size() > 1`),
			want: []string{
				`t.yaml:4:54: warning: metrics source "vllm" is scraped but no expression reads metrics`,
				`t.yaml:6:63: reason A: when: source "vllm" is a metrics source; read it with cluster.metrics(pod)`,
			},
		},
		{
			name: "variables-read-later-variables",
			body: pods + "variables:\n- {name: a, expression: 'variables.b'}\n- {name: b, expression: 'true'}\n- {name: c, expression: 'variables.c'}\nreasons:\n" + reason("A", `variables.a && variables.c`),
			want: []string{
				`t.yaml:6:36: variable "a" reads variable "b", which is not declared before it`,
				`t.yaml:8:36: variable "c" reads variable "c", which is not declared before it`,
			},
		},
		{
			name: "variable-type-error",
			body: pods + "variables:\n- {name: v, expression: '1 + \"a\"'}\nreasons:\n" + reason("A", `variables.v == 1`),
			want: []string{`t.yaml:6:28: variables.v: found no matching overload for '_+_' applied to '(int, string)'`},
		},
		{
			name: "quadratic-refused",
			body: pods + "reasons:\n" + reason("A", quadratic),
			want: []string{`t.yaml:6:47: reason A: when: estimated cost 50000600003 exceeds the limit 10000000: scanning a whole source per subject, or a scan inside a scan, costs too much in a large cluster; use an indexed look-up (cluster.inNamespace, ownedBy, onNode, withLabels, lookup) instead`},
		},
		{
			name: "quadratic-passes-with-small-hint",
			body: pods + "reasons:\n" + reason("A", quadratic),
			opts: cel.Options{SourceSizeHint: 10},
		},
		{
			name: "cost-limit-is-configurable",
			body: pods + "reasons:\n" + reason("A", `cluster.objects("pods").exists(p, p.metadata.name == "x")`),
			opts: cel.Options{CostLimit: 500_000},
			want: []string{`t.yaml:6:47: reason A: when: estimated cost 600003 exceeds the limit 500000: scanning a whole source per subject, or a scan inside a scan, costs too much in a large cluster; use an indexed look-up (cluster.inNamespace, ownedBy, onNode, withLabels, lookup) instead`},
		},
		{
			name: "cost-near-limit",
			body: pods + "reasons:\n" + reason("A", `cluster.objects("pods").exists(p, p.metadata.name == "x")`),
			opts: cel.Options{CostLimit: 1_000_000},
			want: []string{
				`t.yaml:6:47: warning: reason A: when: estimated cost 600003 is near the limit 1000000`,
				`t.yaml:6:62: warning: reason A: when scans the pods objects of cluster.objects("pods", ...) for every pods subject (estimated cost 600003 per subject): the work grows with the square of a namespace's size; use an indexed look-up instead: cluster.lookup("pods", namespace, name) for one object, cluster.ownedBy("pods", uid) for an owner's, cluster.onNode("pods", node) for a node's, or make the namespace the subject`,
			},
		},
		{
			name: "unused-declarations",
			body: "params: {x: 1, g: 5m, i: 30s}\nsources: {pods: {version: v1, resource: pods}, nodes: {version: v1, resource: nodes}, vllm: {metrics: {selector: a=b, port: 80, interval: i}}}\n" +
				"variables:\n- {name: v, expression: 'true'}\nreasons:\n- {name: A, subject: pods, summary: s, when: 'true', grace: g}\n",
			want: []string{
				`t.yaml:4:13: warning: param "x" is not used`,
				`t.yaml:5:55: warning: source "nodes" is not used by any reason`,
				`t.yaml:5:93: warning: metrics source "vllm" is scraped but no expression reads metrics`,
				`t.yaml:7:3: warning: variable "v" is not used`,
			},
		},
		{
			name: "used-through-lookups-and-variables",
			body: "params: {x: 1}\nsources: {pods: {version: v1, resource: pods}, nodes: {version: v1, resource: nodes}, vllm: {metrics: {selector: a=b, port: 80}}}\n" +
				"variables:\n- {name: v, expression: 'cluster.lookup(\"nodes\", \"\", object.spec.?nodeName.orValue(\"\")).hasValue() && params.x > 0'}\n" +
				"reasons:\n" + reason("A", `variables.v && metrics.value("up") > 0`),
		},
		{
			name: "cycle-of-two",
			body: pods + "reasons:\n" +
				"- {name: A, subject: pods, summary: s, when: 'true', suppresses: [{reason: B, join: sameSubject}]}\n" +
				"- {name: B, subject: pods, summary: s, when: 'true', suppresses: [{reason: A, join: sameSubject}]}\n",
			want: []string{`t.yaml:6:67: reason A: suppression cycle: A → B → A`},
		},
		{
			name: "cycles-of-three-and-two",
			body: pods + "reasons:\n" +
				"- {name: A, subject: pods, summary: s, when: 'true', suppresses: [{reason: B, join: cluster}]}\n" +
				"- {name: B, subject: pods, summary: s, when: 'true', suppresses: [{reason: C, join: cluster}]}\n" +
				"- {name: C, subject: pods, summary: s, when: 'true', suppresses: [{reason: A, join: cluster}]}\n" +
				"- {name: D, subject: pods, summary: s, when: 'true', suppresses: [{reason: E, join: cluster}]}\n" +
				"- {name: E, subject: pods, summary: s, when: 'true', suppresses: [{reason: D, join: cluster}, {reason: A, join: cluster}]}\n",
			want: []string{
				`t.yaml:6:67: reason A: suppression cycle: A → B → C → A`,
				`t.yaml:9:67: reason D: suppression cycle: D → E → D`,
			},
		},
		{
			name: "cycle-entered-from-its-middle",
			body: pods + "reasons:\n" +
				"- {name: X, subject: pods, summary: s, when: 'true', suppresses: [{reason: B, join: cluster}]}\n" +
				"- {name: A, subject: pods, summary: s, when: 'true', suppresses: [{reason: B, join: cluster}]}\n" +
				"- {name: B, subject: pods, summary: s, when: 'true', suppresses: [{reason: C, join: cluster}]}\n" +
				"- {name: C, subject: pods, summary: s, when: 'true', suppresses: [{reason: A, join: cluster}]}\n",
			want: []string{`t.yaml:7:67: reason A: suppression cycle: A → B → C → A`},
		},
		{
			// The O(n²) case: every pod scans its namespace's pods.
			name: "self-scan-of-the-namespace",
			body: pods + "reasons:\n" + reason("A", `cluster.inNamespace("pods", object.metadata.namespace).exists(p, p.metadata.name == object.metadata.name + "-x")`),
			want: []string{`t.yaml:6:66: warning: reason A: when scans the pods objects of cluster.inNamespace("pods", ...) for every pods subject (estimated cost 58004 per subject): the work grows with the square of a namespace's size; use an indexed look-up instead: cluster.lookup("pods", namespace, name) for one object, cluster.ownedBy("pods", uid) for an owner's, cluster.onNode("pods", node) for a node's, or make the namespace the subject`},
		},
		{
			name: "self-scan-through-a-variable-and-a-filter",
			body: pods + "variables:\n- {name: mates, expression: 'cluster.objects(\"pods\").filter(p, p.metadata.namespace == object.metadata.namespace)'}\nreasons:\n" +
				reason("A", `variables.mates.exists(p, p.metadata.name == "x")`),
			want: []string{`t.yaml:6:45: warning: reason A: variables.mates, read by this reason, scans the pods objects of cluster.objects("pods", ...) for every pods subject (estimated cost 4100013 per subject): the work grows with the square of a namespace's size; use an indexed look-up instead: cluster.lookup("pods", namespace, name) for one object, cluster.ownedBy("pods", uid) for an owner's, cluster.onNode("pods", node) for a node's, or make the namespace the subject`},
		},
		{
			name: "indexed-scans-and-scans-of-another-resource-are-fine",
			body: "sources: {pods: {version: v1, resource: pods}, nodes: {version: v1, resource: nodes}}\nreasons:\n" +
				reason("A", `cluster.onNode("pods", object.spec.?nodeName.orValue("")).exists(p, p.metadata.name == object.metadata.name + "-x")`) +
				reason("B", `cluster.ownedBy("pods", object.metadata.uid).exists(p, p.metadata.name == "x")`) +
				"- {name: C, subject: nodes, summary: s, when: 'cluster.objects(\"pods\").exists(p, p.spec.?nodeName.orValue(\"\") == object.metadata.name)'}\n",
		},
		{
			name: "literals-at-the-nesting-limit",
			body: pods + "reasons:\n" + reason("A", "size("+strings.Repeat("[", cel.MaxLiteralNesting)+"1"+strings.Repeat("]", cel.MaxLiteralNesting)+") == 1"),
		},
		{
			// The deepest literal is pointed at: the 17th bracket.
			name: "list-literals-nested-too-deep",
			body: pods + "reasons:\n" + reason("A", "size("+strings.Repeat("[", cel.MaxLiteralNesting+1)+"1"+strings.Repeat("]", cel.MaxLiteralNesting+1)+") == 1"),
			want: []string{`t.yaml:6:68: reason A: when: list and map literals nested 17 deep, more than the limit of 16; declare a nested value as a param`},
		},
		{
			name: "map-and-list-literals-nested-too-deep-in-a-message",
			body: pods + "reasons:\n- {name: A, subject: pods, summary: s, when: 'true', message: 'string(size(" +
				strings.Repeat(`{"a": [`, 9) + "1" + strings.Repeat("]}", 9) + "))'}\n",
			want: []string{`t.yaml:6:138: reason A: message: list and map literals nested 18 deep, more than the limit of 16; declare a nested value as a param`},
		},
		{
			name: "expression-too-long",
			body: pods + "reasons:\n" + reason("A", strings.Repeat("true || ", cel.MaxExpressionSize/8)+"true"),
			want: []string{`t.yaml:6:46: reason A: when: expression code point size exceeds limit: size: 8196, limit 8192`},
		},
		{
			name: "parser-recursion-too-deep",
			body: pods + "reasons:\n" + reason("A", strings.Repeat("1 + ", cel.MaxParseDepth)+"1 > 0"),
			want: []string{`t.yaml:6:46: reason A: when: max recursion depth exceeded`},
		},
		{
			// A fake CPU clock that advances a second per reading: the
			// budget of 2.5 s runs out at the second reason's condition,
			// reported once, and nothing after it is compiled.
			name: "compile-budget-exhausted",
			body: pods + "reasons:\n" + reason("A", "true") + reason("B", "true") + reason("C", "true ||"),
			opts: cel.Options{CompileBudget: 2500 * time.Millisecond, CompileClock: fakeCPU(time.Second)},
			want: []string{`t.yaml:7:47: reason B: when: compile budget exhausted: compiling the catalogue took more than 2.5s of CPU time, so it is refused (this expression and those after it were not compiled); split or simplify it, or raise --max-compile-time`},
		},
		{
			name: "compile-budget-disabled",
			body: pods + "reasons:\n" + reason("A", "true") + reason("B", "true") + reason("C", "true"),
			opts: cel.Options{CompileBudget: -1, CompileClock: fakeCPU(time.Hour)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := cel.Compile(parse(t, tt.body), tt.opts)
			assert.Equal(t, tt.want, heads(errs))
		})
	}
}

// TestCompileCaret checks the full rendering of a CEL error re-based onto
// the YAML file: a caret under the bad token, in a plain, a quoted and a
// literal block scalar.
func TestCompileCaret(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{
			name: "plain",
			body: pods + "reasons:\n- name: A\n  subject: pods\n  summary: s\n  when: size(object.spec.containers) > \"3\"\n",
			want: "t.yaml:9:38: reason A: when: found no matching overload for '_>_' applied to '(int, string)'\n" +
				" |   when: size(object.spec.containers) > \"3\"\n" +
				" |                                      ^",
		},
		{
			name: "double-quoted",
			body: pods + "reasons:\n- name: A\n  subject: pods\n  summary: s\n  when: \"params.nope > 1\"\n",
			want: "t.yaml:9:17: reason A: when: unknown param \"nope\"\n" +
				" |   when: \"params.nope > 1\"\n" +
				" |                 ^",
		},
		{
			name: "literal-block",
			body: pods + "reasons:\n- name: A\n  subject: pods\n  summary: s\n  when: |\n    object.status.phase == \"Pending\" &&\n      object.spec.x + 1 == \"a\"\n",
			want: "t.yaml:11:25: reason A: when: found no matching overload for '_==_' applied to '(int, string)'\n" +
				" |       object.spec.x + 1 == \"a\"\n" +
				" |                         ^",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := cel.Compile(parse(t, tt.body), cel.Options{})
			require.Len(t, errs, 1)
			assert.Equal(t, tt.want, errs[0].Error())
		})
	}
}

// TestDoneWhen is the acceptance case: one catalogue with a
// two-reason suppression cycle, a type error and an unknown field gets all
// three reported at their lines. catalog.Load finds the unknown field and
// cel.Compile the other two; the CLI reports the union.
func TestDoneWhen(t *testing.T) {
	src, errs := catalog.Load("testdata/done-when.bad.yaml")
	require.Len(t, errs, 1, "the decoder finds the unknown field and nothing else:\n%v", errs)
	_, cerrs := cel.Compile(src, cel.Options{})
	all := append(errs, cerrs...)
	all.Sort()
	assert.Equal(t, []string{
		"testdata/done-when.bad.yaml:15:5: reason PodPending: suppression cycle: PodPending → PodCrashLooping → PodPending",
		"testdata/done-when.bad.yaml:19:66: reason PodCrashLooping: when: found no matching overload for '_+_' applied to '(int, string)'",
		`testdata/done-when.bad.yaml:24:3: unknown field "sevrity"; did you mean "severity"?`,
	}, heads(all))
	require.Error(t, all.Err())
	assert.Equal(t, "testdata/done-when.bad.yaml:19:66: reason PodCrashLooping: when: found no matching overload for '_+_' applied to '(int, string)'\n"+
		" |     object.status.containerStatuses.exists(s, s.restartCount > 5 + \"x\")\n"+
		" |                                                                  ^", all[1].Error())
}

func TestCompileGood(t *testing.T) {
	for _, path := range []string{"testdata/full.good.yaml", "../catalog/testdata/full.good.yaml", "../catalog/testdata/multidoc.good.yaml", "../catalog/testdata/aliases.good.yaml"} {
		t.Run(path, func(t *testing.T) {
			src, errs := catalog.Load(path)
			require.Empty(t, errs)
			c, cerrs := cel.Compile(src, cel.Options{})
			require.NoError(t, cerrs.Err())
			assert.Len(t, c.Reasons, len(src.Reasons))
			for _, r := range c.Reasons {
				assert.NotNil(t, r.When, r.Name)
				assert.Same(t, r, c.Reason(r.Name))
				assert.NotEmpty(t, r.Hash, r.Name)
			}
		})
	}
}

// TestCompileOrder checks that causes come before their symptoms, however
// the file orders them, and that ranks follow the order.
func TestCompileOrder(t *testing.T) {
	c := compile(t, pods+"reasons:\n"+
		"- {name: Symptom, subject: pods, summary: s, when: 'true'}\n"+
		"- {name: Middle, subject: pods, summary: s, when: 'true', suppresses: [{reason: Symptom, join: sameNamespace}]}\n"+
		"- {name: Unrelated, subject: pods, summary: s, when: 'true'}\n"+
		"- {name: Root, subject: pods, summary: s, when: 'true', suppresses: [{reason: Middle, join: sameNode}, {reason: Symptom, join: {key: 'object.metadata.namespace'}}]}\n",
		cel.Options{})
	var names []string
	for i, r := range c.Reasons {
		names = append(names, r.Name)
		assert.Equal(t, i, r.Rank, r.Name)
	}
	assert.Equal(t, []string{"Unrelated", "Root", "Middle", "Symptom"}, names)
	require.NotNil(t, c.Graph)
	assert.Len(t, c.Graph.CausesOf("Symptom"), 2)
	root := c.Reason("Root")
	require.Len(t, root.Edges, 2)
	assert.Nil(t, root.Edges[0].Key, "a named join has no key program")
	require.NotNil(t, root.Edges[1].Key)
	assert.Equal(t, "Root", root.Edges[1].Cause)
	assert.Equal(t, "suppresses[Symptom].join.key", root.Edges[1].Key.Field)
	assert.Nil(t, c.Reason("Nope"))
}

// TestCompileHash checks what changes a reason's hash, which decides
// whether engine state survives a reload.
func TestCompileHash(t *testing.T) {
	base := "params: {limit: 3, other: 1}\n" + pods + "variables:\n- {name: v, expression: 'object.status.restartCount > params.limit'}\nreasons:\n"
	hash := func(body string) string {
		t.Helper()
		c := compile(t, body, cel.Options{})
		r := c.Reason("A")
		require.NotNil(t, r)
		return r.Hash
	}
	orig := hash(base + "- {name: A, subject: pods, summary: s, when: 'variables.v'}\n")
	tests := []struct {
		name    string
		body    string
		changed bool
	}{
		{name: "description", body: base + "- {name: A, description: new words, subject: pods, summary: s, when: 'variables.v'}\n"},
		{name: "moved", body: base + reason("Z", "true") + "- {name: A, subject: pods, summary: s, when: 'variables.v'}\n"},
		{name: "unread-param", body: "params: {limit: 3, other: 2}\n" + pods + "variables:\n- {name: v, expression: 'object.status.restartCount > params.limit'}\nreasons:\n- {name: A, subject: pods, summary: s, when: 'variables.v'}\n"},
		{name: "when", body: base + "- {name: A, subject: pods, summary: s, when: '!variables.v'}\n", changed: true},
		{name: "param-read-through-variable", body: "params: {limit: 4, other: 1}\n" + pods + "variables:\n- {name: v, expression: 'object.status.restartCount > params.limit'}\nreasons:\n- {name: A, subject: pods, summary: s, when: 'variables.v'}\n", changed: true},
		{name: "variable", body: "params: {limit: 3, other: 1}\n" + pods + "variables:\n- {name: v, expression: 'object.status.restartCount >= params.limit'}\nreasons:\n- {name: A, subject: pods, summary: s, when: 'variables.v'}\n", changed: true},
		{name: "grace", body: base + "- {name: A, subject: pods, summary: s, when: 'variables.v', grace: 1m}\n", changed: true},
		{name: "priority", body: base + "- {name: A, subject: pods, summary: s, when: 'variables.v', priority: 2}\n", changed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hash(tt.body)
			if tt.changed {
				assert.NotEqual(t, orig, got)
			} else {
				assert.Equal(t, orig, got)
			}
		})
	}
}

// TestCompileBrokenCatalogues compiles catalogues that failed validation,
// as lint does to report everything at once: the compiler must not panic
// and must still report what it finds.
func TestCompileBrokenCatalogues(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{
			name: "duplicate-names-and-bad-edges",
			body: pods + "reasons:\n" +
				"- {name: A, subject: pods, summary: s, when: 'true', suppresses: [{reason: A, join: cluster}, {reason: X, join: cluster}, {reason: B}]}\n" +
				"- {name: A, subject: pods, summary: s, when: '1'}\n" + reason("B", "true"),
			want: []string{"t.yaml:7:47: reason A: when must return bool, got int"},
		},
		{
			name: "unknown-subject-and-empty-when",
			body: pods + "reasons:\n- {name: A, subject: nodes, summary: s}\n- {name: B, subject: pods, summary: s, when: 'object.x +'}\n",
			want: []string{"t.yaml:7:57: reason B: when: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}"},
		},
		{
			name: "nothing",
			body: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, _ := catalog.Parse(catalog.NewFile("t.yaml", []byte(header+tt.body)))
			var errs catalog.ErrorList
			require.NotPanics(t, func() { _, errs = cel.Compile(src, cel.Options{}) })
			var got []string
			for _, h := range heads(errs) {
				if !strings.Contains(h, "warning:") {
					got = append(got, h)
				}
			}
			assert.Equal(t, tt.want, got)
		})
	}
}
