package emit_test

import (
	"strconv"
	"testing"
	"time"

	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/emit"
	"statusd.io/statusd/pkg/engine"
)

// BenchmarkPublishSteady measures what one tick costs the evaluation loop
// with 1,000 firing findings (and 1,000 suppressed ones) whose Events are up
// to date: no write is due, so this is all Publish does between heartbeats.
func BenchmarkPublishSteady(b *testing.B) {
	w, err := emit.NewWriter(testenv.Shared().Client(), emit.Options{Instance: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	res := &engine.Result{Time: t0, Catalog: catalogName, Version: catalogVersion}
	for i := range 1000 {
		s := engine.Subject{APIVersion: "v1", Kind: "Pod", Namespace: "ns", Name: "p" + strconv.Itoa(i), UID: "uid-" + strconv.Itoa(i)}
		res.Findings = append(res.Findings,
			finding(s, "PodBroken", "pod "+s.Name+" is broken", t0),
			&engine.Finding{Reason: "PodSlow", Subject: s, State: engine.Suppressed, SuppressedBy: &engine.CauseRef{Reason: "PodBroken", Subject: engine.Subject{Kind: "Pod", Namespace: "ns", Name: s.Name}}},
		)
	}
	w.Publish(res) // records exist; the writer is not running, so they stay pending
	b.ReportAllocs()
	for b.Loop() {
		res.Time = res.Time.Add(30 * time.Second)
		w.Publish(res)
	}
}
