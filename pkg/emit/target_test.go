package emit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/emit"
	"statusd.io/statusd/pkg/engine"
)

// TestMissingObjectEventIsAboutItsNamespace: a finding about an expected
// object that does not exist (engine.Finding.Target) is written about its
// Namespace, which exists (so in the namespace cluster-scoped objects'
// Events go to), under the Event name of the missing object; the
// subject rides in an annotation, so that a restart restores the finding
// on the missing object, and its resolution is about the Namespace too.
func TestMissingObjectEventIsAboutItsNamespace(t *testing.T) {
	leakCheck(t)
	cfg := testenv.Shared().Config()
	nsObj := newNamespace(t)
	ns := nsObj.Name
	missing := engine.Subject{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: "kaito-workspace"}
	target := namespaceSubject(nsObj)
	since := t0.Add(-time.Minute)
	controller := "statusd.io/missing-" + ns
	missingFinding := func() *engine.Finding {
		f := finding(missing, "ControllerMissing", "Deployment "+ns+"/kaito-workspace is missing", since)
		f.Target = &target
		return f
	}

	r := start(t, cfg, emit.Options{Controller: controller})
	r.tick(t, result(t0, missingFinding()))
	ev := onlyEvent(t, target, "ControllerMissing")
	// A Namespace is cluster-scoped: its Events live in default.
	assert.Equal(t, "default", ev.Namespace)
	assert.Equal(t, emit.EventName(missing, "ControllerMissing"), ev.Name, "named for the missing object")
	assert.Equal(t, corev1.ObjectReference{APIVersion: "v1", Kind: "Namespace", Name: ns, UID: nsObj.UID}, ev.InvolvedObject)
	assert.Equal(t, "apps/v1 Deployment/"+ns+"/kaito-workspace", ev.Annotations[emit.AnnotationSubject])

	nw := start(t, cfg, emit.Options{Controller: controller, Instance: "statusd-new", Clock: clocktesting.NewFakeClock(t0.Add(time.Minute))})
	restored, err := nw.w.Restore(t.Context())
	require.NoError(t, err)
	require.Equal(t, []engine.Restored{{Reason: "ControllerMissing", Subject: missing, FiringSince: since}}, restored)

	// It appears: the resolution is written about the Namespace as well.
	gone := missingFinding()
	gone.State, gone.Published, gone.WasPublished = engine.Resolved, false, true
	gone.ResolvedBecause = "the expected object exists"
	res := result(t0.Add(2 * time.Minute))
	res.Resolved = []*engine.Finding{gone}
	nw.tick(t, res)
	var resolved []corev1.Event
	for _, e := range eventsAbout(t, target) {
		if e.Annotations[emit.AnnotationResolves] == "ControllerMissing" {
			resolved = append(resolved, e)
		}
	}
	require.Len(t, resolved, 1)
	assert.Equal(t, "apps/v1 Deployment/"+ns+"/kaito-workspace", resolved[0].Annotations[emit.AnnotationSubject])
	assert.Contains(t, resolved[0].Message, "the expected object exists")
}
