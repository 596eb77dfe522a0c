package snapshot_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/labels"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/snapshot"
)

func TestSelection(t *testing.T) {
	pods := catalog.Source{Version: "v1", Resource: "pods"}
	with := func(names []string, nsSelector, selector string) catalog.Source {
		s := pods
		s.Namespaces = catalog.Namespaces{Names: names, Selector: nsSelector}
		s.Selector = selector
		return s
	}
	pod := func(ns string, lbls map[string]any) *snapshot.Object {
		return snapshot.NewObject(map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"namespace": ns, "name": "p", "labels": lbls}})
	}
	web := map[string]any{"app": "web"}
	team := map[string]string{"team": "web"}
	tests := []struct {
		name     string
		src      catalog.Source
		obj      *snapshot.Object
		nsLabels map[string]string
		want     bool
	}{
		{name: "no restriction", src: pods, obj: pod("shop", nil), want: true},
		{name: "named namespace", src: with([]string{"shop", "admin"}, "", ""), obj: pod("admin", nil), want: true},
		{name: "other namespace", src: with([]string{"shop"}, "", ""), obj: pod("admin", nil), want: false},
		{name: "glob star", src: with([]string{"iaas-addon-*"}, "", ""), obj: pod("iaas-addon-dns", nil), want: true},
		{name: "glob question mark", src: with([]string{"team-?"}, "", ""), obj: pod("team-a", nil), want: true},
		{name: "glob class", src: with([]string{"team-[ab]"}, "", ""), obj: pod("team-c", nil), want: false},
		{name: "glob no match", src: with([]string{"iaas-addon-*"}, "", ""), obj: pod("shop", nil), want: false},
		{name: "namespace selector matches", src: with(nil, "team=web", ""), obj: pod("shop", nil), nsLabels: team, want: true},
		{name: "namespace selector does not match", src: with(nil, "team=db", ""), obj: pod("shop", nil), nsLabels: team, want: false},
		{name: "namespace selector with unknown labels", src: with(nil, "team=web", ""), obj: pod("shop", nil), want: false},
		{name: "namespace selector negation with unlabelled namespace", src: with(nil, "team!=db", ""), obj: pod("shop", nil), nsLabels: map[string]string{}, want: true},
		{name: "names or selector", src: with([]string{"admin"}, "team=web", ""), obj: pod("shop", nil), nsLabels: team, want: true},
		{name: "bad namespace selector selects nothing", src: with(nil, "team in (", ""), obj: pod("shop", nil), nsLabels: team, want: false},
		{name: "cluster-scoped objects always match the namespace", src: with([]string{"shop"}, "team=web", ""), obj: snapshot.NewObject(map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p"}}), want: true},
		{name: "label selector matches", src: with(nil, "", "app=web"), obj: pod("shop", web), want: true},
		{name: "label selector does not match", src: with(nil, "", "app=db"), obj: pod("shop", web), want: false},
		{name: "label set selector", src: with(nil, "", "app in (db, web),!canary"), obj: pod("shop", web), want: true},
		{name: "bad label selector selects nothing", src: with(nil, "", "app=="), obj: pod("shop", web), want: false},
		{name: "namespace and labels both needed", src: with([]string{"admin"}, "", "app=web"), obj: pod("shop", web), want: false},
		{name: "wrong resource", src: catalog.Source{Version: "v1", Resource: "nodes"}, obj: pod("shop", nil), want: false},
		{name: "wrong version", src: catalog.Source{Version: "v2", Resource: "pods"}, obj: pod("shop", nil), want: false},
		{name: "wrong group", src: catalog.Source{Group: "apps", Version: "v1", Resource: "pods"}, obj: pod("shop", nil), want: false},
		{
			name: "grouped resource with irregular plural",
			src:  catalog.Source{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
			obj:  snapshot.NewObject(map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": map[string]any{"namespace": "shop", "name": "deny"}}),
			want: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := snapshot.NewSelection(tt.src)
			var ns labels.Labels
			if tt.nsLabels != nil {
				ns = labels.Set(tt.nsLabels)
			}
			assert.Equal(t, tt.want, s.Matches(tt.obj, ns))
		})
	}
}

func TestSelectionNames(t *testing.T) {
	tests := []struct {
		name       string
		namespaces catalog.Namespaces
		selector   string
		want       []string
		wantSel    string
	}{
		{name: "no restriction", want: nil, wantSel: ""},
		{name: "exact names", namespaces: catalog.Namespaces{Names: []string{"a", "b"}}, want: []string{"a", "b"}},
		{name: "a glob needs every namespace", namespaces: catalog.Namespaces{Names: []string{"a", "b-*"}}, want: nil},
		{name: "a selector needs every namespace", namespaces: catalog.Namespaces{Names: []string{"a"}, Selector: "x=y"}, want: nil},
		{name: "label selector for the server", selector: "app=web", wantSel: "app=web"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := snapshot.NewSelection(catalog.Source{Version: "v1", Resource: "pods", Namespaces: tt.namespaces, Selector: tt.selector})
			assert.Equal(t, tt.want, s.Names())
			assert.Equal(t, tt.wantSel, s.Selector().String())
		})
	}
}
