package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"statusd.io/statusd/internal/loadgen"
	"statusd.io/statusd/internal/testenv"
)

// Durations of the faults that last.
const (
	apiDown        = 10 * time.Second
	apiPause       = 30 * time.Second
	etcdDown       = 10 * time.Second
	eventsRefused  = time.Minute
	catalogWindow  = time.Minute
	catalogEdits   = 100
	metricsWindow  = time.Minute
	roundTemplate  = 330 * time.Second
	brokenFileName = "chaos-broken.yaml"
)

// A round's schedule: when each kind starts, as an offset into a
// roundTemplate-long round, scaled to the real round's length. Some
// overlap on purpose: the catalogue edits, a hanging target and refused
// Event writes; a paused apiserver and a garbage target; a paused leader
// and a 50 MB target.
var roundPlan = []struct {
	at   time.Duration
	kind string
}{
	{0, kindCatalog},
	{0, kindHang},
	{20 * time.Second, kindEvents},
	{100 * time.Second, kindAPIKill},
	{135 * time.Second, kindLeaderKill},
	{160 * time.Second, kindGarbage},
	{170 * time.Second, kindAPIPause},
	{225 * time.Second, kindEtcdKill},
	{255 * time.Second, kindLeaderPause},
	{255 * time.Second, kindHuge},
}

// injector injects the infrastructure faults and records when each began
// and ended.
type injector struct {
	env      *testenv.Env
	cs       kubernetes.Interface
	replicas []*replica
	obs      *observer
	targets  map[string]*target

	roleRules   []rbacv1.PolicyRule
	catalogData map[string]string

	mu    sync.Mutex
	log   []Injection
	loads []float64
}

// saveOriginals keeps the ClusterRole's rules and the catalogue, to restore
// them after each fault.
func (in *injector) saveOriginals(ctx context.Context) error {
	role, err := in.cs.RbacV1().ClusterRoles().Get(ctx, chartName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get ClusterRole %s: %w", chartName, err)
	}
	in.roleRules = role.Rules
	cm, err := in.cs.CoreV1().ConfigMaps(chartNamespace).Get(ctx, catalogMap, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get ConfigMap %s/%s: %w", chartNamespace, catalogMap, err)
	}
	in.catalogData = cm.Data
	return nil
}

// schedule runs c.Rounds rounds of roundPlan within ctx, each kind in its
// own goroutine, and returns when ctx ends and every injection has
// finished (restored what it broke).
func (in *injector) schedule(ctx context.Context, c config) {
	round := (c.Duration - c.Bound) / time.Duration(c.Rounds)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				in.mu.Lock()
				in.loads = append(in.loads, loadgen.LoadAverage())
				in.mu.Unlock()
			}
		}
	})
	start := time.Now()
	for r := range c.Rounds {
		for _, p := range roundPlan {
			// In floating point: p.at*round overflows a Duration.
			at := start.Add(time.Duration(r)*round + time.Duration(float64(p.at)*float64(round)/float64(roundTemplate)))
			wg.Go(func() {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(at)):
				}
				in.inject(ctx, p.kind, r+1)
			})
		}
	}
	<-ctx.Done()
	wg.Wait()
}

// inject runs one fault and records it. The restoring half runs even when
// ctx ends meanwhile: nothing stays broken.
func (in *injector) inject(ctx context.Context, kind string, round int) {
	restore := context.WithoutCancel(ctx)
	start := time.Now()
	var err error
	switch kind {
	case kindAPIKill:
		err = in.down(restore, testenv.KubeAPIServer, apiDown)
	case kindEtcdKill:
		err = in.down(restore, testenv.Etcd, etcdDown)
	case kindAPIPause:
		if err = in.env.Pause(testenv.KubeAPIServer); err == nil {
			time.Sleep(apiPause)
			err = in.env.Resume(testenv.KubeAPIServer)
		}
	case kindLeaderKill:
		var r *replica
		if r, err = in.leader(); err == nil {
			start = time.Now()
			err = r.signal(syscall.SIGKILL, true)
		}
	case kindLeaderPause:
		var r *replica
		if r, err = in.leader(); err == nil {
			start = time.Now()
			if err = r.signal(syscall.SIGSTOP, true); err == nil {
				// Past the Lease (15s) and the other replica's
				// takeover, then it wakes.
				time.Sleep(25 * time.Second)
				err = r.signal(syscall.SIGCONT, false)
			}
		}
	case kindEvents:
		if err = in.refuseEvents(restore, true); err == nil {
			time.Sleep(eventsRefused)
			err = in.refuseEvents(restore, false)
		}
	case kindCatalog:
		err = in.editCatalog(restore)
	case kindHang, kindGarbage, kindHuge:
		mode := map[string]string{kindHang: modeHang, kindGarbage: modeGarbage, kindHuge: modeHuge}[kind]
		in.targets[kind].set(mode)
		time.Sleep(metricsWindow)
		in.targets[kind].set(modeGood)
	}
	end := time.Now()
	if err != nil {
		say("Round %d: %s failed: %v", round, kind, err)
		return
	}
	say("Round %d: %s from %s to %s", round, kind, clock(start), clock(end))
	in.mu.Lock()
	in.log = append(in.log, Injection{Kind: kind, Start: start, End: end})
	in.mu.Unlock()
}

// down kills a control-plane component and restarts it after d.
func (in *injector) down(ctx context.Context, name string, d time.Duration) error {
	if err := in.env.Kill(name); err != nil {
		return err
	}
	time.Sleep(d)
	for {
		err := in.env.Restart(ctx, name)
		if err == nil || errors.Is(err, testenv.ErrRunning) {
			// Running: restarted here, or by an overlapping fault of
			// the same kind, which waits for it to be ready.
			return nil
		}
		say("Restart %s: %v; retrying", name, err)
		time.Sleep(2 * time.Second)
	}
}

// leader is the replica holding the Lease, as the Lease says.
func (in *injector) leader() (*replica, error) {
	in.obs.mu.Lock()
	holder := ""
	if n := len(in.obs.holders); n > 0 {
		holder = in.obs.holders[n-1].Identity
	}
	in.obs.mu.Unlock()
	for _, r := range in.replicas {
		if r.name == holder && r.pid() != 0 && !r.isPaused() {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%w (Lease holder %q)", errNoLeader, holder)
}

// refuseEvents takes create, update and patch on Events away from the
// chart's ClusterRole (refuse) or gives the original rules back.
func (in *injector) refuseEvents(ctx context.Context, refuse bool) error {
	for {
		role, err := in.cs.RbacV1().ClusterRoles().Get(ctx, chartName, metav1.GetOptions{})
		if err == nil {
			role.Rules = append([]rbacv1.PolicyRule(nil), in.roleRules...)
			if refuse {
				for i, r := range role.Rules {
					if eventsRule(r) {
						role.Rules[i].Verbs = []string{"get", "list", "watch"}
					}
				}
			}
			_, err = in.cs.RbacV1().ClusterRoles().Update(ctx, role, metav1.UpdateOptions{})
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Second)
	}
}

// editCatalog edits the catalogue ConfigMap catalogEdits times in
// catalogWindow, alternating a valid change (a comment naming the edit)
// with an invalid one (a file that does not load), then restores it.
func (in *injector) editCatalog(ctx context.Context) error {
	every := catalogWindow / catalogEdits
	var firstKey string
	for k := range in.catalogData {
		if firstKey == "" || k < firstKey {
			firstKey = k
		}
	}
	failures := 0
	// The API may be down when the edits begin (faults overlap): wait.
	cm, err := in.getCatalog(ctx)
	if err != nil {
		return err
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for i := range catalogEdits {
		data := maps.Clone(in.catalogData)
		if i%2 == 0 {
			data[firstKey] += fmt.Sprintf("\n# chaos edit %d\n", i)
		} else {
			data[brokenFileName] = fmt.Sprintf("apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata:\n  name: statusd-shipped\nreasons:\n- name: ChaosBroken%d\n  layer: addon\n  subject: nosuchsource\n  when: 'this is (not CEL'\n", i)
		}
		if next, err := in.setCatalog(ctx, cm, data); err != nil {
			failures++
			if fresh, err := in.cs.CoreV1().ConfigMaps(chartNamespace).Get(ctx, catalogMap, metav1.GetOptions{}); err == nil {
				cm = fresh
			}
		} else {
			cm = next
		}
		<-t.C
	}
	for {
		if _, err := in.setCatalog(ctx, cm, in.catalogData); err == nil {
			break
		}
		if cm, err = in.getCatalog(ctx); err != nil {
			return fmt.Errorf("restore catalogue: %w", err)
		}
	}
	if failures > catalogEdits/2 {
		return fmt.Errorf("%d of %d catalogue edits failed", failures, catalogEdits)
	}
	return nil
}

// getCatalog reads the catalogue ConfigMap, retrying while the API is
// unreachable, until ctx ends.
func (in *injector) getCatalog(ctx context.Context) (*corev1.ConfigMap, error) {
	for {
		cm, err := in.cs.CoreV1().ConfigMaps(chartNamespace).Get(ctx, catalogMap, metav1.GetOptions{})
		if err == nil {
			return cm, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("get catalogue: %w", err)
		}
		time.Sleep(time.Second)
	}
}

// setCatalog replaces the catalogue's data with one update of cm, the
// ConfigMap as last read or written (no read per edit: 100 edits a minute
// is the point).
func (in *injector) setCatalog(ctx context.Context, cm *corev1.ConfigMap, data map[string]string) (*corev1.ConfigMap, error) {
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cm = cm.DeepCopy()
	cm.Data = data
	next, err := in.cs.CoreV1().ConfigMaps(chartNamespace).Update(wctx, cm, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("update catalogue: %w", err)
	}
	return next, nil
}

// done returns the injections made, in the order they ended.
func (in *injector) done() []Injection {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Injection(nil), in.log...)
}
