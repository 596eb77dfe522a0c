package loader_test

import (
	"fmt"
	"strings"

	"statusd.io/statusd/pkg/cel"
)

// hostileSize is the most a catalogue may hold by default
// (catalog.DefaultMaxBytes, what a ConfigMap holds): the largest input
// whoever can edit the ConfigMap can hand the loader.
const hostileSize = 1 << 20

// hostile is one shape of a catalogue written to make compiling it
// expensive, each filling size bytes.
type hostile struct {
	name string
	gen  func(size int) string
}

// hostileHeader declares the sources every hostile catalogue reads.
const hostileHeader = header + `sources:
  pods: {version: v1, resource: pods}
  nodes: {version: v1, resource: nodes}
`

// fill appends entries made by item(i) after head until the text would
// pass size.
func fill(head string, size int, item func(i int) string) string {
	var b strings.Builder
	b.WriteString(head)
	for i := 0; ; i++ {
		s := item(i)
		if b.Len()+len(s) > size {
			return b.String()
		}
		b.WriteString(s)
	}
}

// reason renders a reason on pods whose condition is when.
func reason(i int, when string) string {
	return fmt.Sprintf("- name: R%d\n  subject: pods\n  when: %q\n  summary: s\n", i, when)
}

// chain repeats term joined by op until the expression holds about n
// bytes.
func chain(term, op string, n int) string {
	k := max(1, n/(len(term)+len(op)))
	return strings.Repeat(term+op, k-1) + term
}

func nested(open, inner, closing string, depth int) string {
	return strings.Repeat(open, depth) + inner + strings.Repeat(closing, depth)
}

// hostileCatalogues are the shapes measured by BenchmarkHostile and
// checked by TestHostileBounded: many small reasons (the most
// expressions), the longest expressions cel-go accepts by default (its
// checker's time grows with the square of an expression's comprehensions
// and calls), deep literals (its checker's time grows with the cube of
// their depth), many params read by many reasons, and a chain of
// variables.
var hostileCatalogues = []hostile{
	{"many reasons", func(size int) string {
		return fill(hostileHeader+"reasons:\n", size, func(i int) string {
			return reason(i, fmt.Sprintf(`object.status.containerStatuses.exists(s, s.restartCount > %d && s.name.startsWith("c")) && cluster.onNode("pods", object.spec.nodeName).size() > 1`, i))
		})
	}},
	{"long expressions", func(size int) string {
		// cel-go's default limit is 100,000 code points per expression.
		when := chain(`object.spec.containers.exists(c, c.name == "x")`, " || ", 90_000)
		return fill(hostileHeader+"reasons:\n", size, func(i int) string { return reason(i, when) })
	}},
	{"longest allowed expressions", func(size int) string {
		when := chain(`object.spec.containers.exists(c, c.name == "x")`, " || ", cel.MaxExpressionSize-100)
		return fill(hostileHeader+"reasons:\n", size, func(i int) string { return reason(i, when) })
	}},
	{"deep list literals", func(size int) string {
		// Under cel-go's default recursion limit of 250.
		when := "size(" + nested("[", "1", "]", 240) + ") == 1"
		return fill(hostileHeader+"reasons:\n", size, func(i int) string { return reason(i, when) })
	}},
	{"deep map literals", func(size int) string {
		when := "size(" + nested(`{"a": `, "1", "}", 120) + ") == 1"
		return fill(hostileHeader+"reasons:\n", size, func(i int) string { return reason(i, when) })
	}},
	{"many params", func(size int) string {
		const params = 20_000
		var b strings.Builder
		b.WriteString(hostileHeader + "params:\n")
		for i := range params {
			fmt.Fprintf(&b, "  p%d: [%d, %d, %d]\n", i, i, i+1, i+2)
		}
		b.WriteString("reasons:\n")
		return fill(b.String(), size, func(i int) string {
			return reason(i, chain(fmt.Sprintf("params.p%d.exists(x, x == object.status.containerStatuses.size())", (i*7)%params), " || ", 1_000))
		})
	}},
	{"deep params", func(size int) string {
		// A YAML flow sequence nested as deep as the decoder allows.
		return fill(hostileHeader+"params:\n  deep: "+nested("[", "1", "]", 5_000)+"\nreasons:\n", size, func(i int) string {
			return reason(i, fmt.Sprintf("params.deep.size() == %d", i))
		})
	}},
	{"variable chain", func(size int) string {
		var b strings.Builder
		b.WriteString(hostileHeader + "variables:\n- {name: v0, expression: 'object.spec.containers.size()'}\n")
		n := 1
		for ; b.Len() < size/2; n++ {
			fmt.Fprintf(&b, "- {name: v%d, expression: 'variables.v%d + [variables.v%d].size()'}\n", n, n-1, n-1)
		}
		b.WriteString("reasons:\n")
		return fill(b.String(), size, func(i int) string {
			return reason(i, fmt.Sprintf("variables.v%d > %d", n-1-(i%n), i))
		})
	}},
}

// deepLists is the case: 30 reasons whose conditions hold list
// literals nested 240 deep, 16 KB in all.
func deepLists() string {
	var b strings.Builder
	b.WriteString(hostileHeader + "reasons:\n")
	for i := range 30 {
		b.WriteString(reason(i, "size("+nested("[", "1", "]", 240)+") == 1"))
	}
	return b.String()
}
