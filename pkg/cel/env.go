package cel

import (
	"fmt"
	"strings"
	"time"

	"github.com/blang/semver/v4"
	gocel "github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/cel/library"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
)

// The names expressions see.
const (
	varObject    = "object"
	varParams    = "params"
	varVariables = "variables"
	varCluster   = "cluster"
	varNow       = "now"
	varMetrics   = "metrics"
)

// lookupFunctions are the cluster member functions whose first argument
// names a source; lint checks those names and counts them as uses.
var lookupFunctions = map[string]bool{
	"objects": true, "inNamespace": true, "withLabels": true, "ownedBy": true,
	"onNode": true, "lookup": true, "sourceStatus": true, "query": true,
}

var mapStringDyn = gocel.MapType(gocel.StringType, gocel.DynType)

// newEnv builds the expression environment: Kubernetes' own CEL libraries
// in the composition kube-apiserver 1.36 uses for ValidatingAdmissionPolicy
// (so an expression written for a policy reads the same here), plus
// statusd's look-ups, metrics and helpers.
func newEnv() (*gocel.Env, error) {
	return newEnvWith(gocel.DynType, mapStringDyn)
}

// newEnvWith builds the environment with object and params of the given
// types; a nil type leaves the variable undeclared, for the typed check
// (types.go) to declare it.
func newEnvWith(object, params *gocel.Type) (*gocel.Env, error) {
	var vars []gocel.EnvOption
	if object != nil {
		vars = append(vars, gocel.Variable(varObject, object))
	}
	if params != nil {
		vars = append(vars, gocel.Variable(varParams, params))
	}
	return gocel.NewEnv(append(vars,
		gocel.ParserExpressionSizeLimit(MaxExpressionSize),
		gocel.ParserRecursionLimit(MaxParseDepth),
		gocel.HomogeneousAggregateLiterals(),
		// Kept so explain can print comprehensions as written.
		gocel.EnableMacroCallTracking(),
		gocel.EagerlyValidateDeclarations(true),
		gocel.DefaultUTCTimeZone(true),
		gocel.CrossTypeNumericComparisons(true),
		gocel.OptionalTypes(),
		gocel.ASTValidators(
			gocel.ValidateDurationLiterals(),
			gocel.ValidateTimestampLiterals(),
			gocel.ValidateRegexLiterals(),
			gocel.ValidateHomogeneousAggregateLiterals(),
		),
		ext.Strings(ext.StringsVersion(2)),
		ext.Sets(),
		ext.TwoVarComprehensions(),
		// Version 2 has the same functions as 3; 3 only adds per-overload
		// cost trackers, which cel-go rebuilds as a map on every
		// evaluation (40% of a tick in BenchmarkTick). The meter charges
		// list-producing calls by their result size instead (meter.go).
		ext.Lists(ext.ListsVersion(2)),
		library.URLs(),
		library.Regex(),
		library.Lists(),
		library.Quantity(),
		library.IP(),
		library.CIDR(),
		library.Format(),
		library.SemverLib(library.SemverVersion(1)),

		gocel.Variable(varVariables, mapStringDyn),
		gocel.Variable(varCluster, mapStringDyn),
		gocel.Variable(varNow, gocel.TimestampType),
		gocel.Variable(varMetrics, metricsType),
		clusterFunctions(),
		metricsFunctions(),
		queryFunctions(),
		helperFunctions(),
	)...)
}

func clusterFunctions() gocel.EnvOption {
	listOf := gocel.ListType(gocel.DynType)
	return gocel.Lib(&funcLib{opts: []gocel.EnvOption{
		gocel.Function("hasResource",
			gocel.MemberOverload("statusd_cluster_hasResource", []*gocel.Type{mapStringDyn, gocel.StringType}, gocel.BoolType,
				gocel.BinaryBinding(withCluster2(func(c *clusterVal, gvr ref.Val) ref.Val {
					return types.Bool(c.ev.snap.HasResource(string(gvr.(types.String))))
				})))),
		gocel.Function("versionSatisfies",
			gocel.MemberOverload("statusd_cluster_versionSatisfies", []*gocel.Type{mapStringDyn, gocel.StringType}, gocel.BoolType,
				gocel.BinaryBinding(withCluster2(func(c *clusterVal, constraint ref.Val) ref.Val {
					return satisfies(c.ev.snap.Cluster.Version, string(constraint.(types.String)))
				})))),
		gocel.Function("objects",
			gocel.MemberOverload("statusd_cluster_objects", []*gocel.Type{mapStringDyn, gocel.StringType}, listOf,
				gocel.BinaryBinding(withCluster2(func(c *clusterVal, src ref.Val) ref.Val {
					set, err := c.ev.set(src)
					if err != nil {
						return err
					}
					return objList{set.Objects()}
				})))),
		gocel.Function("inNamespace",
			gocel.MemberOverload("statusd_cluster_inNamespace", []*gocel.Type{mapStringDyn, gocel.StringType, gocel.StringType}, listOf,
				gocel.FunctionBinding(withCluster(func(c *clusterVal, args []ref.Val) ref.Val {
					set, err := c.ev.set(args[0])
					if err != nil {
						return err
					}
					return objList{set.InNamespace(string(args[1].(types.String)))}
				})))),
		gocel.Function("onNode",
			gocel.MemberOverload("statusd_cluster_onNode", []*gocel.Type{mapStringDyn, gocel.StringType, gocel.StringType}, listOf,
				gocel.FunctionBinding(withCluster(func(c *clusterVal, args []ref.Val) ref.Val {
					set, err := c.ev.set(args[0])
					if err != nil {
						return err
					}
					return objList{set.OnNode(string(args[1].(types.String)))}
				})))),
		gocel.Function("ownedBy",
			gocel.MemberOverload("statusd_cluster_ownedBy", []*gocel.Type{mapStringDyn, gocel.StringType, gocel.StringType}, listOf,
				gocel.FunctionBinding(withCluster(func(c *clusterVal, args []ref.Val) ref.Val {
					set, err := c.ev.set(args[0])
					if err != nil {
						return err
					}
					return objList{set.OwnedBy(string(args[1].(types.String)))}
				})))),
		gocel.Function("withLabels",
			gocel.MemberOverload("statusd_cluster_withLabels", []*gocel.Type{mapStringDyn, gocel.StringType, gocel.StringType, gocel.StringType}, listOf,
				gocel.FunctionBinding(withCluster(func(c *clusterVal, args []ref.Val) ref.Val {
					set, err := c.ev.set(args[0])
					if err != nil {
						return err
					}
					sel, perr := c.ev.selector(string(args[2].(types.String)))
					if perr != nil {
						return types.WrapErr(perr)
					}
					return objList{set.Select(string(args[1].(types.String)), sel)}
				})))),
		gocel.Function("lookup",
			gocel.MemberOverload("statusd_cluster_lookup", []*gocel.Type{mapStringDyn, gocel.StringType, gocel.StringType, gocel.StringType}, gocel.OptionalType(gocel.DynType),
				gocel.FunctionBinding(withCluster(func(c *clusterVal, args []ref.Val) ref.Val {
					set, err := c.ev.set(args[0])
					if err != nil {
						return err
					}
					o := set.Get(string(args[1].(types.String)), string(args[2].(types.String)))
					if o == nil {
						return types.OptionalNone
					}
					return types.OptionalOf(objectVal(o))
				})))),
		gocel.Function("sourceStatus",
			gocel.MemberOverload("statusd_cluster_sourceStatus", []*gocel.Type{mapStringDyn, gocel.StringType}, gocel.StringType,
				gocel.BinaryBinding(withCluster2(func(c *clusterVal, src ref.Val) ref.Val {
					name := string(src.(types.String))
					if cs, ok := c.ev.cat.Source.Sources[name]; ok && cs.IsQuery() {
						if r := c.ev.snap.Query(name); r != nil {
							return types.String(r.Status)
						}
						return types.String(snapshot.StatusAbsent) // no Prometheus configured
					}
					set := c.ev.snap.Set(name)
					if set == nil {
						return types.NewErr("unknown source %q", src)
					}
					return types.String(set.Status)
				})))),
	}})
}

// withCluster checks that a cluster member function was called on cluster
// itself: the functions are declared on map(string, dyn), so the checker
// cannot tell {}.objects("pods") from cluster.objects("pods").
func withCluster(fn func(*clusterVal, []ref.Val) ref.Val) func(...ref.Val) ref.Val {
	return func(args ...ref.Val) ref.Val {
		c, ok := args[0].(*clusterVal)
		if !ok {
			return types.NewErr("this function is a member of cluster only")
		}
		return fn(c, args[1:])
	}
}

func withCluster2(fn func(*clusterVal, ref.Val) ref.Val) func(ref.Val, ref.Val) ref.Val {
	return func(lhs, rhs ref.Val) ref.Val {
		c, ok := lhs.(*clusterVal)
		if !ok {
			return types.NewErr("this function is a member of cluster only")
		}
		return fn(c, rhs)
	}
}

func helperFunctions() gocel.EnvOption {
	return gocel.Lib(&funcLib{opts: []gocel.EnvOption{
		// conditions(o) is o.status.conditions, or [] when the object has
		// none yet: the common case of a freshly created object must read as
		// "no condition", not as an evaluation error.
		gocel.Function("conditions",
			gocel.Overload("statusd_conditions_dyn", []*gocel.Type{gocel.DynType}, gocel.ListType(gocel.DynType),
				gocel.UnaryBinding(func(o ref.Val) ref.Val {
					m, ok := o.(traits.Mapper)
					if !ok {
						return types.NewErr("conditions: argument is not an object")
					}
					st, found := m.Find(types.String("status"))
					if !found {
						return types.NewDynamicList(types.DefaultTypeAdapter, []any{})
					}
					sm, ok := st.(traits.Mapper)
					if !ok {
						return types.NewDynamicList(types.DefaultTypeAdapter, []any{})
					}
					cs, found := sm.Find(types.String("conditions"))
					if !found {
						return types.NewDynamicList(types.DefaultTypeAdapter, []any{})
					}
					return cs
				}))),
		// humanDuration(d) renders a duration for an operator: 20s, 42m,
		// 1h5m, 3d2h. Messages read better than "2520s", and a window
		// shorter than a minute must not read "0m".
		gocel.Function("humanDuration",
			gocel.Overload("statusd_humanDuration_duration", []*gocel.Type{gocel.DurationType}, gocel.StringType,
				gocel.UnaryBinding(func(d ref.Val) ref.Val {
					return types.String(catalog.FormatDuration(d.(types.Duration).Duration))
				}))),
		// humanTime(t) renders a timestamp as RFC 3339 in UTC to the second
		// (2026-12-05T12:47:25Z). A message that says since when a fault
		// holds, or when a live figure was measured, reads as true between
		// the writes of its Event as on the tick that rendered it, where an
		// elapsed "for 23s" would be stale; string(t) would carry
		// nanoseconds.
		gocel.Function("humanTime",
			gocel.Overload("statusd_humanTime_timestamp", []*gocel.Type{gocel.TimestampType}, gocel.StringType,
				gocel.UnaryBinding(func(t ref.Val) ref.Val {
					return types.String(humanTime(t.(types.Timestamp).Time))
				}))),
		// versionSatisfies(version, constraint) tests a version against a
		// constraint such as ">=1.28", ">=1.28 <1.32" or "1.29.x || >=1.31".
		gocel.Function("versionSatisfies",
			gocel.Overload("statusd_versionSatisfies_string_string", []*gocel.Type{gocel.StringType, gocel.StringType}, gocel.BoolType,
				gocel.BinaryBinding(func(v, c ref.Val) ref.Val {
					return satisfies(string(v.(types.String)), string(c.(types.String)))
				}))),
	}})
}

// funcLib groups options into a library so that they are applied once.
type funcLib struct{ opts []gocel.EnvOption }

func (l *funcLib) CompileOptions() []gocel.EnvOption     { return l.opts }
func (l *funcLib) ProgramOptions() []gocel.ProgramOption { return nil }

// parseVersion reads Kubernetes versions: v1.36.3, 1.28, v1.30.2-gke.1.
func parseVersion(s string) (semver.Version, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if strings.Count(strings.SplitN(s, "-", 2)[0], ".") == 1 {
		core, rest, _ := strings.Cut(s, "-")
		s = core + ".0"
		if rest != "" {
			s += "-" + rest
		}
	}
	v, err := semver.ParseTolerant(s)
	if err != nil {
		return semver.Version{}, fmt.Errorf("invalid version %q: %w", s, err)
	}
	return v, nil
}

// satisfies evaluates a version constraint. Pre-release and build suffixes
// (v1.30.2-gke.1) are dropped first: a managed cluster's build tag must not
// make ">=1.28" false.
func satisfies(version, constraint string) ref.Val {
	v, err := parseVersion(version)
	if err != nil {
		return types.WrapErr(err)
	}
	v.Pre, v.Build = nil, nil
	r, err := parseRange(constraint)
	if err != nil {
		return types.WrapErr(err)
	}
	return types.Bool(r(v))
}

// parseRange accepts blang's range syntax with Kubernetes' habit of
// two-part versions (>=1.28 means >=1.28.0).
func parseRange(c string) (semver.Range, error) {
	var parts []string
	for _, alt := range strings.Split(c, "||") {
		var terms []string
		for _, t := range strings.Fields(alt) {
			op := strings.TrimRight(t, "0123456789.xX*v")
			ver := strings.TrimPrefix(t[len(op):], "v")
			if n := strings.Count(ver, "."); n == 1 && !strings.ContainsAny(ver, "xX*") {
				ver += ".0"
			}
			terms = append(terms, op+ver)
		}
		parts = append(parts, strings.Join(terms, " "))
	}
	r, err := semver.ParseRange(strings.Join(parts, " || "))
	if err != nil {
		return nil, fmt.Errorf("invalid version constraint %q: %w", c, err)
	}
	return r, nil
}

// selectorCache avoids re-parsing the same label selector for every subject.
type selectorCache map[string]labels.Selector

func (e *Evaluator) selector(s string) (labels.Selector, error) {
	if sel, ok := e.selectors[s]; ok {
		return sel, nil
	}
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid label selector %q: %w", s, err)
	}
	e.selectors[s] = sel
	return sel, nil
}

// set resolves a source argument. Reading a forbidden or failed source is
// an error, so the reason reading it is Unknown rather than quietly false;
// an absent (optional, not installed) source reads as empty.
func (e *Evaluator) set(src ref.Val) (*snapshot.Set, ref.Val) {
	name := string(src.(types.String))
	set := e.snap.Set(name)
	if set == nil {
		return nil, types.NewErr("unknown source %q", name)
	}
	switch set.Status {
	case snapshot.StatusForbidden, snapshot.StatusFailed:
		msg := set.Err
		if msg == "" {
			msg = string(set.Status)
		}
		return nil, types.WrapErr(&unreadableError{name: name, why: msg})
	}
	return set, nil
}

// durationSince converts a timestamp-like value (timestamp, RFC 3339
// string) to a time.
func toTime(v ref.Val) (time.Time, error) {
	switch t := v.(type) {
	case types.Timestamp:
		return t.Time, nil
	case types.String:
		p, err := time.Parse(time.RFC3339, string(t))
		if err != nil {
			return time.Time{}, fmt.Errorf("not an RFC 3339 timestamp: %q", string(t))
		}
		return p, nil
	}
	return time.Time{}, fmt.Errorf("want a timestamp or an RFC 3339 string, got %s", v.Type().TypeName())
}

// humanTime is t in UTC to the second, in RFC 3339.
func humanTime(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }
