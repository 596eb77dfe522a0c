package cel

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"

	gocel "github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/series"
	"statusd.io/statusd/pkg/snapshot"
)

// queryType is the type of a query handle: the result series of a
// Prometheus query source at the tick, all of them or those joined to one
// object.
var queryType = gocel.OpaqueType("statusd.Query")

// ErrQueryFailed marks a read of a query that failed (an error, a timeout,
// a result over its size cap): Unknown, never zero.
var ErrQueryFailed = errors.New("prometheus query failed")

// ErrQueryNotConfigured marks a read of a query source while statusd runs
// without a Prometheus endpoint (the snapshot has no result for it). It is
// not a fault of the catalogue or of Prometheus but a deployment that
// chose not to have one, so a condition that needs such a read is False
// (see Evaluator.When), never Unknown: it neither fires nor announces
// itself as a broken reason. A catalogue falls back on other sources by
// testing cluster.sourceStatus(src) == "absent" before reading the query.
var ErrQueryNotConfigured = errors.New("no Prometheus endpoint configured")

// queryVal is a query handle. err is set when the query failed; every
// read then fails with it.
type queryVal struct {
	samples []snapshot.QuerySample
	what    string
	err     error
}

func (q *queryVal) ConvertToNative(reflect.Type) (any, error) {
	return nil, errors.New("a query handle cannot be converted")
}

func (q *queryVal) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return queryType
	}
	return types.NewErr("a query handle cannot be converted to %s", t.TypeName())
}
func (q *queryVal) Equal(other ref.Val) ref.Val { return types.Bool(q == other) }
func (q *queryVal) Type() ref.Type              { return queryType }
func (q *queryVal) Value() any                  { return q.samples }

// query builds the handle of source name, joined to obj unless it is nil.
func (e *Evaluator) query(name string, obj ref.Val) ref.Val {
	cs, ok := e.cat.Source.Sources[name]
	if !ok || !cs.IsQuery() {
		return types.NewErr("source %q is not a prometheus source", name)
	}
	q := &queryVal{what: "query " + name}
	r := e.snap.Query(name)
	switch {
	case r == nil:
		// No Prometheus configured: every read fails with
		// ErrQueryNotConfigured, which makes the condition False. Reading
		// it as empty instead would let absent() fire a reason, and
		// value() be Unknown on every subject, in every cluster without
		// Prometheus.
		q.err = fmt.Errorf("%w: query source %s cannot be read", ErrQueryNotConfigured, name)
		return q
	case r.Status == snapshot.StatusFailed || r.Status == snapshot.StatusForbidden:
		q.err = fmt.Errorf("%w: %s: %s", ErrQueryFailed, name, r.Err)
		return q
	default:
		q.samples = r.Samples
	}
	if obj == nil {
		return q
	}
	o, err := e.podOf(obj)
	if err != nil {
		return types.WrapErr(fmt.Errorf("cluster.query(%q, object): %w", name, err))
	}
	nameLabel := cs.Prometheus.Join.Name
	if nameLabel == "" {
		nameLabel = strings.ToLower(o.Kind)
	}
	nsLabel := cs.Prometheus.Join.Namespace
	if nsLabel == "" {
		nsLabel = catalog.DefaultNamespaceLabel
	}
	var joined []snapshot.QuerySample
	for _, s := range q.samples {
		if s.Labels[nameLabel] != o.Name {
			continue
		}
		if o.Namespace != "" && nsLabel != nameLabel && s.Labels[nsLabel] != o.Namespace {
			continue
		}
		joined = append(joined, s)
	}
	q.samples = joined
	q.what = fmt.Sprintf("query %s on %s/%s", name, o.Kind, o.Key())
	return q
}

// fold combines the handle's values; an absent result is an error (no
// data), distinct from zero.
func (q *queryVal) fold(init float64, f func(acc, v float64) float64) ref.Val {
	if q.err != nil {
		return types.WrapErr(q.err)
	}
	if len(q.samples) == 0 {
		return types.WrapErr(fmt.Errorf("%w: %s returned no series", series.ErrNoData, q.what))
	}
	acc := init
	for _, s := range q.samples {
		acc = f(acc, s.Value)
	}
	return types.Double(acc)
}

func asQuery(v ref.Val) (*queryVal, ref.Val) {
	q, ok := v.(*queryVal)
	if !ok {
		return nil, types.NewErr("not a query handle")
	}
	return q, nil
}

func queryMethod(name string, result *gocel.Type, fn func(q *queryVal) ref.Val) gocel.EnvOption {
	return gocel.Function(name,
		gocel.MemberOverload("statusd_query_"+name, []*gocel.Type{queryType}, result,
			gocel.UnaryBinding(func(v ref.Val) ref.Val {
				q, bad := asQuery(v)
				if bad != nil {
					return bad
				}
				return fn(q)
			})))
}

func queryFunctions() gocel.EnvOption {
	return gocel.Lib(&funcLib{opts: []gocel.EnvOption{
		gocel.Function("query",
			gocel.MemberOverload("statusd_cluster_query", []*gocel.Type{mapStringDyn, gocel.StringType}, queryType,
				gocel.BinaryBinding(withCluster2(func(c *clusterVal, src ref.Val) ref.Val {
					return c.ev.query(string(src.(types.String)), nil)
				}))),
			gocel.MemberOverload("statusd_cluster_query_object", []*gocel.Type{mapStringDyn, gocel.StringType, gocel.DynType}, queryType,
				gocel.FunctionBinding(withCluster(func(c *clusterVal, args []ref.Val) ref.Val {
					return c.ev.query(string(args[0].(types.String)), args[1])
				})))),
		queryMethod("value", gocel.DoubleType, func(q *queryVal) ref.Val {
			return q.fold(0, func(acc, v float64) float64 { return acc + v })
		}),
		queryMethod("max", gocel.DoubleType, func(q *queryVal) ref.Val {
			return q.fold(math.Inf(-1), math.Max)
		}),
		queryMethod("min", gocel.DoubleType, func(q *queryVal) ref.Val {
			return q.fold(math.Inf(1), math.Min)
		}),
		queryMethod("absent", gocel.BoolType, func(q *queryVal) ref.Val {
			if q.err != nil {
				return types.WrapErr(q.err)
			}
			return types.Bool(len(q.samples) == 0)
		}),
		queryMethod("count", gocel.IntType, func(q *queryVal) ref.Val {
			if q.err != nil {
				return types.WrapErr(q.err)
			}
			return types.Int(len(q.samples))
		}),
		queryMethod("series", gocel.ListType(mapStringDyn), func(q *queryVal) ref.Val {
			if q.err != nil {
				return types.WrapErr(q.err)
			}
			out := make([]any, len(q.samples))
			for i, s := range q.samples {
				labels := make(map[string]any, len(s.Labels))
				for k, v := range s.Labels {
					labels[k] = v
				}
				out[i] = map[string]any{"labels": labels, "value": s.Value}
			}
			return types.DefaultTypeAdapter.NativeToValue(out)
		}),
	}})
}
