package apischema

import (
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Cluster reads schemas from a cluster's /openapi/v3, which serves the
// built-in kinds of the cluster's own release and every installed CRD. A
// group version's document is fetched once, on first use.
type Cluster struct {
	disc discovery.DiscoveryInterface

	mu   sync.Mutex
	docs map[string]*Document
}

// NewCluster reads schemas through a discovery client.
func NewCluster(d discovery.DiscoveryInterface) *Cluster {
	return &Cluster{disc: d, docs: map[string]*Document{}}
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
	d, ok := c.docs[gv.String()]
	if !ok {
		var err error
		d, err = c.fetch(gv)
		if err != nil {
			return nil, err
		}
		c.docs[gv.String()] = d
	}
	return d, nil
}

// fetch reads one group version's document and maps its resources to
// definitions through discovery's kinds and the definitions' GVK
// extensions. An unserved group version is an empty document.
func (c *Cluster) fetch(gv schema.GroupVersion) (*Document, error) {
	d := &Document{origin: c.Origin(), Resources: map[string]string{}}
	d.Components.Schemas = map[string]*spec.Schema{}
	paths, err := c.disc.OpenAPIV3().Paths()
	if err != nil {
		return nil, fmt.Errorf("read the cluster's /openapi/v3: %w", err)
	}
	path := "apis/" + gv.Group + "/" + gv.Version
	if gv.Group == "" {
		path = "api/" + gv.Version
	}
	gvc, ok := paths[path]
	if !ok {
		return d, nil
	}
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
