package cel

import (
	"strings"
	"testing"

	"statusd.io/statusd/pkg/catalog"
)

// TestEstimateLookups pins how look-ups are estimated. An indexed look-up
// used to be estimated as a scan of its whole source, so checking the
// conditions of a namespace's pods, which the refusal message itself
// recommends, was refused as quadratic.
func TestEstimateLookups(t *testing.T) {
	cases := []struct {
		name    string
		when    string
		refused bool
	}{
		{
			name: "look-up then each object's conditions",
			when: `cluster.inNamespace("pods", object.metadata.namespace).exists(p, conditions(p).exists(c, c.type == "Ready" && c.status != "True"))`,
		},
		{
			name: "label look-up then each object's conditions",
			when: `cluster.withLabels("pods", object.metadata.namespace, "app=x").filter(p, conditions(p).exists(c, c.type == "Ready" && c.status == "False")).size() > 0`,
		},
		{
			name: "node look-up then each object's conditions",
			when: `cluster.onNode("pods", "n1").exists(p, conditions(p).exists(c, c.type == "Ready" && c.status == "False"))`,
		},
		{
			name:    "scan inside a scan",
			when:    `cluster.objects("pods").all(p, cluster.objects("pods").all(q, p.metadata.uid == q.metadata.uid || p.metadata.name != q.metadata.name))`,
			refused: true,
		},
		{
			name:    "look-up inside a scan, each object checked",
			when:    `cluster.objects("pods").all(p, cluster.inNamespace("pods", p.metadata.namespace).all(q, q.metadata.name != p.metadata.name || q.metadata.uid == p.metadata.uid))`,
			refused: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: t, version: \"1\"}\n" +
				"sources:\n  pods: {version: v1, resource: pods}\n" +
				"reasons:\n- name: R\n  subject: pods\n  summary: s\n  when: '" + tc.when + "'\n"
			parsed, errs := catalog.Parse(catalog.NewFile("t.yaml", []byte(src)))
			if err := errs.Err(); err != nil {
				t.Fatalf("parse: %v", err)
			}
			_, errs = Compile(parsed, Options{})
			var refused bool
			for _, e := range errs {
				if strings.Contains(e.Error(), "exceeds the limit") {
					refused = true
				}
			}
			if refused != tc.refused {
				t.Fatalf("refused = %t, want %t; errors: %v", refused, tc.refused, errs)
			}
		})
	}
}
