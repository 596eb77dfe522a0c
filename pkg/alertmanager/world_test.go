package alertmanager

import (
	"context"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/snapshot"
)

// compile loads testdata/catalog.yaml with the version given, so that a
// test can reload a changed catalogue.
func compile(t testing.TB, version string) *cel.Catalog {
	t.Helper()
	data, err := os.ReadFile("testdata/catalog.yaml")
	require.NoError(t, err)
	text := strings.Replace(string(data), `version: "1"`, `version: "`+version+`"`, 1)
	src, errs := catalog.Parse(catalog.NewFile("catalog.yaml", []byte(text)))
	require.NoError(t, errs.Err())
	c, errs := cel.Compile(src, cel.Options{})
	require.NoError(t, errs.Err())
	return c
}

// world is a small cluster: nodes that may be down, pods on nodes that
// may be broken. A real engine decides over it, so that the alerts follow
// from real suppression and priority, not hand-made results.
type world struct {
	down   map[string]bool   // node → down
	broken map[string]bool   // pod → broken
	podOn  map[string]string // pod → node
}

func newWorld() *world {
	return &world{
		down:   map[string]bool{"n1": false, "n2": false},
		broken: map[string]bool{},
		podOn:  map[string]string{"p1": "n1", "p2": "n1", "p3": "n2", "p4": "n2"},
	}
}

func (w *world) snapshot(c *cel.Catalog, at time.Time) *snapshot.Snapshot {
	var objs []map[string]any
	for name, down := range w.down {
		labels := map[string]any{}
		if down {
			labels["down"] = "true"
		}
		objs = append(objs, map[string]any{
			"apiVersion": "v1", "kind": "Node",
			"metadata": map[string]any{"name": name, "uid": "uid-" + name, "labels": labels},
		})
	}
	for name, node := range w.podOn {
		labels := map[string]any{}
		if w.broken[name] {
			labels["broken"] = "true"
		}
		objs = append(objs, map[string]any{
			"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": name, "namespace": "apps", "uid": "uid-" + name, "labels": labels},
			"spec":     map[string]any{"nodeName": node},
		})
	}
	b := snapshot.NewBuilder(at, snapshot.ServedDefault(c.Source, snapshot.Cluster{Version: "v1.36.3"}))
	b.Select(c.Source, objs, nil)
	return b.Build()
}

// tick evaluates the world at real time now (Alertmanager reads endsAt of
// resolved alerts against its own clock) and publishes to s.
func (w *world) tick(t testing.TB, e *engine.Engine, s *Sender) *engine.Result {
	t.Helper()
	res := e.Tick(context.Background(), w.snapshot(e.Catalog(), time.Now()))
	s.Publish(res)
	return res
}

// restored is what emit.Restore would rebuild from the Events of res's
// published findings.
func restored(res *engine.Result) []engine.Restored {
	var out []engine.Restored
	for _, f := range res.Findings {
		if f.Published {
			out = append(out, engine.Restored{Reason: f.Reason, Subject: f.Subject, FiringSince: f.FiringSince})
		}
	}
	return out
}

func labelsOf(reason, kind, name string) map[string]string {
	l := map[string]string{LabelAlertname: reason, LabelKind: kind, LabelName: name, LabelCatalog: "alerting-test"}
	switch reason {
	case "NodeDown":
		maps.Copy(l, map[string]string{LabelSeverity: "critical", LabelLayer: "node"})
	case "PodBroken":
		maps.Copy(l, map[string]string{LabelSeverity: "warning", LabelLayer: "workload", LabelNamespace: "apps"})
	}
	return l
}

// snapshotWithFailedPods is the world with the pods source unreadable.
func snapshotWithFailedPods(t testing.TB, e *engine.Engine, w *world) *snapshot.Snapshot {
	t.Helper()
	c := e.Catalog()
	b := snapshot.NewBuilder(time.Now(), snapshot.ServedDefault(c.Source, snapshot.Cluster{Version: "v1.36.3"}))
	var objs []map[string]any
	for name := range w.down {
		objs = append(objs, map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": name, "uid": "uid-" + name}})
	}
	b.Select(c.Source, objs, map[string]snapshot.SourceState{"pods": {Status: snapshot.StatusForbidden, Error: "pods is forbidden"}})
	return b.Build()
}
