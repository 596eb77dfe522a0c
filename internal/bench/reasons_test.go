package bench

import (
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"statusd.io/statusd/pkg/snapshot"
)

// compareHeader declares the shipped catalogue's sources that the compared
// reasons read.
const compareHeader = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: compare, version: "1"}
params: {podNotReadyGrace: 10m}
sources:
  pods: {version: v1, resource: pods}
  nodes: {version: v1, resource: nodes}
  helmreleases: {group: helm.toolkit.fluxcd.io, version: v2, resource: helmreleases, namespaces: "iaas-addon-*"}
  addonPods: {version: v1, resource: pods, namespaces: "iaas-addon-*"}
  addonServices: {version: v1, resource: services, namespaces: "iaas-addon-*"}
reasons:
`

// reason is one shipped reason's condition in CEL (as the shipped
// catalogue writes it, or its core) and the same check written by hand in
// Go, as a Go health checker would: type assertions on the unstructured
// content and the snapshot's indexes, nothing cached between ticks.
type reason struct {
	name, subject, when string
	check               func(snap *snapshot.Snapshot, o *snapshot.Object) bool
}

var reasons = []reason{
	{
		// A condition scan with a list membership, on HelmReleases.
		name: "AddonInstallFailed", subject: "helmreleases",
		when: `
conditions(object).exists(c,
  (c.type == "Ready" && c.status == "False" &&
   c.?reason.orValue("") in ["InstallFailed", "UpgradeFailed", "RollbackFailed", "UninstallFailed", "ArtifactFailed", "InitFailed", "TestFailed"]) ||
  (c.type == "Stalled" && c.status == "True"))`,
		check: func(_ *snapshot.Snapshot, o *snapshot.Object) bool {
			failed := []string{"InstallFailed", "UpgradeFailed", "RollbackFailed", "UninstallFailed", "ArtifactFailed", "InitFailed", "TestFailed"}
			for _, c := range conditions(o) {
				typ, status := str(c, "type"), str(c, "status")
				if typ == "Ready" && status == "False" && slices.Contains(failed, str(c, "reason")) || typ == "Stalled" && status == "True" {
					return true
				}
			}
			return false
		},
	},
	{
		// A phase test and a condition scan, on add-on pods.
		name: "AddonPodsUnschedulable", subject: "addonPods",
		when: `
object.?status.?phase.orValue("") == "Pending" &&
conditions(object).exists(c, c.type == "PodScheduled" && c.status == "False" && c.?reason.orValue("") == "Unschedulable")`,
		check: func(_ *snapshot.Snapshot, o *snapshot.Object) bool {
			if phase(o) != "Pending" {
				return false
			}
			for _, c := range conditions(o) {
				if str(c, "type") == "PodScheduled" && str(c, "status") == "False" && str(c, "reason") == "Unschedulable" {
					return true
				}
			}
			return false
		},
	},
	{
		// Phase, owner and age, on every pod.
		name: "PodNotReady", subject: "pods",
		when: `
object.?status.?phase.orValue("Pending") in ["Pending", "Unknown", "Failed"] &&
!(object.?status.?phase.orValue("") == "Failed" &&
  object.metadata.?ownerReferences.orValue([]).exists(r, r.kind == "Job")) &&
now - timestamp(object.metadata.creationTimestamp) > params.podNotReadyGrace`,
		check: func(snap *snapshot.Snapshot, o *snapshot.Object) bool {
			p := phase(o)
			if p == "" {
				p = "Pending"
			}
			if p != "Pending" && p != "Unknown" && p != "Failed" {
				return false
			}
			if p == "Failed" {
				md, _ := o.Content["metadata"].(map[string]any)
				refs, _ := md["ownerReferences"].([]any)
				for _, r := range refs {
					if ref, _ := r.(map[string]any); str(ref, "kind") == "Job" {
						return false
					}
				}
			}
			return snap.Time.Sub(o.Created) > 10*time.Minute
		},
	},
	{
		// A condition scan with a list membership, on nodes.
		name: "NodeUnderPressure", subject: "nodes",
		when: `conditions(object).exists(c, c.type in ["MemoryPressure", "DiskPressure", "PIDPressure"] && c.status == "True")`,
		check: func(_ *snapshot.Snapshot, o *snapshot.Object) bool {
			for _, c := range conditions(o) {
				switch str(c, "type") {
				case "MemoryPressure", "DiskPressure", "PIDPressure":
					if str(c, "status") == "True" {
						return true
					}
				}
			}
			return false
		},
	},
	{
		// A join through the label index: the Service's selected pods
		// (as serviceReadyEndpoints reads them), some of which are not
		// ready. The shipped AddonEndpointUnavailable asks for none ready;
		// this asks for not all, so the generated cluster has true cases.
		name: "AddonEndpointDegraded", subject: "addonServices",
		when: `
object.?spec.?selector.orValue({}).size() > 0 &&
cluster.withLabels("pods", object.metadata.namespace,
    object.spec.selector.map(k, k + "=" + object.spec.selector[k]).join(","))
  .exists(p, !has(p.metadata.deletionTimestamp) && !conditions(p).exists(c, c.type == "Ready" && c.status == "True"))`,
		check: func(snap *snapshot.Snapshot, o *snapshot.Object) bool {
			spec, _ := o.Content["spec"].(map[string]any)
			sel, _ := spec["selector"].(map[string]any)
			if len(sel) == 0 {
				return false
			}
			set := labels.Set{}
			for k, v := range sel {
				set[k], _ = v.(string)
			}
			for _, p := range snap.Set("pods").Select(o.Namespace, labels.SelectorFromSet(set)) {
				if !p.Deleting.IsZero() {
					continue
				}
				ready := false
				for _, c := range conditions(p) {
					if str(c, "type") == "Ready" && str(c, "status") == "True" {
						ready = true
						break
					}
				}
				if !ready {
					return true
				}
			}
			return false
		},
	},
}

func conditions(o *snapshot.Object) []any {
	st, _ := o.Content["status"].(map[string]any)
	cs, _ := st["conditions"].([]any)
	return cs
}

func phase(o *snapshot.Object) string {
	st, _ := o.Content["status"].(map[string]any)
	p, _ := st["phase"].(string)
	return p
}

// str reads a string field of a condition (or any map), "" when absent.
func str(c any, key string) string {
	m, _ := c.(map[string]any)
	s, _ := m[key].(string)
	return s
}
