package snapshot

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	"statusd.io/statusd/pkg/yamlpos"
)

// timestampFields are the keys under which Kubernetes keeps a metav1.Time
// or metav1.MicroTime, wherever they appear in an object (metadata,
// conditions, container states, Jobs, Events, Leases). Expressions turn them
// into timestamps, so a value that is not RFC 3339 would make a finding
// wrong rather than Unknown: CEL's timestamp(12) is 1970, and a grace
// window measured from it has long passed.
var timestampFields = map[string]bool{
	"creationTimestamp":   true,
	"deletionTimestamp":   true,
	"lastTransitionTime":  true,
	"lastHeartbeatTime":   true,
	"lastProbeTime":       true,
	"lastUpdateTime":      true,
	"lastScheduleTime":    true,
	"lastSuccessfulTime":  true,
	"startTime":           true,
	"completionTime":      true,
	"startedAt":           true,
	"finishedAt":          true,
	"firstTimestamp":      true,
	"lastTimestamp":       true,
	"eventTime":           true,
	"renewTime":           true,
	"acquireTime":         true,
	"expirationTimestamp": true,
}

// Checker validates the objects of one snapshot (a snapshot file, or one
// step of a rule test, whatever files its objects come from) so that a
// malformed object is an error at its position rather than a wrong finding:
// apiVersion, kind and metadata.name present, names and namespaces valid as
// the API server validates them for the kind, timestamps RFC 3339, no two
// objects with one identity or one uid. An object without metadata.uid gets
// a deterministic one (GeneratedUID) and the Checker notes it once per file.
//
// A Checker is used by one goroutine.
type Checker struct {
	ids  map[string]yamlpos.Pos
	uids map[string]yamlpos.Pos
	errs yamlpos.ErrorList
	// missing counts objects without a uid per file, first the first one.
	missing map[string]*missingUIDs
	files   []string
}

type missingUIDs struct {
	n     int
	first *yamlpos.Error
}

// NewChecker returns a Checker with nothing seen.
func NewChecker() *Checker {
	return &Checker{ids: map[string]yamlpos.Pos{}, uids: map[string]yamlpos.Pos{}, missing: map[string]*missingUIDs{}}
}

// Add checks obj, decoded from node n of f and normalized, and gives it a
// uid when it has none. A List's items are checked one by one; obj is
// modified only by the uid it is given.
func (c *Checker) Add(f *yamlpos.File, n *yaml.Node, obj map[string]any) {
	n = resolve(n)
	kind, _ := obj["kind"].(string)
	if items, ok := obj["items"].([]any); ok && strings.HasSuffix(kind, "List") {
		itemNodes := resolve(yamlpos.Field(n, "items"))
		for i, it := range items {
			in := itemNodes
			if itemNodes != nil && itemNodes.Kind == yaml.SequenceNode && i < len(itemNodes.Content) {
				in = itemNodes.Content[i]
			}
			m, ok := it.(map[string]any)
			if !ok {
				c.errorf(f, in, "", "item %d of %s is %s, not an object", i+1, kind, yamlpos.KindOf(resolve(in)))
				continue
			}
			c.Add(f, in, m)
		}
		return
	}
	c.object(f, n, obj)
}

// Err returns the errors found so far, sorted, with notes about generated
// uids; nil when there is no error.
func (c *Checker) Err() error {
	if len(c.errs) == 0 {
		return nil
	}
	out := append(yamlpos.ErrorList{}, c.errs...)
	out.Sort()
	return out
}

// Notes returns what the Checker says without it being an error: for each
// file with objects lacking a uid, how many and which uid the first got.
func (c *Checker) Notes() yamlpos.ErrorList {
	var out yamlpos.ErrorList
	for _, name := range c.files {
		m := c.missing[name]
		e := *m.first
		if m.n > 1 {
			e.Msg = fmt.Sprintf("%d objects have no metadata.uid; each is given one derived from its group, kind, namespace and name (the first: %s)", m.n, e.Msg)
		} else {
			e.Msg = "an object has no metadata.uid; it is given one derived from its group, kind, namespace and name: " + e.Msg
		}
		out = append(out, &e)
	}
	return out
}

func (c *Checker) errorf(f *yamlpos.File, n *yaml.Node, ref string, format string, args ...any) {
	p := yamlpos.Pos{File: f.Name}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	msg := fmt.Sprintf(format, args...)
	if ref != "" {
		msg = ref + ": " + msg
	}
	c.errs = append(c.errs, &yamlpos.Error{Pos: p, Msg: msg, Snippet: f.Line(p.Line), Kind: ErrInvalid})
}

// object checks one object that is not a List.
func (c *Checker) object(f *yamlpos.File, n *yaml.Node, obj map[string]any) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	md, hasMD := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	namespace, _ := md["namespace"].(string)
	ref := fmt.Sprintf("%q", Ref(kind, namespace, name))
	if kind == "" || name == "" {
		ref = "" // the position says which object
	}
	errsBefore := len(c.errs)
	if apiVersion == "" {
		c.errorf(f, fieldOr(n, "apiVersion"), ref, "apiVersion must be a non-empty string")
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if apiVersion != "" && err != nil {
		c.errorf(f, fieldOr(n, "apiVersion"), ref, "apiVersion %q is not group/version", yamlpos.Token(apiVersion))
	}
	if kind == "" {
		c.errorf(f, fieldOr(n, "kind"), ref, "kind must be a non-empty string")
	}
	mdNode := resolve(yamlpos.Field(n, "metadata"))
	if !hasMD {
		if mdNode != nil && !yamlpos.IsNull(mdNode) {
			c.errorf(f, mdNode, ref, "metadata is %s, not a mapping with a name", yamlpos.KindOf(mdNode))
		} else {
			c.errorf(f, n, ref, "object has no metadata: every object needs metadata with a name")
		}
		return
	}
	if name == "" {
		c.errorf(f, fieldOr(mdNode, "name"), ref, "metadata.name must be a non-empty string")
	} else if msgs := nameErrors(gv.Group, kind, name); len(msgs) > 0 {
		c.errorf(f, fieldOr(mdNode, "name"), ref, "metadata.name %q is not a valid %s name: %s", yamlpos.Token(name), kindOr(kind), strings.Join(msgs, "; "))
	}
	if v, ok := md["namespace"]; ok && v != nil {
		if s, isStr := v.(string); !isStr {
			c.errorf(f, fieldOr(mdNode, "namespace"), ref, "metadata.namespace must be a string")
		} else if msgs := validation.IsDNS1123Label(s); len(msgs) > 0 {
			c.errorf(f, fieldOr(mdNode, "namespace"), ref, "metadata.namespace %q is not a valid namespace name: %s", yamlpos.Token(s), strings.Join(msgs, "; "))
		}
	}
	// Timestamps are checked whatever the identity, the identity whatever
	// the timestamps, so that one run reports both.
	defer c.timestamps(f, n, ref, 0)
	if len(c.errs) > errsBefore {
		return // identity checks need a sound identity
	}
	id := gv.Group + "/" + kind + "/" + namespace + "/" + name
	if prev, dup := c.ids[id]; dup {
		c.errorf(f, n, ref, "the same object as at %s: one snapshot holds each object once", prev)
		return
	}
	c.ids[id] = yamlpos.Pos{File: f.Name, Line: n.Line, Col: n.Column}
	uid, _ := md["uid"].(string)
	if v, ok := md["uid"]; ok && v != nil && uid == "" {
		c.errorf(f, fieldOr(mdNode, "uid"), ref, "metadata.uid must be a non-empty string")
		return
	}
	generated := uid == ""
	if generated {
		uid = GeneratedUID(gv.Group, kind, namespace, name)
		md["uid"] = uid
	}
	if prev, dup := c.uids[uid]; dup {
		c.errorf(f, fieldOr(mdNode, "uid"), ref, "uid %q is also the uid of the object at %s", yamlpos.Token(uid), prev)
		return
	}
	c.uids[uid] = yamlpos.Pos{File: f.Name, Line: n.Line, Col: n.Column}
	if generated {
		m := c.missing[f.Name]
		if m == nil {
			m = &missingUIDs{first: &yamlpos.Error{
				Pos:  yamlpos.Pos{File: f.Name, Line: n.Line, Col: n.Column},
				Msg:  fmt.Sprintf("%s gets uid %s", ref, uid),
				Note: true, Kind: ErrInvalid, Snippet: f.Line(n.Line),
			}}
			c.missing[f.Name] = m
			c.files = append(c.files, f.Name)
		}
		m.n++
	}
}

// maxTimestampDepth bounds the walk for timestamps; objects from a cluster
// nest a dozen levels.
const maxTimestampDepth = 100

// timestamps reports every timestampFields value under n that is neither
// null nor an RFC 3339 string.
func (c *Checker) timestamps(f *yamlpos.File, n *yaml.Node, ref string, depth int) {
	n = resolve(n)
	if n == nil || depth > maxTimestampDepth {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], resolve(n.Content[i+1])
			if timestampFields[k.Value] && v != nil && !yamlpos.IsNull(v) {
				if v.Kind != yaml.ScalarNode || (v.Tag != "!!str" && v.Tag != "!!timestamp") || !isRFC3339(v.Value) {
					what := yamlpos.KindOf(v)
					if v.Kind == yaml.ScalarNode {
						what = fmt.Sprintf("%q", yamlpos.Token(v.Value))
					}
					c.errorf(f, v, ref, "%s %s is not an RFC 3339 timestamp such as 2026-01-01T00:00:00Z", k.Value, what)
				}
				continue
			}
			c.timestamps(f, v, ref, depth+1)
		}
	case yaml.SequenceNode:
		for _, it := range n.Content {
			c.timestamps(f, it, ref, depth+1)
		}
	}
}

// isRFC3339 accepts what metav1.Time and metav1.MicroTime accept.
func isRFC3339(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// nameErrors validates a name with the rule the API server applies to the
// kind: DNS labels for Namespaces, RFC 1035 labels for Services, path
// segments for RBAC objects and the few other kinds whose names hold colons
// (system:masters), DNS subdomains for everything else, custom resources
// included.
func nameErrors(group, kind, name string) []string {
	switch {
	case group == "" && kind == "Namespace":
		return validation.IsDNS1123Label(name)
	case group == "" && kind == "Service":
		return validation.IsDNS1035Label(name)
	case group == "rbac.authorization.k8s.io",
		group == "certificates.k8s.io" && kind == "CertificateSigningRequest",
		group == "flowcontrol.apiserver.k8s.io":
		return content.IsPathSegmentName(name)
	}
	return validation.IsDNS1123Subdomain(name)
}

// GeneratedUID is the uid an object without one is given: a UUID (version
// 8, RFC 9562's custom layout) from the SHA-256 of its group, kind,
// namespace and name, so the same object gets the same uid in every step of
// a rule test and in every run, and two objects never share one.
func GeneratedUID(group, kind, namespace, name string) string {
	sum := sha256.Sum256([]byte(group + "\x00" + kind + "\x00" + namespace + "\x00" + name))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func kindOr(kind string) string {
	if kind == "" {
		return "object"
	}
	return kind
}

// fieldOr is the value node of key in mapping n, or n itself when n has no
// such key, so that an error points at the closest node there is.
func fieldOr(n *yaml.Node, key string) *yaml.Node {
	if v := yamlpos.Field(n, key); v != nil {
		return v
	}
	return n
}

// resolve follows aliases; the decoder has already bounded how far they
// expand.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode {
		return yamlpos.Root(n)
	}
	return n
}
