package apischema

import (
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Refresher is a Resolver whose answers change while the process runs (a
// cluster's served schemas change as CRDs are installed and upgraded).
// pkg/cel calls Refresh once per compile and types the catalogue with the
// resolver it returns, so that each catalogue load sees the schemas served
// at that moment, and one load reads each group version once.
type Refresher interface {
	Refresh() Resolver
}

// Refresh implements Refresher: members that change are refreshed.
func (c Chain) Refresh() Resolver {
	out := make(Chain, len(c))
	for i, r := range c {
		if f, ok := r.(Refresher); ok {
			r = f.Refresh()
		}
		out[i] = r
	}
	return out
}

// Cluster reads schemas from a cluster's /openapi/v3, which serves the
// built-in kinds of the cluster's own release and every installed CRD.
//
// A Cluster reads the /openapi/v3 index once, on first use, and each group
// version's document once. Refresh returns a new view that reads the index
// again; documents are kept across views by the URL the index gives them,
// which carries a hash of the document, so only a group version whose
// schema changed (a CRD installed, upgraded or removed) is read again.
type Cluster struct {
	disc  discovery.DiscoveryInterface
	cache *docCache

	mu sync.Mutex
	// paths is the /openapi/v3 index as this view read it; nil until
	// first use.
	paths map[string]openapi.GroupVersion
	// docs are this view's documents by group version.
	docs map[string]*Document
}

// docCache keeps parsed documents by their served URL (path and hash),
// shared by a Cluster and its refreshed views.
type docCache struct {
	mu    sync.Mutex
	byURL map[string]*Document
}

// NewCluster reads schemas through a discovery client.
func NewCluster(d discovery.DiscoveryInterface) *Cluster {
	return &Cluster{disc: d, cache: &docCache{byURL: map[string]*Document{}}, docs: map[string]*Document{}}
}

// Refresh implements Refresher.
func (c *Cluster) Refresh() Resolver {
	return &Cluster{disc: c.disc, cache: c.cache, docs: map[string]*Document{}}
}

// Origin names the cluster's OpenAPI endpoint.
func (c *Cluster) Origin() string { return "the cluster's /openapi/v3" }

// Namespaced reads a resource's scope from discovery.
func (c *Cluster) Namespaced(r GVR) (namespaced, known bool) {
	d, err := c.doc(r)
	if err != nil {
		return false, false
	}
	return d.Namespaced(r)
}

// ResourceSchema implements Resolver.
func (c *Cluster) ResourceSchema(r GVR) (*spec.Schema, error) {
	d, err := c.doc(r)
	if err != nil {
		return nil, err
	}
	return d.ResourceSchema(r)
}

func (c *Cluster) doc(r GVR) (*Document, error) {
	gv := schema.GroupVersion{Group: r.Group, Version: r.Version}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.docs[gv.String()]; ok {
		return d, nil
	}
	if c.paths == nil {
		paths, err := c.disc.OpenAPIV3().Paths()
		if err != nil {
			return nil, fmt.Errorf("read the cluster's /openapi/v3: %w", err)
		}
		c.paths = paths
	}
	path := "apis/" + gv.Group + "/" + gv.Version
	if gv.Group == "" {
		path = "api/" + gv.Version
	}
	d := &Document{origin: c.Origin(), Resources: map[string]string{}}
	d.Components.Schemas = map[string]*spec.Schema{}
	if gvc, ok := c.paths[path]; ok {
		var err error
		if d, err = c.cache.get(gvc.ServerRelativeURL(), func() (*Document, error) { return c.fetch(gv, path, gvc) }); err != nil {
			return nil, err
		}
	} // else the group version is not served: an empty document
	c.docs[gv.String()] = d
	return d, nil
}

// get returns the document read from url, reading it on first use. Only
// the current URL of each group version is kept: a changed hash replaces
// the older document.
func (dc *docCache) get(url string, read func() (*Document, error)) (*Document, error) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if d, ok := dc.byURL[url]; ok {
		return d, nil
	}
	d, err := read()
	if err != nil {
		return nil, err
	}
	path, _, _ := strings.Cut(url, "?")
	for u := range dc.byURL {
		if p, _, _ := strings.Cut(u, "?"); p == path {
			delete(dc.byURL, u)
		}
	}
	dc.byURL[url] = d
	return d, nil
}

// fetch reads one group version's document and maps its resources to
// definitions through discovery's kinds and the definitions' GVK
// extensions.
func (c *Cluster) fetch(gv schema.GroupVersion, path string, gvc openapi.GroupVersion) (*Document, error) {
	d := &Document{}
	b, err := gvc.Schema("application/json")
	if err != nil {
		return nil, fmt.Errorf("read the cluster's /openapi/v3/%s: %w", path, err)
	}
	if err := unmarshal(b, d); err != nil {
		return nil, fmt.Errorf("parse the cluster's /openapi/v3/%s: %w", path, err)
	}
	d.origin = c.Origin()
	list, err := c.disc.ServerResourcesForGroupVersion(gv.String())
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", gv, err)
	}
	byKind := map[string]string{}
	for name, s := range d.Components.Schemas {
		var gvks []schema.GroupVersionKind
		if err := s.Extensions.GetObject(extGVK, &gvks); err != nil {
			continue
		}
		for _, k := range gvks {
			if k.GroupVersion() == gv {
				byKind[k.Kind] = name
			}
		}
	}
	for _, res := range list.APIResources {
		if strings.Contains(res.Name, "/") {
			continue // a subresource
		}
		if name, ok := byKind[res.Kind]; ok {
			key := GVR{gv.Group, gv.Version, res.Name}.String()
			d.Resources[key] = name
			if !res.Namespaced {
				d.ClusterScoped = append(d.ClusterScoped, key)
			}
		}
	}
	return d, nil
}
