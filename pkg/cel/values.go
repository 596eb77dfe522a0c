package cel

import (
	"errors"
	"reflect"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"

	"statusd.io/statusd/pkg/snapshot"
)

// objectVal converts an object to a CEL value once in its life: the value
// is cached on the object, which the informers keep across ticks until the
// object changes, so every reason of every tick shares one conversion.
func objectVal(o *snapshot.Object) ref.Val { return cacheOf(o).value(o) }

// errIterConvert: iterators are internal to comprehensions and never values.
var errIterConvert = errors.New("iterator cannot be converted")

// objList is a CEL list over a slice of snapshot objects that converts
// elements only when an expression reaches them, and shares the slice the
// snapshot's index already holds: a look-up costs no copy.
type objList struct {
	objs []*snapshot.Object
}

var _ traits.Lister = objList{}

func (l objList) materialize() traits.Lister {
	vals := make([]ref.Val, len(l.objs))
	for i, o := range l.objs {
		vals[i] = objectVal(o)
	}
	return types.NewRefValList(types.DefaultTypeAdapter, vals)
}

func (l objList) ConvertToNative(t reflect.Type) (any, error) {
	return l.materialize().ConvertToNative(t)
}

func (l objList) ConvertToType(t ref.Type) ref.Val {
	if t == types.ListType {
		return l
	}
	if t == types.TypeType {
		return types.ListType
	}
	return types.NewErr("type conversion error from list to %s", t.TypeName())
}
func (l objList) Equal(other ref.Val) ref.Val { return l.materialize().Equal(other) }
func (l objList) Type() ref.Type              { return types.ListType }

// Value returns the elements as []ref.Val. cel-go converts a value back with
// the type adapter after unwrapping it through Value (an optional's value
// reached through a field or index, for one), so Value must return what
// the adapter reads: the snapshot's own objects are not such a thing.
func (l objList) Value() any                 { return l.materialize().Value() }
func (l objList) Add(other ref.Val) ref.Val  { return l.materialize().Add(other) }
func (l objList) Contains(v ref.Val) ref.Val { return l.materialize().Contains(v) }
func (l objList) Size() ref.Val              { return types.Int(len(l.objs)) }
func (l objList) Get(index ref.Val) ref.Val {
	i, ok := index.(types.Int)
	if !ok {
		return types.ValOrErr(index, "no such overload")
	}
	if i < 0 || int(i) >= len(l.objs) {
		return types.NewErr("index out of range in list of size %d: %d", len(l.objs), i)
	}
	return objectVal(l.objs[i])
}
func (l objList) Iterator() traits.Iterator { return &objIter{objs: l.objs} }

type objIter struct {
	iterBase
	objs []*snapshot.Object
	i    int
}

func (it *objIter) HasNext() ref.Val { return types.Bool(it.i < len(it.objs)) }
func (it *objIter) Next() ref.Val {
	if it.i >= len(it.objs) {
		return nil
	}
	v := objectVal(it.objs[it.i])
	it.i++
	return v
}

// clusterVal is the value of the cluster variable: a map holding the
// cluster's facts (version, major, minor), which also carries the snapshot
// so that its member functions (cluster.inNamespace(...), ...) can reach
// the indexes. Carrying the snapshot in a value, rather than binding it
// into the functions, lets one compiled catalogue evaluate many snapshots
// at once.
type clusterVal struct {
	traits.Mapper
	ev *Evaluator
}

func newClusterVal(ev *Evaluator) *clusterVal {
	facts := map[string]any{"version": ev.snap.Cluster.Version}
	if v, err := parseVersion(ev.snap.Cluster.Version); err == nil {
		facts["major"] = int64(v.Major)
		facts["minor"] = int64(v.Minor)
	}
	return &clusterVal{
		Mapper: types.NewStringInterfaceMap(types.DefaultTypeAdapter, facts),
		ev:     ev,
	}
}

// lazyVars is the value of the variables variable: each variable is
// evaluated on first use for the current subject and remembered until the
// next subject, as ValidatingAdmissionPolicy does, so a variable that no
// expression of a reason reads costs nothing.
type lazyVars struct {
	traits.Mapper // never populated; gives the map type and its methods
	ev            *Evaluator
}

func (l *lazyVars) Get(key ref.Val) ref.Val {
	v, found := l.Find(key)
	if !found {
		return types.NewErr("no such variable: %v", key)
	}
	return v
}

func (l *lazyVars) Find(key ref.Val) (ref.Val, bool) {
	name, ok := key.(types.String)
	if !ok {
		return nil, false
	}
	return l.ev.variable(string(name))
}

func (l *lazyVars) Contains(key ref.Val) ref.Val {
	_, found := l.Find(key)
	return types.Bool(found)
}
