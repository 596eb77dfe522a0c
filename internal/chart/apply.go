package chart

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Applier server-side applies rendered objects, finding each one's resource
// through discovery as kubectl apply --server-side does, so that the chart's
// tests and the demo apply the chart the same way.
type Applier struct {
	dyn          dynamic.Interface
	mapper       *restmapper.DeferredDiscoveryRESTMapper
	fieldManager string
}

// NewApplier returns an Applier acting as cfg's identity, recording its
// fields under fieldManager.
func NewApplier(cfg *rest.Config, fieldManager string) (*Applier, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("new applier: %w", err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("new applier: %w", err)
	}
	return &Applier{
		dyn:          dyn,
		mapper:       restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(kube.Discovery())),
		fieldManager: fieldManager,
	}, nil
}

// Resource returns the client for obj's resource, in obj's namespace when
// the resource is namespaced. Discovery is refreshed once when the kind is
// unknown, since a CustomResourceDefinition may just have been created.
func (a *Applier) Resource(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		a.mapper.Reset()
		if m, err = a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return nil, fmt.Errorf("map %s: %w", gvk, err)
		}
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return a.dyn.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
	}
	return a.dyn.Resource(m.Resource), nil
}

// Reset forgets discovery, for a caller waiting for a new kind to be
// served.
func (a *Applier) Reset() { a.mapper.Reset() }

// Apply server-side applies obj, taking ownership of its fields, with
// strict field validation: an unknown or misplaced field is an error rather
// than silently dropped. With dryRun the API server validates and admits
// obj but stores nothing.
func (a *Applier) Apply(ctx context.Context, obj *unstructured.Unstructured, dryRun bool) error {
	ri, err := a.Resource(obj)
	if err != nil {
		return err
	}
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", obj.GetKind(), obj.GetName(), err)
	}
	force := true
	opts := metav1.PatchOptions{FieldManager: a.fieldManager, FieldValidation: metav1.FieldValidationStrict, Force: &force}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if _, err := ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, opts); err != nil {
		return fmt.Errorf("apply %s/%s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return nil
}

// ApplyExcept applies every object of objs but those of kind skip, in
// order: how the demo and the chaos run install the chart on kwok's nodes,
// which run no containers, leaving out the Deployment and running statusd
// as local processes with the chart's ServiceAccount.
func (a *Applier) ApplyExcept(ctx context.Context, objs []*unstructured.Unstructured, skip string) error {
	for _, obj := range objs {
		if obj.GetKind() == skip {
			continue
		}
		if err := a.Apply(ctx, obj, false); err != nil {
			return err
		}
	}
	return nil
}
