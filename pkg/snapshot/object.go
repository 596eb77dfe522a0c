package snapshot

import (
	"strings"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"statusd.io/statusd/pkg/compact"
)

// Object is one Kubernetes object as the API server serves it (the
// unstructured content), with the fields that indexes and suppression joins
// need parsed once, so a tick never re-parses metadata.
type Object struct {
	// Content is the object as decoded from JSON or YAML; nil for an object
	// held in compact form (NewCompactObject), whose Map rebuilds it.
	Content map[string]any
	// compact is the object in compact form, which the watch caches hold.
	compact *compact.Map

	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	UID        string
	// Node is the node the object is on: spec.nodeName for pods, the name
	// itself for Nodes. Labels are read from the content when asked
	// (Labels): a parsed map on every cached object would cost more than
	// the labels themselves.
	Node string
	// Owners are the UIDs of every ownerReference.
	Owners []string
	// Controller is the UID of the controlling ownerReference, if any.
	Controller string
	// Created is metadata.creationTimestamp; zero when absent.
	Created time.Time
	// Deleting is metadata.deletionTimestamp; zero when not being deleted.
	Deleting time.Time

	cached atomic.Value
}

// NewObject parses the metadata of content. It never fails: an object with
// odd metadata is still an object, and the expressions decide what to make
// of it.
func NewObject(content map[string]any) *Object {
	o := &Object{Content: content}
	o.parse(content)
	return o
}

// NewCompactObject parses the metadata of content, as NewObject does, and
// keeps the content in compact form only: what a watch cache holds for
// every object it watches. The parsed strings are read from the compact
// form, whose encoding or shared values they alias, so that they cost no
// copy of their own once content is garbage.
func NewCompactObject(content map[string]any) *Object {
	o := &Object{compact: compact.FromMap(content)}
	o.parse(o.compact)
	return o
}

// parse sets the fields parsed from the object's tree, a map[string]any or
// a *compact.Map.
func (o *Object) parse(tree any) {
	o.APIVersion = lookupString(tree, "apiVersion")
	o.Kind = lookupString(tree, "kind")
	md, _ := compact.Lookup(tree, "metadata")
	o.Namespace = lookupString(md, "namespace")
	o.Name = lookupString(md, "name")
	o.UID = lookupString(md, "uid")
	refs, _ := compact.Lookup(md, "ownerReferences")
	if refs, ok := refs.([]any); ok {
		for _, r := range refs {
			uid := lookupString(r, "uid")
			if uid == "" {
				continue
			}
			o.Owners = append(o.Owners, uid)
			if c, _ := compact.Lookup(r, "controller"); c == true {
				o.Controller = uid
			}
		}
	}
	created, _ := compact.Lookup(md, "creationTimestamp")
	o.Created = parseTime(created)
	deleting, _ := compact.Lookup(md, "deletionTimestamp")
	o.Deleting = parseTime(deleting)
	switch o.Kind {
	case "Node":
		o.Node = o.Name
	default:
		o.Node = lookupString(tree, "spec", "nodeName")
	}
}

// lookupString returns the string at a path of keys in tree; empty when
// there is none.
func lookupString(tree any, keys ...string) string {
	v, _ := compact.Lookup(tree, keys...)
	s, _ := v.(string)
	return s
}

// Tree returns the object's content for reading a few fields with
// compact.Lookup: the compact form, or Content.
func (o *Object) Tree() any {
	if o.compact != nil {
		return o.compact
	}
	return o.Content
}

// Map returns the object as decoded JSON: Content, or a copy rebuilt from
// the compact form.
func (o *Object) Map() map[string]any {
	if o.compact != nil {
		return o.compact.Native()
	}
	return o.Content
}

// Labels returns the object's metadata.labels for label selectors to
// match, read from the content on each call without copying. A label whose
// value is not a string is absent, as it was never served.
func (o *Object) Labels() labels.Labels { return (*objectLabels)(o) }

// LabelMap returns a copy of the object's labels; nil when it has none.
func (o *Object) LabelMap() map[string]string {
	var out map[string]string
	switch ls := o.labels().(type) {
	case *compact.Map:
		out = make(map[string]string, ls.Len())
		for _, e := range ls.Entries() {
			if s, ok := e.Value.(string); ok {
				out[e.Key] = s
			}
		}
	case map[string]any:
		out = make(map[string]string, len(ls))
		for k, v := range ls {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
	}
	return out
}

// labels returns metadata.labels as held: a *compact.Map, a
// map[string]any, or nil.
func (o *Object) labels() any {
	ls, _ := compact.Lookup(o.Tree(), "metadata", "labels")
	return ls
}

// objectLabels is an Object seen as labels.Labels: a pointer, so passing
// it to Selector.Matches allocates nothing.
type objectLabels Object

var _ labels.Labels = (*objectLabels)(nil)

// Has implements labels.Labels.
func (l *objectLabels) Has(key string) bool {
	_, ok := l.Lookup(key)
	return ok
}

// Get implements labels.Labels.
func (l *objectLabels) Get(key string) string {
	v, _ := l.Lookup(key)
	return v
}

// Lookup implements labels.Labels.
func (l *objectLabels) Lookup(key string) (string, bool) {
	v, ok := compact.Lookup((*Object)(l).labels(), key)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

func parseTime(v any) time.Time {
	switch t := v.(type) {
	case string:
		p, err := time.Parse(time.RFC3339, t)
		if err == nil {
			return p
		}
	case time.Time:
		return t
	}
	return time.Time{}
}

// Key is namespace/name, or name for cluster-scoped objects.
func (o *Object) Key() string {
	if o.Namespace == "" {
		return o.Name
	}
	return o.Namespace + "/" + o.Name
}

// Ref names the object for people: Kind/namespace/name.
func (o *Object) Ref() string { return Ref(o.Kind, o.Namespace, o.Name) }

// ID is the identity findings are keyed by (see ID).
func (o *Object) ID() string { return ID(o.UID, o.Kind, o.Namespace, o.Name) }

// Ref names an object for people: Kind/namespace/name, or Kind/name when
// it is cluster-scoped. Objects and findings' subjects both use it.
func Ref(kind, namespace, name string) string {
	if namespace == "" {
		return kind + "/" + name
	}
	return kind + "/" + namespace + "/" + name
}

// ID is the one identity rule of statusd: the UID when the object has one
// (so a recreated object is a new subject and its state starts afresh),
// else its Ref. The engine keys state by it and the Event writer its
// Events.
func ID(uid, kind, namespace, name string) string {
	if uid != "" {
		return uid
	}
	return Ref(kind, namespace, name)
}

// GroupVersion parses APIVersion.
func (o *Object) GroupVersion() schema.GroupVersion {
	gv, _ := schema.ParseGroupVersion(o.APIVersion)
	return gv
}

// Cached returns what CompareAndSwapCached stored. It lets the CEL
// evaluator keep its converted form of an object, and what it remembers of
// it, for as long as the object lives.
func (o *Object) Cached() any { return o.cached.Load() }

// CompareAndSwapCached stores v if the cache still holds old, so that two
// evaluators reading the object at once keep one cache between them; every
// caller must store values of one type.
func (o *Object) CompareAndSwapCached(old, v any) bool { return o.cached.CompareAndSwap(old, v) }

// ResourceFor guesses the plural resource of a kind, the way kubectl does
// for kinds it has not discovered, with the irregular plurals of the kinds
// statusd's catalogues use.
func ResourceFor(kind string) string {
	lower := strings.ToLower(kind)
	switch lower {
	case "endpoints":
		return "endpoints"
	case "":
		return ""
	}
	switch {
	case strings.HasSuffix(lower, "s"), strings.HasSuffix(lower, "x"), strings.HasSuffix(lower, "ch"), strings.HasSuffix(lower, "sh"):
		return lower + "es"
	case strings.HasSuffix(lower, "y") && len(lower) > 1 && !strings.ContainsRune("aeiou", rune(lower[len(lower)-2])):
		return lower[:len(lower)-1] + "ies"
	}
	return lower + "s"
}
