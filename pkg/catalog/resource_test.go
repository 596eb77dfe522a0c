package catalog

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckResource(t *testing.T) {
	tests := []struct {
		name     string
		group    string
		version  string
		resource string
		secrets  bool     // wraps ErrSecrets
		want     []string // substrings, one per error; none: valid
	}{
		{name: "core pods", version: "v1", resource: "pods"},
		{name: "grouped CRD", group: "helm.toolkit.fluxcd.io", version: "v2beta1", resource: "helmreleases"},
		{name: "hyphenated plural", group: "example.io", version: "v1", resource: "my-things"},
		{name: "secrets in another group are another resource", group: "example.io", version: "v1", resource: "secrets"},
		{name: "secrets", version: "v1", resource: "secrets", secrets: true, want: []string{"statusd never reads Secrets"}},
		{name: "Secrets capitalised", version: "v1", resource: "Secrets", secrets: true, want: []string{`written group "", resource "Secrets"`}},
		{name: "leading space", version: "v1", resource: " secrets", secrets: true, want: []string{"never reads Secrets"}},
		{name: "trailing tab", version: "v1", resource: "secrets\t", secrets: true, want: []string{"never reads Secrets"}},
		{name: "singular", version: "v1", resource: "secret", secrets: true, want: []string{"never reads Secrets"}},
		{name: "group core", group: "core", version: "v1", resource: "secrets", secrets: true, want: []string{"never reads Secrets"}},
		{name: "group Core", group: "Core", version: "v1", resource: "SECRETS", secrets: true, want: []string{"never reads Secrets"}},
		{name: "subresource of secrets", version: "v1", resource: "secrets/status", secrets: true, want: []string{"never reads Secrets"}},
		{name: "core wildcard", version: "v1", resource: "*", secrets: true, want: []string{"a wildcard would include Secrets", `resource "*": a wildcard is refused`}},
		{name: "group wildcard", group: "*", version: "v1", resource: "things", secrets: true, want: []string{"a wildcard would include Secrets", `group "*": a wildcard is refused`}},
		{name: "wildcard in a named group", group: "example.io", version: "v1", resource: "*", want: []string{`resource "*": a wildcard is refused`}},
		{name: "subresource", version: "v1", resource: "pods/status", want: []string{`names a subresource: a source lists objects, name "pods"`}},
		{name: "uppercase", version: "v1", resource: "Pods", want: []string{`resource "Pods" must be a lowercase plural as discovery lists it: did you mean "pods"?`}},
		{name: "space inside", version: "v1", resource: "pod s", want: []string{`resource "pod s" must be a lowercase plural`}},
		{name: "core singular", version: "v1", resource: "pod", want: []string{`resource "pod" is singular: discovery lists "pods"`}},
		{name: "group core for pods", group: "core", version: "v1", resource: "pods", want: []string{`group "core": the core group is written ""`}},
		{name: "uppercase group", group: "Apps", version: "v1", resource: "deployments", want: []string{`group "Apps" must be a lowercase DNS subdomain, as discovery lists it: did you mean "apps"?`}},
		{name: "bad version", group: "apps", version: "1", resource: "deployments", want: []string{`version "1" is not an API version`}},
		{name: "escape sequence", version: "v1", resource: "pods\x1b[2J", want: []string{"must be a lowercase plural"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := CheckResource(&Source{Group: tc.group, Version: tc.version, Resource: tc.resource})
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if assert.Len(t, errs, len(tc.want), "%q", got) {
				for i, w := range tc.want {
					assert.Contains(t, got[i], w)
				}
			}
			hasSecrets := false
			for _, e := range errs {
				hasSecrets = hasSecrets || errors.Is(e, ErrSecrets)
			}
			assert.Equal(t, tc.secrets, hasSecrets)
		})
	}
}
