package apischema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
	"k8s.io/kube-openapi/pkg/validation/spec"
	sigsyaml "sigs.k8s.io/yaml"
)

// CRDs holds the schemas of CustomResourceDefinition manifests.
type CRDs struct {
	schemas map[string]*spec.Schema
	cluster map[string]bool
	files   []string
}

// crd is the part of a CustomResourceDefinition read here.
type crd struct {
	Kind string `json:"kind"`
	Spec struct {
		Group string `json:"group"`
		Scope string `json:"scope"`
		Names struct {
			Plural string `json:"plural"`
			Kind   string `json:"kind"`
		} `json:"names"`
		Versions []struct {
			Name   string `json:"name"`
			Served bool   `json:"served"`
			Schema *struct {
				OpenAPIV3Schema *spec.Schema `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

// LoadCRDs reads CustomResourceDefinition manifests (YAML or JSON, several
// documents a file; documents of other kinds are skipped, so a chart's
// rendered output may be given as it is). A file with no CRD is an error:
// the flag was surely meant to name one.
func LoadCRDs(paths ...string) (*CRDs, error) {
	c := &CRDs{schemas: map[string]*spec.Schema{}, cluster: map[string]bool{}, files: paths}
	var errs []error
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("read CRD file: %w", err))
			continue
		}
		n, err := c.add(p, b)
		switch {
		case err != nil:
			errs = append(errs, err)
		case n == 0:
			errs = append(errs, fmt.Errorf("%s: no CustomResourceDefinition with a schema in this file", p))
		}
	}
	return c, errors.Join(errs...)
}

func (c *CRDs) add(file string, b []byte) (int, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	n := 0
	for i := 1; ; i++ {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("%s: document %d: %w", file, i, err)
		}
		if doc == nil {
			continue
		}
		y, err := yaml.Marshal(doc)
		if err != nil {
			return n, fmt.Errorf("%s: document %d: %w", file, i, err)
		}
		j, err := sigsyaml.YAMLToJSON(y)
		if err != nil {
			return n, fmt.Errorf("%s: document %d: %w", file, i, err)
		}
		var d crd
		if err := json.Unmarshal(j, &d); err != nil {
			return n, fmt.Errorf("%s: document %d: %w", file, i, err)
		}
		if d.Kind != "CustomResourceDefinition" {
			continue
		}
		for _, v := range d.Spec.Versions {
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				continue
			}
			r := GVR{Group: d.Spec.Group, Version: v.Name, Resource: d.Spec.Names.Plural}
			c.schemas[r.String()] = v.Schema.OpenAPIV3Schema
			c.cluster[r.String()] = d.Spec.Scope == "Cluster"
			n++
		}
	}
}

// Namespaced reports a custom resource's scope.
func (c *CRDs) Namespaced(r GVR) (namespaced, known bool) {
	cl, ok := c.cluster[r.String()]
	return !cl, ok
}

// ResourceSchema returns a custom resource's schema with the object
// metadata every served object has (a CRD's schema leaves metadata
// untyped).
func (c *CRDs) ResourceSchema(r GVR) (*spec.Schema, error) {
	s, ok := c.schemas[r.String()]
	if !ok {
		return nil, fmt.Errorf("%s: %w", r, ErrNotFound)
	}
	return withObjectMeta(s), nil
}

// withObjectMeta types a custom resource's metadata, apiVersion and kind
// as the API server serves them.
func withObjectMeta(s *spec.Schema) *spec.Schema {
	out := *s
	props := make(map[string]spec.Schema, len(s.Properties)+3)
	for k, v := range s.Properties {
		props[k] = v
	}
	str := spec.Schema{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{"string"}}}
	props["apiVersion"], props["kind"] = str, str
	if b, err := Builtin(); err == nil {
		if meta, err := b.resolve(objectMeta); err == nil {
			props["metadata"] = *meta
		}
	}
	out.Properties = props
	out.Required = append(append([]string(nil), s.Required...), "apiVersion", "kind", "metadata")
	return &out
}

const objectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
