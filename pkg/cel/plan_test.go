package cel

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	gocel "github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/internal/liveheap"
	"statusd.io/statusd/pkg/catalog"
)

// outcome renders an evaluation's result for comparison: its type and
// value, or its error.
func outcome(v ref.Val, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	if o, ok := v.(*types.Optional); ok {
		if !o.HasValue() {
			return "optional.none()"
		}
		return fmt.Sprintf("optional.of(%s)", outcome(o.GetValue(), nil))
	}
	return fmt.Sprintf("%s %v", v.Type().TypeName(), v.Value())
}

// TestPlannerMatchesProgram evaluates expressions that use every library
// of the shared environment, and every library program option, through
// the shared planner and through cel-go's own Env.Program with the options
// plan replaces: the results must be the same. A library added to newEnv
// whose program options change results (as OptionalTypes' do) fails here
// until plan applies them; options that only speed evaluation up (as
// library.Regex's) cannot be told apart by their results.
func TestPlannerMatchesProgram(t *testing.T) {
	env, err := sharedEnv()
	require.NoError(t, err)
	pl, err := sharedPlanner()
	require.NoError(t, err)
	exprs := []string{
		// OptionalTypes: or and orValue short-circuit; orValue has no
		// overload in the dispatcher at all.
		`optional.none().orValue(1)`,
		`optional.of(2).orValue(1 / 0)`,
		`optional.none().or(optional.of(3)).value()`,
		`optional.of(4).or(optional.of(1 / 0)).value()`,
		`{'a': 1}[?'b'].orValue(5)`,
		`{'a': 1}[?'a'].orValue(5)`,
		`[1, 2][?5].or(optional.none()).hasValue()`,
		`optional.ofNonZeroValue('').orValue('empty')`,
		// library.Regex on constant and computed patterns, and matches.
		`'abc-123'.find('[0-9]+')`,
		`'a1b22c333'.findAll('[0-9]+')`,
		`'a1b22c333'.findAll('[0-9]+', 2)`,
		`'abc'.find('a' + 'b')`,
		`'abc'.matches('^a')`,
		`'abc'.matches('^' + 'b')`,
		// Comprehensions, errors, folding.
		`[1, 2, 3].all(x, x > 0)`,
		`[1, 2, 3].map(x, x * 2)`,
		`[1, 2, 3].exists(x, x / 0 == 1)`,
		`1 / 0 == 1`,
		`'a' + 'b' == 'ab' && 2 * 3 == 6`,
		`{'a': 1, 'b': 2}.exists(k, v, v == 2 && k == 'b')`,
		`{'a': 1}.transformMap(k, v, v + 1)`,
		// Every library: strings, sets, lists, URLs, quantities, IPs,
		// CIDRs, format, semver, time.
		`'%s-%d'.format(['a', 1])`,
		`'Hello'.lowerAscii().replace('l', 'L', 1)`,
		`sets.contains([1, 2, 3], [1, 3])`,
		`lists.range(4).slice(1, 3)`,
		`[[1], [2, 3]].flatten()`,
		`[3, 1, 2].sort()`,
		`url('https://a.example/c?d=1').getHost()`,
		`quantity('1Gi').isGreaterThan(quantity('1Mi'))`,
		`ip('10.0.0.1').family()`,
		`cidr('10.0.0.0/8').containsIP(ip('10.1.2.3'))`,
		`semver('1.2.3').major()`,
		`timestamp('2026-01-01T00:00:00Z') + duration('1h') > timestamp('2026-01-01T00:30:00Z')`,
		`duration('90m').getHours()`,
		`int('42') + 1`,
		`dyn(1) == 1.0`,
	}
	for _, e := range exprs {
		t.Run(e, func(t *testing.T) {
			a, iss := env.Compile(e)
			require.NoError(t, iss.Err())
			want, err := env.Program(a,
				gocel.EvalOptions(gocel.OptOptimize),
				gocel.CustomDecorator(decorateMeter),
				gocel.InterruptCheckFrequency(interruptEvery),
			)
			require.NoError(t, err)
			wv, _, werr := want.ContextEval(context.Background(), map[string]any{})
			got, err := pl.plan(a)
			require.NoError(t, err)
			gv, gerr := run(func() ref.Val { return got.Eval(interpreter.EmptyActivation()) })
			assert.Equal(t, outcome(wv, werr), outcome(gv, gerr))
		})
	}
}

// TestCompiledCatalogueHeap bounds what a compiled shipped catalogue holds.
// Each program once held a dispatcher of its own, with every overload of
// the environment bound again: the catalogue held 18.6 MiB, 13 of them
// these copies. With the shared dispatcher it holds 5.7 MiB.
func TestCompiledCatalogueHeap(t *testing.T) {
	src, errs := catalog.Load("../../rules")
	require.NoError(t, errs.Err())
	// The first compile builds what every compile shares (the environment,
	// its planner, the built-in schemas), which is no catalogue's cost.
	first, errs := Compile(src, Options{})
	require.NoError(t, errs.Err())
	base := liveheap.Bytes()
	c, errs := Compile(src, Options{})
	require.NoError(t, errs.Err())
	held := liveheap.Bytes() - base
	runtime.KeepAlive(first)
	runtime.KeepAlive(c)
	t.Logf("a compiled shipped catalogue holds %.1f MiB", float64(held)/(1<<20))
	assert.Less(t, held, uint64(maxCatalogueHeap))
}

// maxCatalogueHeap is the bound of TestCompiledCatalogueHeap: the 5.7 MiB
// measured with 62 reasons, with room for the catalogue to grow.
const maxCatalogueHeap = 9 << 20
