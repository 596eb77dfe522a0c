package suppress_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/suppress"
)

func edge(cause, symptom string) suppress.Edge {
	return suppress.Edge{Cause: cause, Symptom: symptom, Join: "sameNamespace"}
}

func TestNewGraph(t *testing.T) {
	tests := []struct {
		name    string
		reasons []string
		edges   []suppress.Edge
		order   []string
		cycles  [][]string
	}{
		{
			name:    "no edges keeps declaration order",
			reasons: []string{"C", "A", "B"},
			order:   []string{"C", "A", "B"},
		},
		{
			name:    "chain puts causes before symptoms",
			reasons: []string{"C", "B", "A"},
			edges:   []suppress.Edge{edge("A", "B"), edge("B", "C")},
			order:   []string{"A", "B", "C"},
		},
		{
			name:    "ties broken by declaration order",
			reasons: []string{"X", "C", "B", "A", "Y"},
			edges:   []suppress.Edge{edge("A", "B"), edge("B", "C")},
			order:   []string{"X", "A", "B", "C", "Y"},
		},
		{
			name:    "diamond",
			reasons: []string{"D", "C", "B", "A"},
			edges:   []suppress.Edge{edge("A", "B"), edge("A", "C"), edge("B", "D"), edge("C", "D")},
			order:   []string{"A", "C", "B", "D"},
		},
		{
			name:    "duplicate edges between one pair",
			reasons: []string{"B", "A"},
			edges:   []suppress.Edge{edge("A", "B"), {Cause: "A", Symptom: "B", Join: "sameNode", Index: 1}},
			order:   []string{"A", "B"},
		},
		{
			name:    "cycle of two",
			reasons: []string{"A", "B"},
			edges:   []suppress.Edge{edge("A", "B"), edge("B", "A")},
			cycles:  [][]string{{"A", "B", "A"}},
		},
		{
			name:    "cycle of two entered from the later reason",
			reasons: []string{"B", "A", "C"},
			edges:   []suppress.Edge{edge("C", "A"), edge("A", "C")},
			cycles:  [][]string{{"A", "C", "A"}},
		},
		{
			name:    "cycle of three rotated to the earliest-declared reason",
			reasons: []string{"X", "A", "B", "C"},
			edges:   []suppress.Edge{edge("B", "C"), edge("C", "A"), edge("A", "B"), edge("X", "B")},
			cycles:  [][]string{{"A", "B", "C", "A"}},
		},
		{
			name:    "cycle of three found from inside",
			reasons: []string{"C", "B", "A"},
			edges:   []suppress.Edge{edge("A", "B"), edge("B", "C"), edge("C", "A")},
			cycles:  [][]string{{"C", "A", "B", "C"}},
		},
		{
			name:    "two disjoint cycles",
			reasons: []string{"A", "B", "C", "D", "E"},
			edges:   []suppress.Edge{edge("A", "B"), edge("B", "A"), edge("C", "D"), edge("D", "E"), edge("E", "C")},
			cycles:  [][]string{{"A", "B", "A"}, {"C", "D", "E", "C"}},
		},
		{
			name:    "cycle with doubled edges reported once",
			reasons: []string{"A", "B"},
			edges:   []suppress.Edge{edge("A", "B"), edge("B", "A"), {Cause: "B", Symptom: "A", Join: "cluster", Index: 1}},
			cycles:  [][]string{{"A", "B", "A"}},
		},
		{
			name:    "self-edge ignored",
			reasons: []string{"B", "A"},
			edges:   []suppress.Edge{edge("A", "A"), edge("A", "B")},
			order:   []string{"A", "B"},
		},
		{
			name:    "edges to unknown reasons ignored",
			reasons: []string{"B", "A"},
			edges:   []suppress.Edge{edge("A", "Nope"), edge("Nope", "A"), edge("A", "B")},
			order:   []string{"A", "B"},
		},
		{
			name:    "unknown reason does not close a cycle",
			reasons: []string{"A", "B"},
			edges:   []suppress.Edge{edge("A", "B"), edge("B", "Nope"), edge("Nope", "A")},
			order:   []string{"A", "B"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, cycles := suppress.NewGraph(tt.reasons, tt.edges)
			if tt.cycles != nil {
				require.Nil(t, g)
				var paths [][]string
				for _, c := range cycles {
					paths = append(paths, c.Path)
				}
				assert.Equal(t, tt.cycles, paths)
				return
			}
			require.Empty(t, cycles)
			require.NotNil(t, g)
			assert.Equal(t, tt.order, g.Order())
			for i, r := range tt.order {
				assert.Equal(t, i, g.Rank(r), "rank of %s", r)
			}
		})
	}
}

func TestCycleErrorMessage(t *testing.T) {
	_, cycles := suppress.NewGraph([]string{"A", "B", "C"}, []suppress.Edge{edge("A", "B"), edge("B", "C"), edge("C", "A")})
	require.Len(t, cycles, 1)
	assert.EqualError(t, cycles[0], "suppression cycle: A → B → C → A")
}

func TestGraphEdges(t *testing.T) {
	ab := suppress.Edge{Cause: "A", Symptom: "B", Join: "sameNode"}
	ac := suppress.Edge{Cause: "A", Symptom: "C", Join: "sameNamespace", Index: 1}
	bc := suppress.Edge{Cause: "B", Symptom: "C", Join: "sameOwner"}
	self := suppress.Edge{Cause: "C", Symptom: "C", Join: "cluster"}
	g, cycles := suppress.NewGraph([]string{"C", "B", "A"}, []suppress.Edge{bc, ab, ac, self})
	require.Empty(t, cycles)

	tests := []struct {
		name string
		got  []suppress.Edge
		want []suppress.Edge
	}{
		{name: "CausesOf a reason with two causes", got: g.CausesOf("C"), want: []suppress.Edge{bc, ac}},
		{name: "CausesOf a root", got: g.CausesOf("A"), want: nil},
		{name: "EdgesOf a cause in declaration order", got: g.EdgesOf("A"), want: []suppress.Edge{ab, ac}},
		{name: "EdgesOf a leaf ignores its self-edge", got: g.EdgesOf("C"), want: nil},
		{name: "EdgesOf an unknown reason", got: g.EdgesOf("Nope"), want: nil},
		{name: "Edges by cause in order", got: g.Edges(), want: []suppress.Edge{ab, ac, bc}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
		})
	}
}

func TestEdgeString(t *testing.T) {
	assert.Equal(t, "A -[sameNode]-> B", suppress.Edge{Cause: "A", Symptom: "B", Join: "sameNode"}.String())
}
