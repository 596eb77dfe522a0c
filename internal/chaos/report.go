package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"statusd.io/statusd/internal/loadgen"
)

// report is everything a run measured; docs/chaos.json holds it as is.
type report struct {
	Config       config              `json:"config"`
	Machine      loadgen.MachineInfo `json:"machine"`
	Started      time.Time           `json:"started"`
	ChaosStart   time.Time           `json:"chaosStart"`
	ChaosEnd     time.Time           `json:"chaosEnd"`
	Duration     float64             `json:"durationSeconds"`
	Pods         int                 `json:"podsAvailable"`
	LoadAverages []float64           `json:"loadAverages1m"`
	Rules        Rules               `json:"rules"`
	Results      []Result            `json:"results"`
	Memory       memoryResult        `json:"memory"`
	SelfWarnings map[string]int      `json:"selfWarnings"`
	// UnexplainedSelfWarnings are Warnings statusd wrote about itself
	// while no injection was under way.
	UnexplainedSelfWarnings []string `json:"unexplainedSelfWarnings"`
	Ledger                  Ledger   `json:"ledger"`
	Notes                   []string `json:"notes,omitempty"`
}

// memoryResult is statusd under the chart's memory limit over the run.
type memoryResult struct {
	Limit     float64         `json:"containerLimitBytes"`
	SoftLimit int64           `json:"memoryLimitFlagBytes"`
	OOMKills  int             `json:"oomKills"`
	Replicas  []replicaMemory `json:"replicas"`
}

// replicaMemory is one replica's growth: the first sample a minute into the
// faults against the last one, and the peaks.
type replicaMemory struct {
	Name            string  `json:"name"`
	Starts          int     `json:"processStarts"`
	PeakRSS         float64 `json:"peakRssBytes"`
	FirstRSS        float64 `json:"firstRssBytes"`
	LastRSS         float64 `json:"lastRssBytes"`
	FirstGoroutines float64 `json:"firstGoroutines"`
	LastGoroutines  float64 `json:"lastGoroutines"`
	MaxGoroutines   float64 `json:"maxGoroutines"`
	FirstHeap       float64 `json:"firstHeapBytes"`
	LastHeap        float64 `json:"lastHeapBytes"`
}

func (r *report) memory(rs []*replica, obs *observer, limit float64, from time.Time) {
	r.Memory = memoryResult{Limit: limit, SoftLimit: r.Config.SoftLimit}
	for _, x := range r.Ledger.Exits {
		if strings.HasPrefix(x.Why, "OOM") && !x.Injected {
			r.Memory.OOMKills++
		}
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	for _, rep := range rs {
		m := replicaMemory{Name: rep.name, Starts: len(rep.startedPIDs())}
		rep.mu.Lock()
		m.PeakRSS = rep.peakRSS
		rep.mu.Unlock()
		var ss []sample
		for _, s := range obs.samples[rep.name] {
			if s.At.After(from.Add(time.Minute)) {
				ss = append(ss, s)
			}
		}
		if len(ss) > 0 {
			first, last := ss[0], ss[len(ss)-1]
			m.FirstRSS, m.LastRSS = first.RSSBytes, last.RSSBytes
			m.FirstGoroutines, m.LastGoroutines = first.Goroutines, last.Goroutines
			m.FirstHeap, m.LastHeap = first.HeapBytes, last.HeapBytes
			for _, s := range ss {
				m.MaxGoroutines = max(m.MaxGoroutines, s.Goroutines)
				m.PeakRSS = max(m.PeakRSS, s.RSSBytes)
			}
		}
		r.Memory.Replicas = append(r.Memory.Replicas, m)
	}
}

// selfWarnings tallies the Warnings statusd wrote about itself (a rejected
// catalogue, an unreadable source) and lists those written while no
// injection was under way (start to end plus the bound).
func (r *report) selfWarnings(obs *observer, l Ledger) {
	r.SelfWarnings = map[string]int{}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	seen := map[string]bool{}
	for _, w := range obs.self {
		if w.Type != "Warning" {
			continue
		}
		key := w.Namespace + "/" + w.Name
		if seen[key] {
			continue
		}
		seen[key] = true
		r.SelfWarnings[w.Reason]++
		explained := false
		for _, in := range l.Injections {
			if !w.At.Before(in.Start) && !w.At.After(in.End.Add(r.Rules.Bound)) {
				explained = true
			}
		}
		if !explained && w.At.After(r.ChaosStart) {
			r.UnexplainedSelfWarnings = append(r.UnexplainedSelfWarnings, fmt.Sprintf("%s %s on %s at %s", w.Type, w.Reason, w.Subject, clock(w.At)))
		}
	}
}

// write writes chaos.json and chaos.md into dir.
func (r *report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "chaos.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write chaos.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "chaos.md"), []byte(r.markdown()), 0o644); err != nil {
		return fmt.Errorf("write chaos.md: %w", err)
	}
	return nil
}

var kindText = map[string]string{
	kindAPIKill:     fmt.Sprintf("kube-apiserver killed (SIGKILL), restarted after %s", apiDown),
	kindAPIPause:    fmt.Sprintf("kube-apiserver paused (SIGSTOP) for %s, then resumed", apiPause),
	kindEtcdKill:    fmt.Sprintf("etcd killed (SIGKILL), restarted after %s", etcdDown),
	kindLeaderKill:  "the leader statusd killed (SIGKILL); restarted 5 s later, as a kubelet would",
	kindLeaderPause: "the leader statusd paused (SIGSTOP) for 25 s, past its 15 s Lease, then resumed: a zombie leader",
	kindEvents:      fmt.Sprintf("Event writes refused for %s (create, update and patch on events taken out of the chart's ClusterRole, then restored)", eventsRefused),
	kindCatalog:     fmt.Sprintf("the catalogue ConfigMap edited %d times in %s, alternating valid and invalid versions, then restored", catalogEdits, catalogWindow),
	kindHang:        fmt.Sprintf("a vLLM pod's metrics target accepts and never answers, for %s", metricsWindow),
	kindGarbage:     fmt.Sprintf("a vLLM pod's metrics target answers garbage, for %s", metricsWindow),
	kindHuge:        fmt.Sprintf("a vLLM pod's metrics target answers 50 MB (no Content-Length), for %s", metricsWindow),
	kindApp:         "add-on releases failing (InstallFailed) and recovering on the ledger's schedule",
	Quiet:           "anomalies while no infrastructure fault was under way",
}

func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	c := r.Config
	p("# statusd under faults")
	p("")
	p("Generated by `make chaos` (internal/chaos) on %s; do not edit by hand.", r.Started.Format("2006-01-02 15:04 MST"))
	p("")
	p("On the local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) with %d simulated nodes and %d pods available in %d add-on namespaces (a HelmRelease and Deployments of %d each), under churn (%.0f pods deleted and recreated a second), two `bin/statusd run` replicas elect a leader on the chart's Lease (%d s) and run as the chart's ServiceAccount with the chart's RBAC, watching the chart's catalogue ConfigMap, with `--memory-limit=%d` (90%% of the chart's %s container limit, as statusd sets it in the container); a replica whose resident memory passes %s is killed, as the OOM killer would.",
		c.Nodes, r.Pods, c.Namespaces, c.Replicas, c.PodChurn, c.LeaseSeconds, c.SoftLimit, c.MemoryLimit, c.MemoryLimit)
	p("")
	p("For %s, add-on releases fail (Ready=False InstallFailed, Stalled) every %s and recover after %s to %s: the ledger, %d faults. Meanwhile each infrastructure fault below is injected %d times, some overlapping (see the timeline in chaos.json). Afterwards the run compares the Events statusd wrote, as an informer on Events saw them, its metrics (ticks, leadership, goroutines, memory, sampled every 2 s) and the Lease with the ledger.",
		c.Duration, c.AppEvery, c.AppHoldMin, c.AppHoldMax, len(r.Ledger.Faults), c.Rounds)
	p("")
	p("## Machine")
	p("")
	p("%s, %d cores, %s, %s, %s. The one-minute load average during the faults was %s.%s",
		r.Machine.CPU, r.Machine.Cores, r.Machine.Memory, r.Machine.Kernel, r.Machine.Go, loadSummary(r.LoadAverages), sharedNote(r.LoadAverages, r.Machine.Cores))
	p("The run took %s in all.", time.Duration(r.Duration*float64(time.Second)).Round(time.Second))
	p("")
	p("## Results")
	p("")
	p("| fault | injected | missed | missed Resolved | duplicates | false Resolved | false Warnings | zombie writes | crashed | recovery p50 | recovery p99 | not recovered |")
	p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, x := range r.Results {
		p("| %s | %d | %d | %d | %d | %d | %d | %d | %d | %s | %s | %d |", x.Name, x.Injected, x.Missed, x.MissedResolved, x.Duplicates, x.FalseResolved, x.FalseWarnings, x.ZombieWrites, x.Crashed,
			secs(x.RecoveryP50, len(x.Recoveries)), secs(x.RecoveryP99, len(x.Recoveries)), x.NotRecovered)
	}
	m := r.Memory
	p("| %s | 1 (whole run) | | | | | | | %d OOM kills | | | |", kindMemory, m.OOMKills)
	p("")
	p("What each row is:")
	p("")
	for _, k := range append(slices.Clone(kinds), kindApp, Quiet) {
		p("- **%s**: %s.", k, kindText[k])
	}
	p("- **%s**: the replicas ran under `--memory-limit=%d` with a hard limit of %s (the chart's defaults).", kindMemory, m.SoftLimit, c.MemoryLimit)
	p("")
	p("An anomaly counts under every fault whose window (its start to its end plus the bound) contains it, under *%s* when none does, and once in the *%s* row, which is the run's total.", Quiet, kindApp)
	p("")
	p("## What is counted, and the bounds")
	p("")
	p("- **missed**: a ledger fault with no Warning Event for its (reason, subject) episode by its deadline: its start plus the reason's grace plus the bound, %s. When a fault that blinds statusd (%s) overlaps that window, the deadline counts from that fault's end instead. A fault removed before its deadline may or may not be published; both are right.", c.Bound, strings.Join(sortedKeys(r.Rules.Blocking), ", "))
	p("- **missed Resolved**: a published fault whose `<Reason>Resolved` Event did not follow its removal within the bound (extended the same way).")
	p("- **duplicates**: more than one Event object for one (reason, subject).")
	p("- **false Resolved**: a Resolved Event written for an episode while its fault was still in place.")
	p("- **false Warnings**: a Warning episode (reason, subject, `statusd.io/firing-since`) that matches no ledger fault, or a Warning written more than the bound (%s) after its fault was removed (a rewrite from a view a few seconds old, such as a new leader's first tick on caches that have not caught up, is late but not false).", r.Rules.Bound)
	p("- **zombie writes**: an Event write by a replica other than the Lease holder at the time (and %s before).", r.Rules.Slack)
	p("- **crashed**: a statusd exit the run did not inject (an injected SIGKILL is not a crash; whatever a paused replica does after it resumes is its own).")
	p("- **recovery**: per injection, from its end to the first tick of the Lease holder after which every ledger fault in place is published and every one removed is resolved; sampled every 2 s.")
	p("")
	p("## Memory and goroutines")
	p("")
	p("| replica | process starts | peak RSS | RSS 1 min in → end | heap 1 min in → end | goroutines 1 min in → end (max) |")
	p("|---|--:|--:|--:|--:|--:|")
	for _, x := range m.Replicas {
		p("| %s | %d | %.0f MiB | %.0f → %.0f MiB | %.0f → %.0f MiB | %.0f → %.0f (%.0f) |", x.Name, x.Starts, x.PeakRSS/mib, x.FirstRSS/mib, x.LastRSS/mib, x.FirstHeap/mib, x.LastHeap/mib, x.FirstGoroutines, x.LastGoroutines, x.MaxGoroutines)
	}
	p("")
	p("Limit: %s (the chart's), `--memory-limit` %.0f MiB. OOM kills: %d.", c.MemoryLimit, float64(m.SoftLimit)/mib, m.OOMKills)
	p("")
	p("## statusd's Events about itself")
	p("")
	if len(r.SelfWarnings) == 0 {
		p("None.")
	} else {
		for _, k := range sortedKeys(r.SelfWarnings) {
			p("- %s: %d", k, r.SelfWarnings[k])
		}
	}
	p("")
	if len(r.UnexplainedSelfWarnings) > 0 {
		p("Written while no fault was under way:")
		p("")
		for _, s := range r.UnexplainedSelfWarnings {
			p("- %s", s)
		}
		p("")
	}
	p("## Every anomaly")
	p("")
	any := false
	for _, x := range r.Results {
		if x.Name != kindApp {
			continue
		}
		for _, d := range x.Details {
			p("- %s", d)
			any = true
		}
	}
	for _, x := range r.Results {
		for _, d := range x.Details {
			if strings.HasPrefix(d, "not recovered") {
				p("- %s", d)
				any = true
			}
		}
	}
	if !any {
		p("None.")
	}
	p("")
	if len(r.Notes) > 0 {
		p("## Notes")
		p("")
		for _, n := range r.Notes {
			p("- %s", n)
		}
		p("")
	}
	p("## Configuration")
	p("")
	p("```")
	cj, _ := json.MarshalIndent(c, "", "  ")
	p("%s", cj)
	p("```")
	return b.String()
}

func secs(v float64, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f s", v)
}

func loadSummary(l []float64) string {
	if len(l) == 0 {
		return "not sampled"
	}
	sum := 0.0
	for _, v := range l {
		sum += v
	}
	return fmt.Sprintf("%.1f on average (%.1f to %.1f)", sum/float64(len(l)), slices.Min(l), slices.Max(l))
}

// sharedNote warns, when the load averaged more than twice the cores
// (the control plane, kwok and two replicas keep about two busy), that
// other work shared the machine and the recovery times include waiting
// for a core.
func sharedNote(l []float64, cores int) string {
	if len(l) == 0 || cores == 0 {
		return ""
	}
	sum := 0.0
	for _, v := range l {
		sum += v
	}
	if sum/float64(len(l)) <= 2*float64(cores) {
		return ""
	}
	return fmt.Sprintf(" **Other work shared these %d cores during the run**: the recovery times include waiting for a core.", cores)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
