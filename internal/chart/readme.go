package chart

import (
	"bytes"
	"fmt"
	"strings"
)

// ReadmeFile is the chart's generated README.
const ReadmeFile = "README.md"

// readmeHead is the hand-written part of the chart's README; the values
// table below it is generated from values.yaml.
const readmeHead = `# statusd Helm chart

statusd diagnoses why things in a Kubernetes cluster are unhealthy, from a
catalogue of reasons written in YAML and CEL, and publishes each root cause
as a Kubernetes Event.

<!-- Generated from values.yaml by internal/chart; do not edit. Run make generate. -->

## Install

No public image is published yet. Build one and push it where your cluster
pulls from, then install the chart from this repository:

` + "```" + `sh
make image IMAGE=registry.example.com/statusd:0.1.0
docker push registry.example.com/statusd:0.1.0
helm install statusd charts/statusd --namespace statusd --create-namespace \
  --set image.repository=registry.example.com/statusd --set image.tag=0.1.0
kubectl get events -A -l app.kubernetes.io/managed-by=statusd
` + "```" + `

## What it installs

- A Deployment of two replicas that elect a leader with the Lease ` + "`statusd`" + `:
  one evaluates, the other stands by with warm caches. Pods run as the
  distroless nonroot user with a read-only root filesystem, no capabilities
  and the runtime's default seccomp profile.
- Two ConfigMaps: the catalogue (the shipped one, a copy of ` + "`rules/`" + `, or
  your own files through ` + "`catalog.files`" + `) and your overlay beside it
  (` + "`catalog.overlay.files`" + `, or ` + "`kubectl edit`" + ` of the overlay ConfigMap).
  statusd watches both and loads their files as one catalogue, the
  catalogue's first; an edit of either reloads it in place, and a catalogue
  that does not load (a broken overlay) is refused whole, the last good one
  staying in force. ` + "`catalog.overlay.separate=false`" + ` puts the overlay's
  files into the catalogue's ConfigMap instead.
- Least-privilege RBAC, derived from the catalogue by ` + "`statusd rbac`" + `:
  a ClusterRole with get, list and watch on exactly the resources the
  catalogue watches and on Events (which statusd writes), and a Role for the
  Lease and the catalogue ConfigMaps, each by name. Secrets are never
  granted. With a catalogue of your own, set ` + "`rbac.rules`" + ` to the output
  of ` + "`statusd rbac -o rules --catalog <files>`" + `; for an overlay that
  watches resources the shipped catalogue does not, add their rules under
  ` + "`rbac.extraRules`" + ` (` + "`statusd rbac -o rules --catalog rules/ --catalog <overlay>`" + `
  prints what the whole catalogue needs).
- A Service for ` + "`/metrics`" + `, a PodDisruptionBudget, and optionally a
  ServiceMonitor and a PrometheusRule (alerts on refused catalogue reloads,
  failed scrapes of statusd, no leader, growing Unknown evaluations and slow
  ticks).

## Sizing

statusd's memory is a base plus a cost per object it caches (every pod,
node and namespace, and the add-on objects the catalogue watches; its
` + "`statusd_source_cached_objects`" + ` metric counts them, about 1.3 per pod),
fitted to ` + "`make scale`" + ` at 10,000 to 30,000 pods:

| | base | per cached object | 38,000 objects (30,000 pods) |
|---|---:|---:|---:|
| request (resident memory in the steady state) | 92 MiB | 2 KiB | 166 MiB |
| limit (the peak while thousands of pods start at once, 15 to 20% to spare) | 128 MiB | 3 KiB | 239 MiB |

The defaults (request 176Mi, limit 256Mi) fit about 30,000 pods. statusd
sets its Go heap's soft limit to 90% of the memory limit: a limit below the
formula is not an OOM kill but a garbage collector running almost
continuously, which slows every tick. The runs are in ` + "`docs/scale.md`" + ` and
the benchmarks in ` + "`docs/performance.md`" + `.

## Extend the shipped catalogue

Write your reasons in a file of kind ` + "`CatalogOverlay`" + ` (see
` + "`examples/extend/shop-overlay.yaml`" + `), lint and test it with the shipped
catalogue, and pass it as an overlay file:

` + "```" + `sh
statusd lint rules --tests examples/extend/tests rules/catalog.yaml examples/extend/shop-overlay.yaml
statusd test rules examples/extend/tests/
helm upgrade statusd charts/statusd --namespace statusd --reuse-values -f shop-values.yaml
` + "```" + `

with ` + "`shop-values.yaml`" + ` holding the overlay and the read access its sources
need beyond the shipped catalogue's (here EndpointSlices):

` + "```" + `yaml
catalog:
  overlay:
    files:
      shop.yaml: |
        apiVersion: statusd.io/v1alpha1
        kind: CatalogOverlay
        ...
rbac:
  extraRules:
  - {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [get, list, watch]}
` + "```" + `

The overlay can add sources, params, variables and reasons, override the
shipped params, disable shipped reasons by name, and hide your reasons
behind shipped causes (` + "`suppressedBy`" + `); the shipped files are never
edited, so upgrading the chart brings their updates.

## Values

| Key | Type | Default | Description |
|-----|------|---------|-------------|
`

// Readme generates the chart's README from values.yaml.
func Readme(values []byte) ([]byte, error) {
	rows, err := valuesRows(values)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(readmeHead)
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s |\n", r.key, r.typ, cell(r.def), cell(r.desc))
	}
	return b.Bytes(), nil
}

// cell escapes a table cell.
func cell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
