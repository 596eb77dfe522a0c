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

// BenchmarkPublishLive is BenchmarkPublishSteady with messages whose live
// figures change every tick, as a queue depth or an elapsed time does:
// each tick recomputes every message's material form, and still writes
// nothing.
func BenchmarkPublishLive(b *testing.B) {
	w, err := emit.NewWriter(testenv.Shared().Client(), emit.Options{Instance: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	subjects := make([]engine.Subject, 1000)
	for i := range subjects {
		subjects[i] = engine.Subject{APIVersion: "v1", Kind: "Pod", Namespace: "ns", Name: "p" + strconv.Itoa(i), UID: "uid-" + strconv.Itoa(i)}
	}
	results := make([]*engine.Result, 2)
	for n := range results {
		res := &engine.Result{Time: t0, Catalog: catalogName, Version: catalogVersion}
		for _, s := range subjects {
			msg := "vLLM pod ns/" + s.Name + " (model qwen3) has had at least " + strconv.Itoa(11+n) + " requests waiting for 5m (at 12:47:" +
				strconv.Itoa(10+n) + "Z: " + strconv.Itoa(14+n) + " waiting, 3 running; threshold 10): requests arrive faster than the model serves them. " +
				"Run: kubectl -n ns logs " + s.Name + " --tail=50"
			res.Findings = append(res.Findings, finding(s, "ModelQueueSaturated", msg, t0))
		}
		results[n] = res
	}
	w.Publish(results[0])
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		res := results[i%2]
		res.Time = t0.Add(time.Duration(i) * 30 * time.Second)
		w.Publish(res)
	}
}

// BenchmarkMaterial measures the material form of a long message.
func BenchmarkMaterial(b *testing.B) {
	msg := "add-on jupyterhub-d4: HelmRelease iaas-addon-jupyterhub-d4/jupyterhub-d4 has been deleting since 2026-12-05T12:47:25Z " +
		"(threshold 10m); the uninstall is stuck on finalizers finalizers.fluxcd.io. Clean up by hand: kubectl delete helmrelease " +
		"-n iaas-addon-jupyterhub-d4 jupyterhub-d4 && kubectl delete namespace iaas-addon-jupyterhub-d4"
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		emit.Material(msg)
	}
}
