package emit

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/validation"

	"statusd.io/statusd/pkg/engine"
)

func TestEventNameIsValidAndDeterministic(t *testing.T) {
	pod := engine.Subject{APIVersion: "v1", Kind: "Pod", Namespace: "team-a", Name: "web-0", UID: "8f6b7c1e-0000-4000-8000-000000000001"}
	tests := []struct {
		name       string
		subject    engine.Subject
		reason     string
		wantPrefix string
	}{
		{"plain pod", pod, "PodCrashLooping", "web-0.podcrashlooping."},
		{"rbac name with colons", engine.Subject{Kind: "ClusterRole", Name: "system:controller:job-controller", UID: "u1"}, "RoleBroken", "system-controller-job-controller.rolebroken."},
		{"dots and capitals", engine.Subject{Kind: "Node", Name: "Node.Example..COM-", UID: "u2"}, "NodeDown", "node-example-com.nodedown."},
		{"name with nothing usable falls back to the kind", engine.Subject{Kind: "Thing", Name: "::", UID: "u3"}, "Broken", "thing.broken."},
		{"no uid", engine.Subject{Kind: "Node", Name: "n1"}, "NodeDown", "n1.nodedown."},
		{"very long name and reason", engine.Subject{Kind: "Pod", Namespace: "ns", Name: strings.Repeat("a", 253), UID: "u4"}, strings.Repeat("R", 128), strings.Repeat("a", nameSubjectPart) + "."},
		{"unicode name", engine.Subject{Kind: "ConfigMap", Namespace: "ns", Name: "caf\u00e9-日本", UID: "u5"}, "Bad", "caf.bad."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := EventName(tc.subject, tc.reason)
			assert.Empty(t, validation.IsDNS1123Subdomain(name), name)
			assert.True(t, strings.HasPrefix(name, tc.wantPrefix), "%q should start with %q", name, tc.wantPrefix)
			assert.Equal(t, name, EventName(tc.subject, tc.reason), "deterministic")

			resolved := ResolvedEventName(tc.subject, tc.reason)
			assert.Empty(t, validation.IsDNS1123Subdomain(resolved), resolved)
			assert.NotEqual(t, name, resolved)
			assert.NotEqual(t, EventName(tc.subject, tc.reason+"Resolved"), resolved, "a reason named <X>Resolved must not collide")
		})
	}

	t.Run("identity is the uid and the reason", func(t *testing.T) {
		other := pod
		other.Namespace = "team-b"
		other.UID = "8f6b7c1e-0000-4000-8000-000000000002"
		assert.NotEqual(t, EventName(pod, "PodCrashLooping"), EventName(other, "PodCrashLooping"), "same name, other namespace")
		recreated := pod
		recreated.UID = "8f6b7c1e-0000-4000-8000-000000000003"
		assert.NotEqual(t, EventName(pod, "PodCrashLooping"), EventName(recreated, "PodCrashLooping"), "recreated object")
		assert.NotEqual(t, EventName(pod, "PodCrashLooping"), EventName(pod, "PodPending"), "other reason")
		moved := pod
		moved.APIVersion = "v2"
		assert.Equal(t, EventName(pod, "PodCrashLooping"), EventName(moved, "PodCrashLooping"), "the API version is not identity")
	})
}

func TestTruncateKeepsUTF8(t *testing.T) {
	tests := []struct {
		name   string
		msg    string
		wantEq bool // unchanged
	}{
		{"short ascii", "node n1 is not ready", true},
		{"exactly the limit", strings.Repeat("x", MaxMessageBytes), true},
		{"one byte over", strings.Repeat("x", MaxMessageBytes+1), false},
		{"two-byte runes", strings.Repeat("é", 700), false},
		{"three-byte runes", strings.Repeat("日", 500), false},
		{"four-byte runes offset by one", "x" + strings.Repeat("🔥", 300), false},
		{"mixed", strings.Repeat("a日é🔥", 200), false},
		{"invalid utf-8 is replaced", "bad \xff\xfe byte", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := truncate(tc.msg, MaxMessageBytes)
			assert.LessOrEqual(t, len(got), MaxMessageBytes)
			assert.True(t, utf8.ValidString(got))
			if tc.wantEq {
				assert.Equal(t, tc.msg, got)
				return
			}
			valid := strings.ToValidUTF8(tc.msg, "\uFFFD")
			if len(valid) > MaxMessageBytes {
				assert.True(t, strings.HasSuffix(got, ellipsis))
				head := strings.TrimSuffix(got, ellipsis)
				assert.True(t, strings.HasPrefix(valid, head), "a prefix of the message")
				assert.Greater(t, len(got), MaxMessageBytes-len(ellipsis)-utf8.UTFMax, "cut no further than one rune")
			} else {
				assert.Equal(t, valid, got)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr []string
		check   func(t *testing.T, o Options)
	}{
		{name: "defaults", check: func(t *testing.T, o Options) {
			assert.Equal(t, DefaultController, o.Controller)
			assert.NotEmpty(t, o.Instance)
			assert.Equal(t, "default", o.ClusterNamespace)
			assert.Equal(t, DefaultHeartbeat, o.Heartbeat)
			assert.InDelta(t, DefaultQPS, o.QPS, 0)
			assert.Equal(t, DefaultBurst, o.Burst)
			assert.NotNil(t, o.Clock)
			assert.NotNil(t, o.Logger)
		}},
		{name: "kube-system for cluster subjects", opts: Options{ClusterNamespace: "kube-system"}},
		{name: "every problem at once", opts: Options{
			Controller:       "not a name!",
			Instance:         strings.Repeat("i", 129),
			Namespace:        "Bad_NS",
			ClusterNamespace: "statusd-system",
			Heartbeat:        -time.Second,
			QPS:              -1,
			Workers:          -2,
		}, wantErr: []string{
			`controller "not a name!"`,
			"instance",
			`namespace "Bad_NS"`,
			`cluster namespace "statusd-system": must be "default" or "kube-system"`,
			"heartbeat must be positive",
			"qps must be positive",
			"workers must be positive",
		}},
		{name: "retry max below base", opts: Options{RetryBase: time.Minute, RetryMax: time.Second}, wantErr: []string{"retry max 1s is below retry base 1m0s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.opts.withDefaults()
			if len(tc.wantErr) == 0 {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				for _, want := range tc.wantErr {
					assert.Contains(t, err.Error(), want)
				}
			}
			if tc.check != nil {
				tc.check(t, o)
			}
		})
	}
}

func TestNamespaceFor(t *testing.T) {
	tests := []struct {
		name              string
		opts              Options
		subjectNS, wantNS string
	}{
		{"namespaced subject, its namespace", Options{ClusterNamespace: "default"}, "team-a", "team-a"},
		{"cluster subject, cluster namespace", Options{ClusterNamespace: "kube-system"}, "", "kube-system"},
		{"fixed namespace takes namespaced subjects", Options{Namespace: "ops", ClusterNamespace: "default"}, "team-a", "ops"},
		{"fixed namespace the API refuses for cluster subjects", Options{Namespace: "ops", ClusterNamespace: "default"}, "", "default"},
		{"fixed kube-system takes cluster subjects", Options{Namespace: "kube-system", ClusterNamespace: "default"}, "", "kube-system"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.wantNS, tc.opts.namespaceFor(tc.subjectNS))
		})
	}
}

func TestSuppressionsAnnotation(t *testing.T) {
	node := engine.Subject{APIVersion: "v1", Kind: "Node", Name: "n1", UID: "node-n1"}
	pod := func(name string) engine.Subject {
		return engine.Subject{APIVersion: "v1", Kind: "Pod", Namespace: "ns", Name: name, UID: "pod-" + name}
	}
	// SuppressedBy carries the cause's subject without UID, as the engine
	// builds it.
	byNode := &engine.CauseRef{Reason: "NodeDown", Subject: engine.Subject{Kind: "Node", Name: "n1"}}
	res := &engine.Result{Findings: []*engine.Finding{
		{Reason: "NodeDown", Subject: node, State: engine.Firing, Published: true},
		{Reason: "NodePressure", Subject: node, State: engine.Suppressed, SuppressedBy: byNode},
		{Reason: "PodBroken", Subject: pod("b"), State: engine.Suppressed, SuppressedBy: byNode},
		{Reason: "PodBroken", Subject: pod("a"), State: engine.Suppressed, SuppressedBy: byNode},
		{Reason: "PodSlow", Subject: pod("a"), State: engine.Pending, SuppressedBy: byNode},
	}}
	got := suppressions(res)
	assert.Equal(t, map[string]string{
		causeKey("NodeDown", node): "NodePressure, PodBroken on Pod/ns/a, PodBroken on Pod/ns/b",
	}, got, "pending findings are not suppressed yet; same-subject reasons first")

	var many []*engine.Finding
	for i := range 30 {
		many = append(many, &engine.Finding{Reason: "PodBroken", Subject: pod(string(rune('a' + i))), State: engine.Suppressed, SuppressedBy: byNode})
	}
	got = suppressions(&engine.Result{Findings: many})
	assert.True(t, strings.HasSuffix(got[causeKey("NodeDown", node)], ", and 10 more"), got[causeKey("NodeDown", node)])
}

func TestResolvedReasonFitsTheAPI(t *testing.T) {
	assert.Equal(t, "NodeDownResolved", resolvedReason("NodeDown"))
	long := strings.Repeat("R", 128)
	assert.Len(t, resolvedReason(long), maxField)
	assert.True(t, strings.HasSuffix(resolvedReason(long), ResolvedSuffix))
}

func TestTruncateKeepsTheCommand(t *testing.T) {
	helmErr := "add-on kuberay: HelmRelease iaas-addon-kuberay/kuberay failed: Helm upgrade failed: " +
		strings.Repeat("resource mapping not found for name: \"raycluster\" namespace: \"\" from \"\": no matches for kind; ", 40)
	run := " Run: kubectl -n iaas-addon-kuberay get helmrelease kuberay -o yaml && flux logs --kind=HelmRelease --name=kuberay"
	tests := []struct {
		name     string
		msg      string
		wantTail string // "" when the head alone is kept
	}{
		{name: "a long Helm error keeps its Run: command", msg: helmErr + "." + run, wantTail: run},
		{name: "the last Run: counts", msg: "x Run: a" + strings.Repeat("y", 2000) + run, wantTail: run},
		{name: "no command keeps the head", msg: strings.Repeat("z", 2000)},
		{name: "a command longer than half the limit is not kept whole", msg: "head" + strings.Repeat("q", 500) + " Run: " + strings.Repeat("c", 700)},
		{name: "multi-byte evidence is cut at a rune", msg: "pod p: " + strings.Repeat("日", 600) + run, wantTail: run},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := truncate(tc.msg, MaxMessageBytes)
			assert.LessOrEqual(t, len(got), MaxMessageBytes)
			assert.True(t, utf8.ValidString(got))
			if tc.wantTail == "" {
				assert.True(t, strings.HasSuffix(got, ellipsis))
				assert.True(t, strings.HasPrefix(tc.msg, strings.TrimSuffix(got, ellipsis)))
				return
			}
			assert.True(t, strings.HasSuffix(got, ellipsis+tc.wantTail), "ends with the command: %q", got)
			head := strings.TrimSuffix(got, ellipsis+tc.wantTail)
			assert.True(t, strings.HasPrefix(tc.msg, head), "the head of the message")
			assert.Greater(t, len(got), MaxMessageBytes-utf8.UTFMax, "cut no further than one rune")
		})
	}
}
