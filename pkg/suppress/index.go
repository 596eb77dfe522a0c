package suppress

import (
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
)

// ClusterKey is the one key every subject has under the cluster join.
const ClusterKey = "*"

// NamedKeys returns the join keys of subject o for a named join, on the
// cause side (asCause) or the symptom side. A pair is joined when the two
// sides share a key; an empty side never joins, so a pod that is not on a
// node is never hidden by a node fault.
func NamedKeys(kind catalog.JoinKind, o *snapshot.Object, asCause bool) []string {
	switch kind {
	case catalog.JoinSameSubject:
		return []string{o.ID()}
	case catalog.JoinSameNamespace:
		if o.Kind == "Namespace" && o.Namespace == "" {
			return []string{o.Name}
		}
		if o.Namespace == "" {
			return nil
		}
		return []string{o.Namespace}
	case catalog.JoinSameNode:
		if o.Node == "" {
			return nil
		}
		return []string{o.Node}
	case catalog.JoinSameOwner:
		// A cause hides what it controls, and what shares its controller: a
		// failing ReplicaSet hides its pods, a crash-looping pod hides its
		// siblings' symptoms.
		var keys []string
		if asCause && o.UID != "" {
			keys = append(keys, o.UID)
		}
		if o.Controller != "" {
			keys = append(keys, o.Controller)
		}
		return keys
	case catalog.JoinCluster:
		return []string{ClusterKey}
	}
	return nil
}

// State is how far a cause has got.
type State int

// Cause states. A pending cause holds its symptoms back rather than hiding
// them: the symptom may be published only once the cause is known not to
// fire, so no symptom is ever published ahead of its cause.
const (
	Pending State = iota + 1
	Firing
)

// Cause identifies an active cause finding.
type Cause struct {
	Reason   string
	Subject  string // a finding's subject reference, for explain
	Priority int
	State    State
}

// better orders causes: firing beats pending, then higher priority, then
// name, so the cause named in explain output is deterministic.
func (c Cause) better(o Cause) bool {
	if c.State != o.State {
		return c.State > o.State
	}
	if c.Priority != o.Priority {
		return c.Priority > o.Priority
	}
	if c.Reason != o.Reason {
		return c.Reason < o.Reason
	}
	return c.Subject < o.Subject
}

// Index collects one tick's active causes by edge and join key, so that each
// symptom finding is matched in constant time per edge instead of against
// every cause. It is built fresh each tick and is not safe for concurrent
// writes.
type Index struct {
	g     *Graph
	byKey map[edgeKey]Cause
	// active holds the edges with a cause under some key: a symptom's
	// keys for any other edge cannot match, so they are not computed.
	// Keys can be dear (sameWorkload walks owner chains through an index
	// of the namespace), and most symptoms, most ticks, have no cause.
	active map[edgePair]bool
}

type edgeKey struct {
	cause, symptom, key string
}

type edgePair struct {
	cause, symptom string
}

// NewIndex returns an empty index over g.
func NewIndex(g *Graph) *Index {
	return &Index{g: g, byKey: map[edgeKey]Cause{}, active: map[edgePair]bool{}}
}

// Add records an active cause under its keys for edge e.
func (ix *Index) Add(e Edge, keys []string, c Cause) {
	for _, k := range keys {
		if k == "" {
			continue
		}
		ek := edgeKey{e.Cause, e.Symptom, k}
		if prev, ok := ix.byKey[ek]; !ok || c.better(prev) {
			ix.byKey[ek] = c
		}
		ix.active[edgePair{e.Cause, e.Symptom}] = true
	}
}

// Match returns the best active cause joined to a symptom finding whose keys
// for each incoming edge keysFor returns, and whether there is one.
// keysFor is called only for the edges that have a cause.
func (ix *Index) Match(symptom string, keysFor func(Edge) []string) (Cause, bool) {
	var best Cause
	found := false
	for _, e := range ix.g.CausesOf(symptom) {
		if !ix.active[edgePair{e.Cause, e.Symptom}] {
			continue
		}
		for _, k := range keysFor(e) {
			if k == "" {
				continue
			}
			c, ok := ix.byKey[edgeKey{e.Cause, e.Symptom, k}]
			if ok && (!found || c.better(best)) {
				best, found = c, true
			}
		}
	}
	return best, found
}
