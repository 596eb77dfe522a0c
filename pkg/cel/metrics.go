package cel

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	gocel "github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"

	"statusd.io/statusd/pkg/series"
	"statusd.io/statusd/pkg/snapshot"
)

// metricsType is the type of a metrics handle: the scraped series of one
// pod or of several, read at the snapshot's time.
var metricsType = gocel.OpaqueType("statusd.Metrics")

// metricsVal is a metrics handle. err is set when the handle could not be
// built (a pod that is not a scrape target); every query then fails with
// it, so the reason is Unknown rather than false.
type metricsVal struct {
	ev      *Evaluator
	targets []*snapshot.PodMetrics
	what    string
	err     error
}

func (m *metricsVal) ConvertToNative(reflect.Type) (any, error) {
	return nil, errors.New("a metrics handle cannot be converted")
}

func (m *metricsVal) ConvertToType(t ref.Type) ref.Val {
	if t == types.TypeType {
		return metricsType
	}
	return types.NewErr("a metrics handle cannot be converted to %s", t.TypeName())
}
func (m *metricsVal) Equal(other ref.Val) ref.Val { return types.Bool(m == other) }
func (m *metricsVal) Type() ref.Type              { return metricsType }
func (m *metricsVal) Value() any                  { return m.targets }

// subjectMetrics is the metrics variable: the subject's own series when the
// subject is a scraped pod.
func (e *Evaluator) subjectMetrics() ref.Val {
	if e.metrics == nil {
		e.metrics = e.metricsOf([]*snapshot.Object{e.subject})
	}
	return e.metrics
}

func (e *Evaluator) metricsOf(objs []*snapshot.Object) *metricsVal {
	m := &metricsVal{ev: e}
	var names []string
	for _, o := range objs {
		names = append(names, o.Key())
		pm := e.snap.Metrics(o.Namespace, o.Name)
		if pm == nil || o.Kind != "Pod" {
			m.err = fmt.Errorf("%w: %s %s is not scraped by any metrics source", series.ErrNoData, o.Kind, o.Key())
			continue
		}
		m.targets = append(m.targets, pm)
	}
	m.what = strings.Join(names, ",")
	if len(objs) == 0 {
		m.err = fmt.Errorf("%w: no pods to read metrics from", series.ErrNoData)
	}
	return m
}

// podsOf accepts a pod object or a list of pod objects.
func (e *Evaluator) podsOf(v ref.Val) ([]*snapshot.Object, error) {
	switch x := v.(type) {
	case objList:
		return x.objs, nil
	case traits.Lister:
		var out []*snapshot.Object
		it := x.Iterator()
		for it.HasNext() == types.True {
			o, err := e.podOf(it.Next())
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
		return out, nil
	}
	o, err := e.podOf(v)
	if err != nil {
		return nil, err
	}
	return []*snapshot.Object{o}, nil
}

func (e *Evaluator) podOf(v ref.Val) (*snapshot.Object, error) {
	m, ok := v.(traits.Mapper)
	if !ok {
		return nil, fmt.Errorf("cluster.metrics wants a pod or a list of pods, got %s", v.Type().TypeName())
	}
	md, found := m.Find(types.String("metadata"))
	if !found {
		return nil, errors.New("cluster.metrics: object has no metadata")
	}
	mm, ok := md.(traits.Mapper)
	if !ok {
		return nil, errors.New("cluster.metrics: object metadata is not a map")
	}
	get := func(k string) string {
		if x, ok := mm.Find(types.String(k)); ok {
			if s, ok := x.(types.String); ok {
				return string(s)
			}
		}
		return ""
	}
	kind := "Pod"
	if k, ok := m.Find(types.String("kind")); ok {
		if s, ok := k.(types.String); ok {
			kind = string(s)
		}
	}
	return &snapshot.Object{Kind: kind, Namespace: get("namespace"), Name: get("name")}, nil
}

func (e *Evaluator) seriesSelector(s string) (*series.Selector, error) {
	if sel, ok := e.seriesSelectors[s]; ok {
		return sel, nil
	}
	sel, err := series.ParseSelector(s)
	if err != nil {
		return nil, err
	}
	e.seriesSelectors[s] = sel
	return sel, nil
}

// combine says how per-pod results become one number.
type combine int

const (
	sum combine = iota
	highest
	lowest
)

// query runs fn on every target and combines the results. Any target's
// error makes the whole query fail: a half-answered question is Unknown.
func (m *metricsVal) query(selText string, how combine, fn func(h *series.History, now time.Time, sel *series.Selector) (float64, error)) ref.Val {
	if m.err != nil {
		return types.WrapErr(m.err)
	}
	sel, err := m.ev.seriesSelector(selText)
	if err != nil {
		return types.WrapErr(err)
	}
	var out float64
	switch how {
	case highest:
		out = math.Inf(-1)
	case lowest:
		out = math.Inf(1)
	}
	for _, t := range m.targets {
		v, err := fn(t.History, m.ev.snap.Time, sel)
		if err != nil {
			return types.WrapErr(err)
		}
		switch how {
		case sum:
			out += v
		case highest:
			out = math.Max(out, v)
		case lowest:
			out = math.Min(out, v)
		}
	}
	return types.Double(out)
}

func asMetrics(v ref.Val) (*metricsVal, ref.Val) {
	m, ok := v.(*metricsVal)
	if !ok {
		return nil, types.NewErr("not a metrics handle")
	}
	return m, nil
}

// covered runs a windowed query and answers it only when statusd's scrapes
// of the target span the whole window (series.History.Covered): an answer
// over part of a window claims what nobody saw, such as "at least 50
// requests waiting for 5m" one scrape after statusd started. The query's own
// error comes first when it is not for lack of data (a failed scrape, a
// window longer than the retention), so that it names what to fix; a query
// that found too little data over an uncovered window says how much is
// covered. Unknown holds a firing finding and never starts one (see
// engine), so this delays a new finding by at most one window.
func covered(h *series.History, now time.Time, window time.Duration, query func() (float64, error)) (float64, error) {
	v, err := query()
	if err != nil && !errors.Is(err, series.ErrNoData) {
		return 0, err
	}
	if cerr := h.Covered(now, window); cerr != nil {
		return 0, cerr
	}
	return v, err
}

func windowed(name string, how combine, fn func(h *series.History, now time.Time, sel *series.Selector, window time.Duration) (float64, error)) gocel.EnvOption {
	return gocel.Function(name,
		gocel.MemberOverload("statusd_metrics_"+name, []*gocel.Type{metricsType, gocel.StringType, gocel.DurationType}, gocel.DoubleType,
			gocel.FunctionBinding(func(args ...ref.Val) ref.Val {
				m, bad := asMetrics(args[0])
				if bad != nil {
					return bad
				}
				w := args[2].(types.Duration).Duration
				return m.query(string(args[1].(types.String)), how, func(h *series.History, now time.Time, sel *series.Selector) (float64, error) {
					return covered(h, now, w, func() (float64, error) { return fn(h, now, sel, w) })
				})
			})))
}

func metricsFunctions() gocel.EnvOption {
	return gocel.Lib(&funcLib{opts: []gocel.EnvOption{
		gocel.Function("metrics",
			gocel.MemberOverload("statusd_cluster_metrics", []*gocel.Type{mapStringDyn, gocel.DynType}, metricsType,
				gocel.BinaryBinding(withCluster2(func(c *clusterVal, pods ref.Val) ref.Val {
					objs, err := c.ev.podsOf(pods)
					if err != nil {
						return types.WrapErr(err)
					}
					return c.ev.metricsOf(objs)
				})))),
		gocel.Function("value",
			gocel.MemberOverload("statusd_metrics_value", []*gocel.Type{metricsType, gocel.StringType}, gocel.DoubleType,
				gocel.BinaryBinding(func(h, sel ref.Val) ref.Val {
					m, bad := asMetrics(h)
					if bad != nil {
						return bad
					}
					return m.query(string(sel.(types.String)), sum, (*series.History).Value)
				}))),
		gocel.Function("has",
			gocel.MemberOverload("statusd_metrics_has", []*gocel.Type{metricsType, gocel.StringType}, gocel.BoolType,
				gocel.BinaryBinding(func(h, sel ref.Val) ref.Val {
					m, bad := asMetrics(h)
					if bad != nil {
						return bad
					}
					// Only a target that answers can say a series is absent:
					// a bad selector, a pod that is not scraped and a failed
					// or stale scrape are Unknown, as they are for value.
					if _, err := m.ev.seriesSelector(string(sel.(types.String))); err != nil {
						return types.WrapErr(err)
					}
					if m.err != nil {
						return types.WrapErr(m.err)
					}
					for _, t := range m.targets {
						if err := t.History.Check(m.ev.snap.Time); err != nil {
							return types.WrapErr(err)
						}
					}
					v := m.query(string(sel.(types.String)), sum, (*series.History).Value)
					return types.Bool(!types.IsError(v))
				}))),
		windowed("rate", sum, (*series.History).Rate),
		windowed("increase", sum, (*series.History).Increase),
		windowed("delta", sum, (*series.History).Delta),
		windowed("avgOverTime", sum, (*series.History).AvgOverTime),
		windowed("maxOverTime", highest, (*series.History).MaxOverTime),
		windowed("minOverTime", lowest, (*series.History).MinOverTime),
		gocel.Function("quantile",
			gocel.MemberOverload("statusd_metrics_quantile", []*gocel.Type{metricsType, gocel.DoubleType, gocel.StringType, gocel.DurationType}, gocel.DoubleType,
				gocel.FunctionBinding(func(args ...ref.Val) ref.Val {
					m, bad := asMetrics(args[0])
					if bad != nil {
						return bad
					}
					q := float64(args[1].(types.Double))
					w := args[3].(types.Duration).Duration
					// Over several pods, the worst pod's quantile: a latency
					// alarm should not be averaged away by healthy replicas.
					return m.query(string(args[2].(types.String)), highest, func(h *series.History, now time.Time, sel *series.Selector) (float64, error) {
						return covered(h, now, w, func() (float64, error) { return h.Quantile(now, q, sel, w) })
					})
				}))),
	}})
}
