package snapshot

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/labels"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/yamlpos"
)

// FileKind is the kind a snapshot file declares.
const FileKind = "Snapshot"

// File is a snapshot as written to disk by `statusd snapshot` and read by
// `statusd eval`, `statusd explain` and rule tests: Kubernetes objects
// exactly as `kubectl get -o yaml` prints them, metrics pages per pod, the
// cluster facts and the time.
type File struct {
	// APIVersion is statusd.io/v1alpha1, as for catalogues.
	APIVersion string `json:"apiVersion"`
	// Kind is Snapshot.
	Kind string `json:"kind"`
	// Time is when the snapshot was taken; evaluation uses it as now unless
	// told otherwise.
	Time string `json:"time,omitempty"`
	// Cluster holds the version and, optionally, the served resources. When
	// Resources is empty, every resource the catalogue names counts as
	// served.
	Cluster Cluster `json:"cluster,omitempty"`
	// Sources records sources that could not be read (forbidden, failed).
	Sources map[string]SourceState `json:"sources,omitempty"`
	// Objects are Kubernetes objects; a List's items are taken one by one.
	Objects []map[string]any `json:"objects,omitempty"`
	// Metrics are scrape results, one per pod and scrape.
	Metrics []Scrape `json:"metrics,omitempty"`
	// Queries are the results of the catalogue's Prometheus query sources
	// at the snapshot's time; a query source without one is not
	// configured, as when statusd runs without Prometheus (its status is
	// absent, and any other read of it makes a condition false).
	Queries []QueryRecord `json:"queries,omitempty"`

	// Notes are what decoding says without it being an error, such as
	// objects given a generated uid (Checker); eval prints them.
	Notes yamlpos.ErrorList `json:"-"`
}

// SourceState is a source's recorded status.
type SourceState struct {
	// Status is ready, absent (an optional source whose resource is not
	// served), forbidden or failed.
	Status Status `json:"status"`
	// Error is why it could not be read; reasons reading it are Unknown
	// with it.
	Error string `json:"error,omitempty"`
}

// Scrape is one scrape of one pod in a snapshot file.
type Scrape struct {
	// Pod is namespace/name.
	Pod string `json:"pod"`
	// Source is the metrics source that scraped it.
	Source string `json:"source,omitempty"`
	// At is when it was scraped; the snapshot time by default.
	At string `json:"at,omitempty"`
	// Text is the page, in Prometheus text format.
	Text string `json:"text,omitempty"`
	// Error is the scrape's failure; a failed scrape makes every query on
	// the pod Unknown.
	Error string `json:"error,omitempty"`
}

// ErrInvalid is matched (errors.Is) by every problem in a snapshot file's
// content: it separates a broken snapshot from a broken catalogue
// (catalog.ErrInvalid) and from a file that cannot be read.
var ErrInvalid = errors.New("invalid snapshot")

// MaxBytes caps a snapshot file; a snapshot of a 30,000-pod cluster is
// tens of megabytes. The CLI's --max-snapshot-bytes sets it at start-up.
var MaxBytes int64 = DefaultMaxBytes

// DefaultMaxBytes is MaxBytes unless a flag raises it.
const DefaultMaxBytes = 256 << 20

// MaxBytesFlag is the flag that raises MaxBytes, named in errors.
const MaxBytesFlag = "--max-snapshot-bytes"

// ReadFile reads and strictly decodes a snapshot file, a regular file of at
// most MaxBytes.
func ReadFile(name string) (*File, error) {
	f, err := yamlpos.ReadFile(name, yamlpos.Cap{Bytes: MaxBytes, Flag: MaxBytesFlag})
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	return Decode(f)
}

// Decode strictly decodes a snapshot file. Objects keep whatever fields they
// have (they are the cluster's data, not ours), but the envelope is strict.
func Decode(f *yamlpos.File) (*File, error) {
	var out File
	root, d, err := yamlpos.DecodeSingle(f, "snapshot", ErrInvalid, &out)
	if err != nil {
		return nil, err
	}
	if out.Kind != FileKind {
		d.Errorf(root, "kind is %q, want %s", out.Kind, FileKind)
	}
	if out.Time != "" {
		if _, err := time.Parse(time.RFC3339, out.Time); err != nil {
			d.Errorf(yamlpos.Field(root, "time"), "time %q is not RFC 3339", out.Time)
		}
	}
	if errs := d.Errors(); len(errs) > 0 {
		return nil, errs
	}
	c := NewChecker()
	objNodes := resolve(yamlpos.Field(root, "objects"))
	for i := range out.Objects {
		out.Objects[i] = Normalize(out.Objects[i]).(map[string]any)
		c.Add(f, objNodes.Content[i], out.Objects[i])
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	out.Notes = c.Notes()
	return &out, nil
}

// Normalize makes decoded YAML look like decoded JSON, which is what the
// API server's watch caches hold: int64 numbers, RFC 3339 strings for
// timestamps, string-keyed maps.
func Normalize(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case uint64:
		return float64(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case []any:
		for i := range x {
			x[i] = Normalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = Normalize(x[k])
		}
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[fmt.Sprint(k)] = Normalize(val)
		}
		return m
	}
	return v
}

// Flatten expands Lists (kind: List, or any *List with items) into their
// items.
func Flatten(objs []map[string]any) []map[string]any {
	var out []map[string]any
	for _, o := range objs {
		kind, _ := o["kind"].(string)
		if items, ok := o["items"].([]any); ok && strings.HasSuffix(kind, "List") {
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					out = append(out, m)
				}
			}
			continue
		}
		out = append(out, o)
	}
	return out
}

// DecodeObjects decodes and checks a YAML stream of Kubernetes objects (one
// per document, or Lists), as kubectl get -o yaml prints them.
func DecodeObjects(f *yamlpos.File) ([]map[string]any, error) {
	c := NewChecker()
	objs, err := c.Decode(f)
	if err != nil {
		return nil, err
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	return objs, nil
}

// Decode decodes a YAML stream of Kubernetes objects (one per document, or
// Lists), as kubectl get -o yaml prints them, and checks each object as Add
// does, with what the Checker has already seen; the error is for a stream
// that is not YAML of mappings, the objects' own problems are in Err.
func (c *Checker) Decode(f *yamlpos.File) ([]map[string]any, error) {
	docs, err := f.Documents()
	if err != nil {
		var perr *yamlpos.Error
		if errors.As(err, &perr) {
			perr.Kind = ErrInvalid
		}
		return nil, err
	}
	var out []map[string]any
	for _, doc := range docs {
		var m map[string]any
		if root := yamlpos.Root(doc); root.Kind != yaml.MappingNode {
			// The file may be anything (a password file): say what it is
			// and quote none of it.
			return nil, &yamlpos.Error{Pos: yamlpos.Pos{File: f.Name, Line: root.Line, Col: root.Column}, Msg: "an object must be a mapping, got " + yamlpos.KindOf(root), Snippet: "…", Kind: ErrInvalid}
		}
		if err := yamlpos.Root(doc).Decode(&m); err != nil {
			return nil, &yamlpos.Error{Pos: yamlpos.Pos{File: f.Name, Line: doc.Line}, Msg: fmt.Sprintf("object: %v", err), Kind: ErrInvalid}
		}
		m = Normalize(m).(map[string]any)
		c.Add(f, doc, m)
		out = append(out, m)
	}
	return Flatten(out), nil
}

// Assemble builds a snapshot of the catalogue's sources from a snapshot
// file: every object goes to each source that selects it, exactly as live
// informers would have selected it. at overrides the file's time when not
// zero.
func Assemble(c *catalog.Catalog, f *File, at time.Time) (*Snapshot, error) {
	if at.IsZero() && f.Time != "" {
		at, _ = time.Parse(time.RFC3339, f.Time)
	}
	if at.IsZero() {
		return nil, fmt.Errorf("snapshot has no time: set time in the file or pass one")
	}
	b := NewBuilder(at, ServedDefault(c, f.Cluster))
	b.Select(c, f.Objects, f.Sources)
	if err := addScrapes(b, f.Metrics, at); err != nil {
		return nil, err
	}
	if err := addQueries(b, c, f.Queries, at); err != nil {
		return nil, err
	}
	return b.Build(), nil
}

// ServedDefault returns cluster with its resource list filled in, when
// empty, with every resource the catalogue names: a snapshot that does not
// say otherwise serves them all.
func ServedDefault(c *catalog.Catalog, cluster Cluster) Cluster {
	if len(cluster.Resources) > 0 {
		return cluster
	}
	for _, name := range c.SourceNames() {
		if src := c.Sources[name]; src.IsObjects() {
			cluster.Resources = append(cluster.Resources, src.GVR())
		}
	}
	return cluster
}

// Select adds the catalogue's object sources to the snapshot, each with the
// objects of objs it selects. A source whose resource is not served is
// absent; states override a source's status (forbidden, failed).
func (b *Builder) Select(c *catalog.Catalog, contents []map[string]any, states map[string]SourceState) {
	objs := make([]*Object, 0, len(contents))
	nsLabels := map[string]labels.Labels{}
	for _, m := range Flatten(contents) {
		o := NewObject(m)
		objs = append(objs, o)
		if o.Kind == "Namespace" && o.APIVersion == "v1" {
			nsLabels[o.Name] = o.Labels()
		}
	}
	for _, name := range c.SourceNames() {
		src := c.Sources[name]
		if !src.IsObjects() {
			continue
		}
		b.set(name) // a source with no objects is still a (ready, empty) source
		if st, ok := states[name]; ok {
			b.SetStatus(name, st.Status, st.Error)
		} else if !b.snap.resources[src.GVR()] {
			b.SetStatus(name, StatusAbsent, "")
		}
		sel := NewSelection(src)
		for _, o := range objs {
			if sel.Matches(o, nsLabels[o.Namespace]) {
				b.Add(name, o)
			}
		}
	}
}
