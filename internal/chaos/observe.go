package main

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"statusd.io/statusd/internal/loadgen"
	"statusd.io/statusd/pkg/emit"
)

// observer records what statusd did, as an operator would see it: every
// write of its Events (an informer on Events: each create or change seen),
// the Lease's holder, and each replica's metrics every sampleEvery.
type observer struct {
	mu      sync.Mutex
	writes  []Write
	objects map[string]EventObject // namespace/name → object
	self    []Write                // Events statusd wrote about itself
	holders []Holder
	ticks   []Tick
	samples map[string][]sample
}

// sample is one reading of a replica's metrics.
type sample struct {
	At         time.Time `json:"at"`
	Ticks      float64   `json:"ticks"`
	Leader     bool      `json:"leader"`
	Goroutines float64   `json:"goroutines"`
	HeapBytes  float64   `json:"heapBytes"`
	RSSBytes   float64   `json:"rssBytes"`
}

func newObserver() *observer {
	return &observer{objects: map[string]EventObject{}, samples: map[string][]sample{}}
}

// watchEvents runs an informer on every Event until ctx ends. statusd's
// findings carry the managed-by label; its Events about itself carry its
// component as source.
func (o *observer) watchEvents(ctx context.Context, cs kubernetes.Interface) {
	// Two narrow informers rather than one on every Event: the cluster's
	// own Events (a scheduling and a start for each pod of the churn) far
	// outnumber statusd's.
	var wg sync.WaitGroup
	wg.Go(func() {
		o.watchEventsWith(ctx, cs, func(lo *metav1.ListOptions) { lo.LabelSelector = emit.LabelManagedBy + "=" + emit.ManagedBy })
	})
	wg.Go(func() {
		o.watchEventsWith(ctx, cs, func(lo *metav1.ListOptions) { lo.FieldSelector = "source=statusd" })
	})
	wg.Wait()
}

func (o *observer) watchEventsWith(ctx context.Context, cs kubernetes.Interface, tweak func(*metav1.ListOptions)) {
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(tweak))
	inf := f.Core().V1().Events().Informer()
	handle := func(obj any) {
		e, ok := obj.(*corev1.Event)
		if !ok {
			return
		}
		o.record(e, time.Now())
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    handle,
		UpdateFunc: func(_, obj any) { handle(obj) },
	})
	f.Start(ctx.Done())
	<-ctx.Done()
	f.Shutdown()
}

func (o *observer) record(e *corev1.Event, at time.Time) {
	w := Write{
		At: at, Namespace: e.Namespace, Name: e.Name, Reason: e.Reason, Type: e.Type,
		Subject: subjectOf(e), Instance: e.ReportingInstance,
		Resolves: e.Annotations[emit.AnnotationResolves],
	}
	if s := e.Annotations[emit.AnnotationFiringSince]; s != "" {
		w.FiringSince, _ = time.Parse(time.RFC3339Nano, s)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case e.Labels[emit.LabelManagedBy] == emit.ManagedBy:
		o.writes = append(o.writes, w)
		key := e.Namespace + "/" + e.Name
		if _, ok := o.objects[key]; !ok {
			o.objects[key] = EventObject{Namespace: e.Namespace, Name: e.Name, Reason: e.Reason, Subject: w.Subject, Created: e.CreationTimestamp.Time}
		}
	case e.Source.Component == "statusd" || e.ReportingController == "statusd":
		w.Instance = e.Source.Host
		o.self = append(o.self, w)
	}
}

// subjectOf names an Event's subject: the statusd.io/subject annotation
// (an expected object that does not exist) or the involved object.
func subjectOf(e *corev1.Event) string {
	if s := e.Annotations[emit.AnnotationSubject]; s != "" {
		// "<apiVersion> <Kind>/<namespace>/<name>"
		for i := len(s) - 1; i >= 0; i-- {
			if s[i] == ' ' {
				return s[i+1:]
			}
		}
		return s
	}
	io := e.InvolvedObject
	if io.Namespace == "" {
		return io.Kind + "/" + io.Name
	}
	return io.Kind + "/" + io.Namespace + "/" + io.Name
}

// watchLease records each change of the Lease's holder until ctx ends.
func (o *observer) watchLease(ctx context.Context, cs kubernetes.Interface, ns, name string) {
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
			lo.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		}))
	inf := f.Coordination().V1().Leases().Informer()
	handle := func(obj any) {
		l, ok := obj.(*coordinationv1.Lease)
		if !ok || l.Spec.HolderIdentity == nil {
			return
		}
		// From the Lease's own acquireTime (written by the new holder on
		// this machine's clock), not from when the watch saw it: after an
		// apiserver restart the watch may see a takeover seconds late.
		at := time.Now()
		if l.Spec.AcquireTime != nil && l.Spec.AcquireTime.Before(&metav1.MicroTime{Time: at}) {
			at = l.Spec.AcquireTime.Time
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		for _, h := range o.holders {
			if h.Identity == *l.Spec.HolderIdentity && h.At.Equal(at) {
				return
			}
		}
		o.holders = append(o.holders, Holder{At: at, Identity: *l.Spec.HolderIdentity})
		sort.Slice(o.holders, func(i, j int) bool { return o.holders[i].At.Before(o.holders[j].At) })
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    handle,
		UpdateFunc: func(_, obj any) { handle(obj) },
	})
	f.Start(ctx.Done())
	<-ctx.Done()
	f.Shutdown()
}

// sampleReplicas reads each replica's /metrics every period until ctx ends:
// a tick of the replica that says it leads is a Tick; goroutines and memory
// feed the growth figures. A frozen replica is skipped.
func (o *observer) sampleReplicas(ctx context.Context, rs []*replica, period time.Duration) {
	client := &http.Client{Timeout: period}
	last := map[string]float64{}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, r := range rs {
			r.enforceMemory()
			if r.isPaused() || r.pid() == 0 {
				continue
			}
			m, err := scrapeWith(client, "http://"+r.addr+"/metrics")
			if err != nil {
				continue
			}
			now := time.Now()
			s := sample{
				At: now, Ticks: m["statusd_ticks_total"], Leader: m["statusd_leader"] == 1,
				Goroutines: m["go_goroutines"], HeapBytes: m["go_memstats_heap_inuse_bytes"],
			}
			s.RSSBytes, _ = loadgen.ProcStatus(r.pid())
			o.mu.Lock()
			if s.Leader && s.Ticks > last[r.name] && last[r.name] > 0 {
				o.ticks = append(o.ticks, Tick{At: now, Instance: r.name})
			}
			last[r.name] = s.Ticks
			o.samples[r.name] = append(o.samples[r.name], s)
			o.mu.Unlock()
		}
	}
}

func scrapeWith(c *http.Client, url string) (map[string]float64, error) {
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var b []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			break
		}
	}
	return loadgen.ParseMetrics(string(b)), nil
}

// ledger snapshots what the observer saw into l.
func (o *observer) fill(l *Ledger) {
	o.mu.Lock()
	defer o.mu.Unlock()
	l.Writes = append([]Write(nil), o.writes...)
	l.Holders = append([]Holder(nil), o.holders...)
	l.Ticks = append([]Tick(nil), o.ticks...)
	for _, obj := range o.objects {
		l.Objects = append(l.Objects, obj)
	}
}
