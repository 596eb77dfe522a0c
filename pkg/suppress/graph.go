package suppress

import (
	"container/heap"
	"fmt"
	"slices"
	"strings"
)

// Edge is a suppression edge: while Cause fires, it hides the Symptom
// findings that Join pairs with it.
type Edge struct {
	Cause   string
	Symptom string
	// Join names the join (sameNamespace, key, ...); the graph does not
	// interpret it.
	Join string
	// Index is the edge's position in the cause's list, so that callers can
	// map an edge back to its declaration.
	Index int
}

// CycleError is a cycle among suppression edges. Suppression must be a DAG:
// with A hiding B and B hiding A, which one an operator sees would depend on
// evaluation order, the flaw behind Alertmanager's mutual inhibition.
type CycleError struct {
	// Path is the cycle, first reason repeated at the end: A → B → A.
	Path []string
}

// Error renders the cycle as a path.
func (e *CycleError) Error() string {
	return "suppression cycle: " + strings.Join(e.Path, " → ")
}

// Graph is a checked, acyclic set of suppression edges over a catalogue's
// reasons, with an evaluation order that puts every cause before its
// symptoms.
type Graph struct {
	order    []string
	rank     map[string]int
	causesOf map[string][]Edge
	edgesOf  map[string][]Edge
}

// NewGraph checks edges over reasons (in declaration order) and orders them.
// Edges naming unknown reasons and self-edges are the catalogue's to report;
// here they are ignored, so that one broken edge does not hide a cycle
// elsewhere. Every cycle is reported once, starting at its
// first-declared reason.
func NewGraph(reasons []string, edges []Edge) (*Graph, []*CycleError) {
	known := make(map[string]int, len(reasons))
	for i, r := range reasons {
		if _, dup := known[r]; !dup {
			known[r] = i
		}
	}
	g := &Graph{rank: map[string]int{}, causesOf: map[string][]Edge{}, edgesOf: map[string][]Edge{}}
	adj := map[string][]string{}
	for _, e := range edges {
		_, okc := known[e.Cause]
		_, oks := known[e.Symptom]
		if !okc || !oks || e.Cause == e.Symptom {
			continue
		}
		g.edgesOf[e.Cause] = append(g.edgesOf[e.Cause], e)
		g.causesOf[e.Symptom] = append(g.causesOf[e.Symptom], e)
		adj[e.Cause] = append(adj[e.Cause], e.Symptom)
	}
	cycles := findCycles(reasons, adj, known)
	if len(cycles) > 0 {
		return nil, cycles
	}
	g.order = topoOrder(reasons, adj, known)
	for i, r := range g.order {
		g.rank[r] = i
	}
	return g, nil
}

// findCycles runs a depth-first search in declaration order and reports
// each back edge's cycle. A cycle is reported once, rotated to start at its
// earliest-declared reason, whatever node the search entered it from.
func findCycles(reasons []string, adj map[string][]string, known map[string]int) []*CycleError {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var out []*CycleError
	seen := map[string]bool{}
	var visit func(r string)
	visit = func(r string) {
		color[r] = grey
		stack = append(stack, r)
		for _, s := range adj[r] {
			switch color[s] {
			case white:
				visit(s)
			case grey:
				i := slices.Index(stack, s)
				cyc := slices.Clone(stack[i:])
				// Rotate to the earliest-declared member for a stable report.
				min := 0
				for j := range cyc {
					if known[cyc[j]] < known[cyc[min]] {
						min = j
					}
				}
				cyc = append(cyc[min:], cyc[:min]...)
				key := strings.Join(cyc, "\x00")
				if !seen[key] {
					seen[key] = true
					out = append(out, &CycleError{Path: append(cyc, cyc[0])})
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[r] = black
	}
	for _, r := range reasons {
		if color[r] == white {
			visit(r)
		}
	}
	return out
}

// topoOrder is Kahn's algorithm with ties broken by declaration order, so
// that the order is deterministic and as close as possible to the file's.
func topoOrder(reasons []string, adj map[string][]string, known map[string]int) []string {
	indeg := map[string]int{}
	for _, ss := range adj {
		for _, s := range ss {
			indeg[s]++
		}
	}
	// ready is a min-heap by declaration order: sorting it at every step
	// took time quadratic in the number of reasons (seconds for the ten
	// thousand a mebibyte of catalogue holds).
	ready := &byIndex{known: known}
	for _, r := range reasons {
		if indeg[r] == 0 {
			heap.Push(ready, r)
		}
	}
	out := make([]string, 0, len(reasons))
	done := map[string]bool{}
	for ready.Len() > 0 {
		r := heap.Pop(ready).(string)
		if done[r] {
			continue
		}
		done[r] = true
		out = append(out, r)
		for _, s := range adj[r] {
			indeg[s]--
			if indeg[s] == 0 {
				heap.Push(ready, s)
			}
		}
	}
	return out
}

// byIndex is a heap of reason names ordered by their index in known.
type byIndex struct {
	names []string
	known map[string]int
}

func (h *byIndex) Len() int           { return len(h.names) }
func (h *byIndex) Less(i, j int) bool { return h.known[h.names[i]] < h.known[h.names[j]] }
func (h *byIndex) Swap(i, j int)      { h.names[i], h.names[j] = h.names[j], h.names[i] }
func (h *byIndex) Push(x any)         { h.names = append(h.names, x.(string)) }
func (h *byIndex) Pop() any {
	n := len(h.names) - 1
	x := h.names[n]
	h.names = h.names[:n]
	return x
}

// Order returns the reasons with every cause before its symptoms.
func (g *Graph) Order() []string { return g.order }

// Rank is a reason's position in Order.
func (g *Graph) Rank(reason string) int { return g.rank[reason] }

// CausesOf returns the edges whose symptom is reason.
func (g *Graph) CausesOf(reason string) []Edge { return g.causesOf[reason] }

// EdgesOf returns the edges whose cause is reason.
func (g *Graph) EdgesOf(reason string) []Edge { return g.edgesOf[reason] }

// Edges returns every edge, by cause in Order.
func (g *Graph) Edges() []Edge {
	var out []Edge
	for _, r := range g.order {
		out = append(out, g.edgesOf[r]...)
	}
	return out
}

// String lists the edges, for debugging and explain.
func (e Edge) String() string {
	return fmt.Sprintf("%s -[%s]-> %s", e.Cause, e.Join, e.Symptom)
}
