package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"statusd.io/statusd/internal/loadgen"
)

const mib = 1 << 20

// results are everything a run measured; docs/scale.json holds them as is.
type results struct {
	Config            config              `json:"config"`
	Machine           loadgen.MachineInfo `json:"machine"`
	Started           time.Time           `json:"started"`
	Duration          float64             `json:"durationSeconds"`
	ControlPlaneStart float64             `json:"controlPlaneStartSeconds"`
	ControlPlane      controlPlaneInfo    `json:"controlPlane"`
	Baseline          sample              `json:"baseline"`
	Steps             []stepResult        `json:"steps"`
	Notes             []string            `json:"notes,omitempty"`
}

// controlPlaneInfo is how the control plane was started, beyond testenv's
// defaults.
type controlPlaneInfo struct {
	APIServerArgs         []string `json:"apiserverArgs,omitempty"`
	ControllerManagerArgs []string `json:"controllerManagerArgs,omitempty"`
	SchedulerArgs         []string `json:"schedulerArgs,omitempty"`
	SchedulerQPS          int      `json:"schedulerQPS,omitempty"`
	SchedulerBurst        int      `json:"schedulerBurst,omitempty"`
	// SchedulerPercentageOfNodesToScore is percentageOfNodesToScore in
	// kube-scheduler's configuration file.
	SchedulerPercentageOfNodesToScore int `json:"schedulerPercentageOfNodesToScore,omitempty"`
	// SchedulerNoDefaultSpread is an empty list of default topology
	// spread constraints in kube-scheduler's configuration file.
	SchedulerNoDefaultSpread bool    `json:"schedulerNoDefaultSpread,omitempty"`
	NodeLeaseSeconds         float64 `json:"nodeLeaseSeconds,omitempty"`
	GOGC                     int     `json:"gogc,omitempty"`
}

// describe says in a sentence how the control plane differed from
// testenv's defaults.
func (c controlPlaneInfo) describe() string {
	var parts []string
	add := func(who string, args []string) {
		if len(args) > 0 {
			parts = append(parts, fmt.Sprintf("%s `%s`", who, strings.Join(args, " ")))
		}
	}
	add("kube-apiserver", c.APIServerArgs)
	add("kube-controller-manager", c.ControllerManagerArgs)
	add("kube-scheduler", c.SchedulerArgs)
	if c.SchedulerQPS > 0 || c.SchedulerBurst > 0 {
		parts = append(parts, fmt.Sprintf("kube-scheduler's client at %d requests a second, burst %d", c.SchedulerQPS, c.SchedulerBurst))
	}
	if c.SchedulerPercentageOfNodesToScore > 0 {
		parts = append(parts, fmt.Sprintf("kube-scheduler's `percentageOfNodesToScore: %d`", c.SchedulerPercentageOfNodesToScore))
	}
	if c.SchedulerNoDefaultSpread {
		parts = append(parts, "no default topology spread constraints in kube-scheduler")
	}
	if c.NodeLeaseSeconds > 0 {
		parts = append(parts, fmt.Sprintf("node Leases of %.0f s (renewed every %.0f s)", c.NodeLeaseSeconds, c.NodeLeaseSeconds/4))
	}
	if c.GOGC > 0 {
		parts = append(parts, fmt.Sprintf("GOGC=%d for every component", c.GOGC))
	}
	if len(parts) == 0 {
		return "Control plane: testenv's defaults (`--tune=false`)."
	}
	return "Control plane: testenv's defaults except " + strings.Join(parts, ", ") + " (`--tune`, so that the simulated cluster fills faster; statusd's own flags are unchanged)."
}

// growth returns the pods added over all steps and the seconds from each
// step's first create to its pods being available, summed.
func (r *results) growth() (pods int, secs float64) {
	prev := 0
	for _, s := range r.Steps {
		secs += s.Settle
		pods += s.grown() - prev
		prev = s.grown()
	}
	return pods, secs
}

// grown is how many pods the step had grown the cluster to: those available
// before the window, or for reports older than that field, those counted
// after it.
func (s stepResult) grown() int {
	if s.Available > 0 {
		return s.Available
	}
	return s.Pods
}

// stepResult is one cluster size's steady-state window.
type stepResult struct {
	Step             int       `json:"step"`
	Nodes            int       `json:"nodes"`
	Namespaces       int       `json:"namespaces"`
	Pods             int       `json:"pods"`
	Settle           float64   `json:"settleSeconds"`
	Available        int       `json:"availablePods,omitempty"`
	Window           float64   `json:"windowSeconds"`
	PodsDeleted      int       `json:"podsDeleted"`
	ChurnErrors      int       `json:"churnErrors"`
	Ticks            float64   `json:"ticks"`
	TickP50ms        float64   `json:"tickP50Ms"`
	TickP99ms        float64   `json:"tickP99Ms"`
	TickMeanms       float64   `json:"tickMeanMs"`
	FaultsInjected   int       `json:"faultsInjected"`
	FaultsSeen       int       `json:"faultsSeen"`
	FaultP50ms       float64   `json:"faultToEventP50Ms"`
	FaultP99ms       float64   `json:"faultToEventP99Ms"`
	FaultLatenciesMs []float64 `json:"faultToEventMs"`
	CPUSeconds       float64   `json:"cpuSeconds"`
	CPUCores         float64   `json:"cpuCores"`
	RSSBytes         float64   `json:"rssBytes"`
	PeakRSSBytes     float64   `json:"peakRssBytes"`
	// HeapBytes is the Go heap in use (go_memstats_heap_inuse_bytes) at
	// the end of the window: live objects plus what the collector has not
	// yet reclaimed; 0 in reports made before it was recorded.
	HeapBytes            float64            `json:"heapBytes,omitempty"`
	CachedObjects        float64            `json:"cachedObjects"`
	BytesPerCachedObject float64            `json:"bytesPerCachedObject"`
	StatusdLists         float64            `json:"statusdListRequests"`
	EventRequests        map[string]float64 `json:"eventRequestsByVerb"`
	EventWritesPerMinute float64            `json:"eventWritesPerMinute"`
	APIRequests          map[string]float64 `json:"apiserverRequestsByVerb"`
	LoadAverage          float64            `json:"loadAverage1m,omitempty"`
}

// write writes scale.json, scale.md and scale.png into dir; it runs after
// every step, so an interrupted run still leaves what it measured.
func (r *results) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scale.json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("write scale.json: %w", err)
	}
	if err := writePlot(filepath.Join(dir, "scale.png"), r.Steps); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "scale.md"), []byte(r.markdown()), 0o644); err != nil {
		return fmt.Errorf("write scale.md: %w", err)
	}
	return nil
}

// rewrite renders the report again from a scale.json, so that a change to
// the report's wording does not need another run.
func rewrite(jsonPath, dir string, notes []string) error {
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		return fmt.Errorf("read results: %w", err)
	}
	var r results
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("decode %s: %w", jsonPath, err)
	}
	r.Notes = append(r.Notes, notes...)
	return r.write(dir)
}

// Targets from issues 8 and 17, at 30,000 pods on a 2-core machine: issue
// 17 holds the peak RSS (the process's high-water mark, what a memory
// limit must fit) with Go's default GC settings, not the RSS at the end of
// a window.
const (
	targetPods       = 30000
	targetTickP50ms  = 100
	targetRSSMiB     = 300
	targetFaultMs    = 2000
	targetSteadyList = 0
)

func (r *results) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	c := r.Config
	p("# statusd scale run")
	p("")
	p("Generated by `make scale` (`go run ./internal/scale`) on %s; do not edit by hand, rerun it.", r.Started.Format("2006-01-02 15:04 UTC"))
	p("")
	p("statusd (`bin/statusd run --catalog %s --leader-elect=false`, the shipped catalogue, default debounce and resync) ran as a local process against the local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok simulating the nodes and pods, all on the same machine). The cluster grew in %d steps to %d nodes, %d add-on namespaces (`iaas-addon-*`, a HelmRelease each, Deployments of %d replicas) and %d pods; after each step, once the pods were available, a %s window measured statusd under churn: %.1f pod deletions per second (recreated by their Deployments) and an add-on failing every %s (its HelmRelease set to `Ready=False InstallFailed`, `Stalled=True`) and recovering once its Event arrived.",
		c.Catalog, c.Steps, c.Nodes, c.Namespaces, c.Replicas, c.Pods, c.Window, c.PodChurn, c.FaultEvery)
	if c.MemoryLimit != "" {
		p("")
		p("statusd ran with `--memory-limit %s`: a soft limit on its Go heap, which makes the garbage collector collect more often as the heap nears it, as statusd sets by itself in a container (90%% of the container's memory limit) and as GOMEMLIMIT does. Without it Go lets the heap grow to twice what is live before collecting.", c.MemoryLimit)
	}
	p("")
	p("Machine: %s, %d cores, %s memory, %s, %s. The control plane, kwok, the load generator and statusd share these cores, so statusd's numbers include contention. Run took %s (control plane start %s).",
		r.Machine.CPU, r.Machine.Cores, r.Machine.Memory, r.Machine.Kernel, r.Machine.Go,
		time.Duration(r.Duration*float64(time.Second)).Round(time.Second), time.Duration(r.ControlPlaneStart*float64(time.Second)).Round(time.Second))
	p("")
	p("%s", r.ControlPlane.describe())
	if c.GrowthNice > 0 {
		p("While the cluster grew, statusd ran at nice %d, so that the control plane got the CPU first: it still received every watch event as it happened and only ticked less often. It was back at nice 0 from the 10 s catch-up pause before each window, so every number below was measured at nice 0.", c.GrowthNice)
	}
	if pods, secs := r.growth(); secs > 0 {
		var per []string
		prev := 0
		for _, st := range r.Steps {
			if st.Settle > 0 {
				per = append(per, fmt.Sprintf("%.1f to %d", float64(st.grown()-prev)/st.Settle, st.grown()))
			}
			prev = st.grown()
		}
		p("Growth: pods became available at %.1f per second overall, from each step's first create to its last pod available (per step: %s).",
			float64(pods)/secs, strings.Join(per, ", "))
	}
	p("")
	p("![tick duration and RSS against cluster size](scale.png)")
	p("")
	p("## Results")
	p("")
	p("| pods | nodes | add-on ns | settle | window | ticks | tick p50 | tick p99 | tick mean | fault→Event p50 | fault→Event p99 | faults seen | CPU (cores) | CPU per tick | RSS | peak RSS | Go heap in use | cached objects | bytes / cached object | Event writes/min | statusd LISTs |")
	p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range r.Steps {
		perTick := 0.0
		if s.Ticks > 0 {
			perTick = 1000 * s.CPUSeconds / s.Ticks
		}
		heap := "n/a"
		if s.HeapBytes > 0 {
			heap = fmt.Sprintf("%.0f MiB", s.HeapBytes/mib)
		}
		p("| %d | %d | %d | %.0f s | %.0f s | %.0f | %.1f ms | %.1f ms | %.1f ms | %.0f ms | %.0f ms | %d/%d | %.2f | %.0f ms | %.0f MiB | %.0f MiB | %s | %.0f | %.0f | %.1f | %.0f |",
			s.Pods, s.Nodes, s.Namespaces, s.Settle, s.Window, s.Ticks, s.TickP50ms, s.TickP99ms, s.TickMeanms,
			s.FaultP50ms, s.FaultP99ms, s.FaultsSeen, s.FaultsInjected, s.CPUCores, perTick, s.RSSBytes/mib, s.PeakRSSBytes/mib, heap,
			s.CachedObjects, s.BytesPerCachedObject, s.EventWritesPerMinute, s.StatusdLists)
	}
	p("")
	var loads []string
	for _, s := range r.Steps {
		if s.LoadAverage > 0 {
			loads = append(loads, fmt.Sprintf("%.1f at %d pods", s.LoadAverage, s.Pods))
		}
	}
	if len(loads) > 0 {
		p("Load average (1 min) at the end of each window, on %d cores: %s.", r.Machine.Cores, strings.Join(loads, ", "))
		p("")
	}
	p("Baseline before any add-on namespace existed: RSS %.0f MiB, %.0f cached objects.", r.Baseline.RSSBytes/mib, r.Baseline.CachedObjects)
	p("")
	p("How each number is measured:")
	p("")
	p("- Tick duration: `statusd_tick_duration_seconds` bucket deltas over the window, interpolated within buckets as `histogram_quantile` does. The buckets double from 1 ms, so p50 and p99 are good to within a factor of two; the mean (`_sum`/`_count`) is exact.")
	p("- Fault-to-Event: wall time from the HelmRelease status patch returning to the `AddonInstallFailed` Event arriving on a watch (`reason=AddonInstallFailed`), both on this machine. AddonInstallFailed has grace 0, so this is the latency beyond grace. It includes statusd's 250 ms debounce.")
	p("- Tick duration is wall time inside statusd, so on an oversubscribed machine it includes time statusd waited for a core. CPU per tick (statusd's CPU seconds over the window divided by its ticks, informers and Event writes included) is an upper bound on the CPU a tick costs and does not wait; where the mean tick is well above it, contention inflated the tick times.")
	p("- CPU: `process_cpu_seconds_total` delta over the window divided by its length. RSS: `VmRSS` of the statusd process at the end of the window; peak RSS: `VmHWM` (the process's high-water mark since start); Go heap in use: `go_memstats_heap_inuse_bytes` at the end of the window (live objects and garbage not yet collected; with Go's default GOGC=100 the heap grows to about twice what is live before a collection).")
	p("- Memory per cached object: (RSS − baseline RSS) / (`statusd_source_cached_objects` − baseline); pods are most of the cached objects.")
	p("- Event writes per minute: `statusd_event_requests_total` (all verbs) over the window. statusd LISTs: `statusd_source_list_requests_total` delta over the window.")
	p("")
	p("## API requests in steady state, by verb")
	p("")
	p("`apiserver_request_total` has no client label, so the apiserver's counts below are every client's: the load generator (a LIST and a DELETE per pod deletion, a PATCH per fault and recovery), kube-controller-manager, kube-scheduler and kwok recreating and running pods. statusd's own requests are its counters: `statusd_source_list_requests_total` (LIST) and `statusd_event_requests_total` (Event writes by verb); its reads otherwise are its informers' WATCHes, opened once.")
	p("")
	verbs := map[string]bool{}
	for _, s := range r.Steps {
		for v := range s.APIRequests {
			verbs[v] = true
		}
		for v := range s.EventRequests {
			verbs["statusd "+v] = true
		}
	}
	var cols []string
	for v := range verbs {
		cols = append(cols, v)
	}
	sort.Strings(cols)
	p("| pods | %s | statusd LIST |", strings.Join(cols, " | "))
	p("|---:|%s---:|", strings.Repeat("---:|", len(cols)))
	for _, s := range r.Steps {
		row := []string{fmt.Sprint(s.Pods)}
		for _, v := range cols {
			if ev, ok := strings.CutPrefix(v, "statusd "); ok {
				row = append(row, fmt.Sprintf("%.0f", s.EventRequests[ev]))
			} else {
				row = append(row, fmt.Sprintf("%.0f", s.APIRequests[v]))
			}
		}
		row = append(row, fmt.Sprintf("%.0f", s.StatusdLists))
		p("| %s |", strings.Join(row, " | "))
	}
	p("")
	p("(Counts are per window; `statusd <verb>` columns are statusd's Event requests.)")
	p("")
	r.targets(p)
	if len(r.Notes) > 0 {
		p("")
		p("## Notes from the run")
		p("")
		for _, n := range r.Notes {
			p("- %s", n)
		}
	}
	return b.String()
}

func (r *results) targets(p func(string, ...any)) {
	p("## Targets (issues 8 and 17)")
	p("")
	if len(r.Steps) == 0 {
		p("No step finished.")
		return
	}
	last := r.Steps[len(r.Steps)-1]
	// Pods are counted after the window, when churn may have a few
	// deleted and not yet replaced: what the step reached is what was
	// available before it.
	reached := last.grown() >= targetPods
	at := fmt.Sprintf("at %d pods (largest size run)", last.Pods)
	verdict := func(ok bool) string {
		if !reached {
			if ok {
				return "met at the largest size run; 30,000 pods not run"
			}
			return "missed already at the largest size run"
		}
		if ok {
			return "met"
		}
		return "missed"
	}
	maxFault := 0.0
	lists := 0.0
	// A fault whose Event never arrived has no latency to count: the
	// target is missed, not met by a p99 over the faults that were seen.
	missed, injected := 0, 0
	for _, s := range r.Steps {
		maxFault = max(maxFault, s.FaultP99ms)
		lists += s.StatusdLists
		missed += s.FaultsInjected - s.FaultsSeen
		injected += s.FaultsInjected
	}
	faultText := fmt.Sprintf("worst p99 over all sizes %.0f ms", maxFault)
	if missed > 0 {
		faultText += fmt.Sprintf("; %d of %d faults' Events never arrived", missed, injected)
	}
	p("| target | measured | verdict |")
	p("|---|---|---|")
	p("| tick p50 ≤ %d ms at 30,000 pods | %.1f ms %s | %s |", targetTickP50ms, last.TickP50ms, at, verdict(last.TickP50ms <= targetTickP50ms))
	p("| peak RSS ≤ %d MiB at 30,000 pods, default flags and GC | peak %.0f MiB (%.0f MiB at the end of the window) %s | %s |", targetRSSMiB, last.PeakRSSBytes/mib, last.RSSBytes/mib, at, verdict(last.PeakRSSBytes/mib <= targetRSSMiB))
	p("| fault-to-Event p99 ≤ %d ms beyond grace | %s | %s |", targetFaultMs, faultText, verdict(missed == 0 && maxFault <= targetFaultMs))
	p("| %d LIST requests in steady state | %.0f over all windows | %s |", targetSteadyList, lists, verdict(lists == targetSteadyList))
	if !reached && len(r.Steps) > 0 {
		p("")
		first := r.Steps[0]
		p("**Not reached: the issue's size, 1,000 nodes, 30,000 pods and 500 add-on namespaces.** The largest size run was %d nodes, %d pods and %d add-on namespaces.", last.Nodes, last.Pods, last.Namespaces)
		if last.Pods > first.Pods && last.CachedObjects > first.CachedObjects {
			// The marginal cost between the smallest and largest size, which
			// leaves out the fixed cost the baseline ratio includes.
			perObject := (last.RSSBytes - first.RSSBytes) / (last.CachedObjects - first.CachedObjects)
			perPod := (last.CachedObjects - first.CachedObjects) / float64(last.Pods-first.Pods)
			extra := float64(targetPods-last.Pods) * perPod * perObject / mib
			p("Extrapolating linearly from the marginal memory per cached object between the smallest and largest size (%.0f bytes), statusd would hold about %.0f MiB at 30,000 pods; tick time grew from %.1f ms to %.1f ms (p50) between %d and %d pods, so at 30,000 pods it would be about %.0f ms if it keeps growing linearly. These are estimates, not measurements.",
				perObject, last.RSSBytes/mib+extra, first.TickP50ms, last.TickP50ms, first.Pods, last.Pods,
				last.TickP50ms+(last.TickP50ms-first.TickP50ms)*float64(targetPods-last.Pods)/float64(last.Pods-first.Pods))
		}
		if pods, secs := r.growth(); secs > 0 && pods > 0 {
			rate := float64(pods) / secs
			p("")
			if r.Config.Pods < targetPods {
				p("The run was sized to %d pods (`--pods`), below the issue's size. At the rate this run grew, %.1f pods available per second, 30,000 pods would take about %.0f minutes to create; `make scale` without SCALEFLAGS runs the issue's size.",
					r.Config.Pods, rate, targetPods/rate/60)
			} else {
				p("The run was sized to %d pods but stopped at %d; pods became available at %.1f per second, so 30,000 would take about %.0f minutes to create.",
					r.Config.Pods, last.Pods, rate, targetPods/rate/60)
			}
		}
	}
}
