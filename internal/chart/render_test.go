package chart_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"statusd.io/statusd/internal/chart"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
	"statusd.io/statusd/pkg/rbac"
	"statusd.io/statusd/rules"
)

// rendered is one helm template run, indexed by kind/name.
type rendered struct {
	objs   []*unstructured.Unstructured
	byName map[string]*unstructured.Unstructured
}

func (r *rendered) get(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	o := r.byName[kind+"/"+name]
	require.NotNil(t, o, "no %s/%s rendered; have %v", kind, name, r.kinds())
	return o
}

func (r *rendered) kinds() []string {
	var out []string
	for _, o := range r.objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	slices.Sort(out)
	return out
}

// into converts an unstructured object into a typed one.
func into[T any](t *testing.T, o *unstructured.Unstructured) *T {
	t.Helper()
	var v T
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &v))
	return &v
}

func render(t *testing.T, opts chart.RenderOptions) (*rendered, error) {
	t.Helper()
	helm, err := chart.Helm()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := chart.Render(ctx, helm, chart.Dir(), opts)
	if err != nil {
		return nil, err
	}
	objs, err := chart.Decode(out)
	require.NoError(t, err)
	r := &rendered{objs: objs, byName: map[string]*unstructured.Unstructured{}}
	for _, o := range objs {
		r.byName[o.GetKind()+"/"+o.GetName()] = o
	}
	return r, nil
}

func shipped(t *testing.T) *catalog.Catalog {
	t.Helper()
	res := loader.Embedded(cel.Options{})
	cat, errs := res.Source, res.Problems
	require.NoError(t, errs.Err())
	return cat
}

// TestRender renders the chart with several values and checks what each
// must produce.
func TestRender(t *testing.T) {
	myCatalog := "apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: mine, version: \"1\"}\nreasons: []\n"
	tests := []struct {
		name  string
		opts  chart.RenderOptions
		kinds []string
		check func(t *testing.T, r *rendered)
	}{
		{
			name: "defaults",
			kinds: []string{
				"ClusterRole/statusd", "ClusterRoleBinding/statusd", "ConfigMap/statusd-catalog", "ConfigMap/statusd-catalog-overlay", "Deployment/statusd",
				"PodDisruptionBudget/statusd", "Role/statusd", "RoleBinding/statusd", "Service/statusd", "ServiceAccount/statusd",
			},
			check: func(t *testing.T, r *rendered) {
				cr := into[rbacv1.ClusterRole](t, r.get(t, "ClusterRole", "statusd"))
				want, err := rbac.ClusterRules(shipped(t))
				require.NoError(t, err)
				assert.Equal(t, want, cr.Rules, "the chart's ClusterRole must be what statusd rbac derives from the shipped catalogue")

				role := into[rbacv1.Role](t, r.get(t, "Role", "statusd"))
				assert.Equal(t, rbac.RoleRules(rbac.Options{Lease: "statusd", ConfigMaps: []string{"statusd-catalog", "statusd-catalog-overlay"}}), role.Rules)

				cm := into[corev1.ConfigMap](t, r.get(t, "ConfigMap", "statusd-catalog"))
				wantData := map[string]string{}
				for _, name := range rules.Files() {
					b, err := fs.ReadFile(rules.FS, name)
					require.NoError(t, err)
					wantData[name] = string(b)
				}
				assert.Equal(t, wantData, cm.Data, "the ConfigMap must serve the shipped catalogue byte for byte")
				overlay := into[corev1.ConfigMap](t, r.get(t, "ConfigMap", "statusd-catalog-overlay"))
				assert.Empty(t, overlay.Data, "the overlay ConfigMap is there to be edited, and empty")

				d := into[appsv1.Deployment](t, r.get(t, "Deployment", "statusd"))
				assert.Equal(t, int32(2), *d.Spec.Replicas)
				pod := d.Spec.Template.Spec
				assert.Equal(t, "statusd", pod.ServiceAccountName)
				require.NotNil(t, pod.SecurityContext.RunAsNonRoot)
				assert.True(t, *pod.SecurityContext.RunAsNonRoot)
				assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.SecurityContext.SeccompProfile.Type)
				require.Len(t, pod.Containers, 1)
				c := pod.Containers[0]
				assert.Equal(t, []string{
					"run", "--catalog-configmap=statusd/statusd-catalog", "--catalog-configmap=statusd/statusd-catalog-overlay", "--listen=:8080", "--resync=30s",
					"--leader-elect=true", "--leader-election-namespace=statusd", "--leader-election-name=statusd",
					"--log-format=json", "--log-level=info",
				}, c.Args)
				assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
				assert.True(t, *c.SecurityContext.RunAsNonRoot)
				assert.False(t, *c.SecurityContext.AllowPrivilegeEscalation)
				assert.Equal(t, []corev1.Capability{"ALL"}, c.SecurityContext.Capabilities.Drop)
				assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, c.SecurityContext.SeccompProfile.Type)
				assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)
				assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
				assert.False(t, c.Resources.Requests.Cpu().IsZero())
				assert.False(t, c.Resources.Limits.Memory().IsZero())
				env := map[string]string{}
				for _, e := range c.Env {
					env[e.Name] = e.ValueFrom.FieldRef.FieldPath
				}
				assert.Equal(t, map[string]string{"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}, env)
				assert.Equal(t, "statusd:0.1.0", c.Image)
			},
		},
		{
			name: "release name and namespace flow into every reference",
			opts: chart.RenderOptions{Release: "prod", Namespace: "monitoring", Set: []string{"eventNamespace=kube-system", "clusterEventNamespace=ops", "log.level=debug", "extraArgs={--heartbeat=5m}"}},
			kinds: []string{
				"ClusterRole/prod-statusd", "ClusterRoleBinding/prod-statusd", "ConfigMap/prod-statusd-catalog", "ConfigMap/prod-statusd-catalog-overlay", "Deployment/prod-statusd",
				"PodDisruptionBudget/prod-statusd", "Role/prod-statusd", "RoleBinding/prod-statusd", "Service/prod-statusd", "ServiceAccount/prod-statusd",
			},
			check: func(t *testing.T, r *rendered) {
				role := into[rbacv1.Role](t, r.get(t, "Role", "prod-statusd"))
				assert.Equal(t, "monitoring", role.Namespace)
				assert.Equal(t, rbac.RoleRules(rbac.Options{Lease: "prod-statusd", ConfigMaps: []string{"prod-statusd-catalog", "prod-statusd-catalog-overlay"}}), role.Rules)
				for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
					b := r.get(t, kind, "prod-statusd")
					subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
					assert.Equal(t, []any{map[string]any{"kind": "ServiceAccount", "name": "prod-statusd", "namespace": "monitoring"}}, subjects)
				}
				d := into[appsv1.Deployment](t, r.get(t, "Deployment", "prod-statusd"))
				assert.Equal(t, []string{
					"run", "--catalog-configmap=monitoring/prod-statusd-catalog", "--catalog-configmap=monitoring/prod-statusd-catalog-overlay", "--listen=:8080", "--resync=30s",
					"--leader-elect=true", "--leader-election-namespace=monitoring", "--leader-election-name=prod-statusd",
					"--event-namespace=kube-system", "--cluster-event-namespace=ops", "--log-format=json", "--log-level=debug", "--heartbeat=5m",
				}, d.Spec.Template.Spec.Containers[0].Args)
			},
		},
		{
			name: "single replica without leader election",
			opts: chart.RenderOptions{Set: []string{"leaderElection.enabled=false", "replicaCount=1", "podDisruptionBudget.enabled=false", "log.format=text"}},
			check: func(t *testing.T, r *rendered) {
				d := into[appsv1.Deployment](t, r.get(t, "Deployment", "statusd"))
				assert.Equal(t, int32(1), *d.Spec.Replicas)
				// statusd run elects by default: off must be said.
				assert.Equal(t, []string{
					"run", "--catalog-configmap=statusd/statusd-catalog", "--catalog-configmap=statusd/statusd-catalog-overlay", "--listen=:8080", "--resync=30s",
					"--leader-elect=false", "--log-format=text", "--log-level=info",
				}, d.Spec.Template.Spec.Containers[0].Args)
				assert.Nil(t, r.byName["PodDisruptionBudget/statusd"])
			},
		},
		{
			name: "own catalogue and rules",
			opts: chart.RenderOptions{Values: "catalog:\n  files:\n    mine.yaml: |\n" + indent(myCatalog, "      ") +
				"rbac:\n  rules:\n    - apiGroups: [apps]\n      resources: [statefulsets]\n      verbs: [get, list, watch]\n"},
			check: func(t *testing.T, r *rendered) {
				cm := into[corev1.ConfigMap](t, r.get(t, "ConfigMap", "statusd-catalog"))
				assert.Equal(t, map[string]string{"mine.yaml": myCatalog}, cm.Data)
				cr := into[rbacv1.ClusterRole](t, r.get(t, "ClusterRole", "statusd"))
				assert.Equal(t, []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: []string{"get", "list", "watch"}}}, cr.Rules)
			},
		},
		{
			name:  "no rbac, existing service account and catalogue",
			opts:  chart.RenderOptions{Set: []string{"rbac.create=false", "serviceAccount.create=false", "serviceAccount.name=sa", "catalog.create=false", "catalog.name=cat", "podDisruptionBudget.enabled=false"}},
			kinds: []string{"ConfigMap/statusd-catalog-overlay", "Deployment/statusd", "Service/statusd"},
			check: func(t *testing.T, r *rendered) {
				d := into[appsv1.Deployment](t, r.get(t, "Deployment", "statusd"))
				assert.Equal(t, "sa", d.Spec.Template.Spec.ServiceAccountName)
				assert.Subset(t, d.Spec.Template.Spec.Containers[0].Args, []string{"--catalog-configmap=statusd/cat", "--catalog-configmap=statusd/statusd-catalog-overlay"})
			},
		},
		{
			name: "an overlay in its own ConfigMap, beside the shipped catalogue",
			opts: chart.RenderOptions{Values: "catalog:\n  overlay:\n    files:\n      shop.yaml: |\n" + indent(shopOverlay(t), "        ")},
			check: func(t *testing.T, r *rendered) {
				cat := into[corev1.ConfigMap](t, r.get(t, "ConfigMap", "statusd-catalog"))
				assert.Len(t, cat.Data, len(rules.Files()), "the shipped catalogue is left as it is")
				over := into[corev1.ConfigMap](t, r.get(t, "ConfigMap", "statusd-catalog-overlay"))
				assert.Equal(t, map[string]string{"shop.yaml": shopOverlay(t)}, over.Data)
				d := into[appsv1.Deployment](t, r.get(t, "Deployment", "statusd"))
				assert.Subset(t, d.Spec.Template.Spec.Containers[0].Args, []string{"--catalog-configmap=statusd/statusd-catalog", "--catalog-configmap=statusd/statusd-catalog-overlay"})
				// What statusd makes of the two: one catalogue, the shop's
				// reason with its edge from the shipped NodeNotReady.
				res := loader.Files(append(loader.ConfigMapFiles(cat), loader.ConfigMapFiles(over)...), nil, "chart", cel.Options{})
				require.NoError(t, res.Err())
				r2 := res.Catalog.Reason("CheckoutPodNotRunning")
				require.NotNil(t, r2)
				assert.Equal(t, "configmap/statusd/statusd-catalog-overlay/shop.yaml", r2.Pos.File)
				assert.Contains(t, res.Catalog.Source.Metadata.Version, "+shop.1")
				var causes []string
				for _, e := range res.Catalog.Graph.CausesOf("CheckoutPodNotRunning") {
					causes = append(causes, e.Cause)
				}
				assert.Contains(t, causes, "NodeNotReady")
			},
		},
		{
			name: "extra rules for an overlay's sources",
			opts: chart.RenderOptions{Values: "rbac:\n  extraRules:\n    - apiGroups: [discovery.k8s.io]\n      resources: [endpointslices]\n      verbs: [get, list, watch]\n"},
			check: func(t *testing.T, r *rendered) {
				cr := into[rbacv1.ClusterRole](t, r.get(t, "ClusterRole", "statusd"))
				want, err := rbac.ClusterRules(shipped(t))
				require.NoError(t, err)
				want = append(want, rbacv1.PolicyRule{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"get", "list", "watch"}})
				assert.Equal(t, want, cr.Rules, "the generated rules, then the extra ones")
			},
		},
		{
			name: "an overlay in the catalogue's ConfigMap",
			opts: chart.RenderOptions{Values: "catalog:\n  overlay:\n    separate: false\n    files:\n      shop.yaml: |\n" + indent(shopOverlay(t), "        ")},
			kinds: []string{
				"ClusterRole/statusd", "ClusterRoleBinding/statusd", "ConfigMap/statusd-catalog", "Deployment/statusd",
				"PodDisruptionBudget/statusd", "Role/statusd", "RoleBinding/statusd", "Service/statusd", "ServiceAccount/statusd",
			},
			check: func(t *testing.T, r *rendered) {
				cat := into[corev1.ConfigMap](t, r.get(t, "ConfigMap", "statusd-catalog"))
				assert.Len(t, cat.Data, len(rules.Files())+1)
				assert.Equal(t, shopOverlay(t), cat.Data["shop.yaml"])
				res := loader.Files(loader.ConfigMapFiles(cat), nil, "chart", cel.Options{})
				require.NoError(t, res.Err())
				assert.NotNil(t, res.Catalog.Reason("CheckoutPodNotRunning"))
				d := into[appsv1.Deployment](t, r.get(t, "Deployment", "statusd"))
				var cms []string
				for _, a := range d.Spec.Template.Spec.Containers[0].Args {
					if strings.HasPrefix(a, "--catalog-configmap=") {
						cms = append(cms, a)
					}
				}
				assert.Equal(t, []string{"--catalog-configmap=statusd/statusd-catalog"}, cms)
				role := into[rbacv1.Role](t, r.get(t, "Role", "statusd"))
				assert.Equal(t, rbac.RoleRules(rbac.Options{Lease: "statusd", ConfigMaps: []string{"statusd-catalog"}}), role.Rules)
			},
		},
		{
			name: "an overlay ConfigMap managed elsewhere",
			opts: chart.RenderOptions{Set: []string{"catalog.overlay.create=false", "catalog.overlay.name=team-overlay"}},
			check: func(t *testing.T, r *rendered) {
				assert.Nil(t, r.byName["ConfigMap/statusd-catalog-overlay"])
				assert.Nil(t, r.byName["ConfigMap/team-overlay"])
				d := into[appsv1.Deployment](t, r.get(t, "Deployment", "statusd"))
				assert.Contains(t, d.Spec.Template.Spec.Containers[0].Args, "--catalog-configmap=statusd/team-overlay")
				role := into[rbacv1.Role](t, r.get(t, "Role", "statusd"))
				assert.Equal(t, rbac.RoleRules(rbac.Options{Lease: "statusd", ConfigMaps: []string{"statusd-catalog", "team-overlay"}}), role.Rules)
			},
		},
		{
			name: "prometheus and alertmanager",
			opts: chart.RenderOptions{Values: `clusterName: prod-eu-1
externalURL: https://statusd.example.com/
prometheus:
  url: https://thanos-query.monitoring:10902
  bearerTokenSecret: {name: thanos-token, key: jwt}
  tlsSecret: {name: thanos-client}
  queryTimeout: 5s
  tickTimeout: 15s
alertmanager:
  urls: [http://am-0.monitoring:9093, http://am-1.monitoring:9093]
  bearerTokenSecret: {name: am-token}
`},
			check: func(t *testing.T, r *rendered) {
				d := into[appsv1.Deployment](t, r.get(t, "Deployment", "statusd"))
				pod := d.Spec.Template.Spec
				c := pod.Containers[0]
				assert.Equal(t, []string{
					"run", "--catalog-configmap=statusd/statusd-catalog", "--catalog-configmap=statusd/statusd-catalog-overlay", "--listen=:8080", "--resync=30s",
					"--leader-elect=true", "--leader-election-namespace=statusd", "--leader-election-name=statusd",
					"--cluster-name=prod-eu-1", "--external-url=https://statusd.example.com/",
					"--prometheus-url=https://thanos-query.monitoring:10902", "--prometheus-tick-timeout=15s", "--prometheus-query-timeout=5s",
					"--prometheus-bearer-token-file=/etc/statusd/prometheus-token/token",
					"--prometheus-ca-file=/etc/statusd/prometheus-tls/ca.crt", "--prometheus-cert-file=/etc/statusd/prometheus-tls/tls.crt",
					"--prometheus-key-file=/etc/statusd/prometheus-tls/tls.key",
					"--alertmanager-url=http://am-0.monitoring:9093", "--alertmanager-url=http://am-1.monitoring:9093",
					"--alertmanager-bearer-token-file=/etc/statusd/alertmanager-token/token",
					"--log-format=json", "--log-level=info",
				}, c.Args)
				for _, e := range c.Env {
					assert.Nil(t, e.ValueFrom.SecretKeyRef, "credentials are files, never environment variables: %s", e.Name)
				}
				assert.Empty(t, c.EnvFrom)
				mounts := map[string]string{}
				for _, m := range c.VolumeMounts {
					mounts[m.Name] = m.MountPath
					if m.Name != "tmp" {
						assert.True(t, m.ReadOnly, m.Name)
					}
				}
				assert.Equal(t, map[string]string{
					"tmp": "/tmp", "prometheus-token": "/etc/statusd/prometheus-token",
					"prometheus-tls": "/etc/statusd/prometheus-tls", "alertmanager-token": "/etc/statusd/alertmanager-token",
				}, mounts)
				secrets := map[string]string{}
				for _, v := range pod.Volumes {
					if v.Secret == nil {
						continue
					}
					var items []string
					for _, it := range v.Secret.Items {
						items = append(items, it.Key+"→"+it.Path)
					}
					secrets[v.Name] = v.Secret.SecretName + ": " + strings.Join(items, ", ")
				}
				assert.Equal(t, map[string]string{
					"prometheus-token":   "thanos-token: jwt→token",
					"prometheus-tls":     "thanos-client: ca.crt→ca.crt, tls.crt→tls.crt, tls.key→tls.key",
					"alertmanager-token": "am-token: token→token",
				}, secrets)
			},
		},
		{
			name: "prometheus alone",
			opts: chart.RenderOptions{Set: []string{"prometheus.url=http://prometheus-operated.monitoring:9090"}},
			check: func(t *testing.T, r *rendered) {
				d := into[appsv1.Deployment](t, r.get(t, "Deployment", "statusd"))
				args := d.Spec.Template.Spec.Containers[0].Args
				assert.Contains(t, args, "--prometheus-url=http://prometheus-operated.monitoring:9090")
				assert.Contains(t, args, "--prometheus-tick-timeout=20s")
				for _, a := range args {
					assert.NotContains(t, a, "--alertmanager", "no Alertmanager unless urls are given")
					assert.NotContains(t, a, "-file=", "no credentials unless Secrets are named")
				}
				assert.Len(t, d.Spec.Template.Spec.Volumes, 1)
			},
		},
		{
			name: "monitoring",
			opts: chart.RenderOptions{Set: []string{"serviceMonitor.enabled=true", "prometheusRule.enabled=true", "prometheusRule.labels.release=kps"}},
			check: func(t *testing.T, r *rendered) {
				sm := r.get(t, "ServiceMonitor", "statusd")
				endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
				require.Len(t, endpoints, 1)
				assert.Equal(t, "http", endpoints[0].(map[string]any)["port"])

				pr := r.get(t, "PrometheusRule", "statusd")
				assert.Equal(t, "kps", pr.GetLabels()["release"])
				groups, _, _ := unstructured.NestedSlice(pr.Object, "spec", "groups")
				require.Len(t, groups, 1)
				exprs := map[string]string{}
				for _, rule := range groups[0].(map[string]any)["rules"].([]any) {
					m := rule.(map[string]any)
					exprs[m["alert"].(string)] = m["expr"].(string)
					desc := m["annotations"].(map[string]any)["description"].(string)
					assert.NotContains(t, desc, "<no value>")
				}
				sel := `{job="statusd",namespace="statusd"}`
				assert.Equal(t, map[string]string{
					"StatusdCatalogReloadFailed": `max by (namespace, pod) (statusd_catalog_last_reload_successful` + sel + `) == 0`,
					"StatusdDown":                `up` + sel + ` == 0`,
					"StatusdNoLeader":            `(sum(statusd_leader` + sel + `) or vector(0)) == 0`,
					"StatusdUnknownGrowing": `sum by (namespace, pod) (rate(statusd_cel_unknown_total` + sel + `[10m])) / sum by (namespace, pod) (rate(statusd_ticks_total` + sel +
						`[10m])) > 1`,
					"StatusdTickSlow": `histogram_quantile(0.99, sum by (namespace, pod, le) (rate(statusd_tick_duration_seconds_bucket` + sel + `[10m]))) > 5`,
				}, exprs)
			},
		},
		{
			name: "dashboard for the Grafana sidecar",
			opts: chart.RenderOptions{Set: []string{"dashboard.enabled=true"}},
			check: func(t *testing.T, r *rendered) {
				cm := into[corev1.ConfigMap](t, r.get(t, "ConfigMap", "statusd-dashboard"))
				assert.Equal(t, "statusd", cm.Namespace)
				assert.Equal(t, "1", cm.Labels["grafana_dashboard"], "the label kube-prometheus-stack's sidecar selects by default")
				assert.Equal(t, "statusd", cm.Labels["app.kubernetes.io/name"])
				want, err := os.ReadFile(filepath.Join(chart.Dir(), "files", "dashboards", "statusd.json"))
				require.NoError(t, err)
				assert.Equal(t, map[string]string{"statusd.json": string(want)}, cm.Data, "the ConfigMap must serve the dashboard byte for byte")
				assert.True(t, json.Valid([]byte(cm.Data["statusd.json"])))
			},
		},
		{
			name: "dashboard with the sidecar's label, namespace and folder of the operator's choice",
			opts: chart.RenderOptions{Release: "prod", Namespace: "statusd-system", Values: "dashboard:\n  enabled: true\n  namespace: monitoring\n" +
				"  label: example.com/dashboard\n  labelValue: statusd\n  labels: {team: platform}\n  annotations: {grafana_folder: Platform}\n"},
			check: func(t *testing.T, r *rendered) {
				cm := into[corev1.ConfigMap](t, r.get(t, "ConfigMap", "prod-statusd-dashboard"))
				assert.Equal(t, "monitoring", cm.Namespace)
				assert.Equal(t, "statusd", cm.Labels["example.com/dashboard"])
				assert.Equal(t, "platform", cm.Labels["team"])
				assert.NotContains(t, cm.Labels, "grafana_dashboard")
				assert.Equal(t, map[string]string{"grafana_folder": "Platform"}, cm.Annotations)
				assert.Contains(t, cm.Data, "statusd.json")
			},
		},
		{
			name: "dashboard off: no ConfigMap, whatever else is set",
			opts: chart.RenderOptions{Set: []string{"dashboard.enabled=false", "dashboard.namespace=monitoring"}},
			check: func(t *testing.T, r *rendered) {
				for _, o := range r.objs {
					assert.NotContains(t, o.GetName(), "dashboard")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := render(t, tt.opts)
			require.NoError(t, err)
			if tt.kinds != nil {
				assert.Equal(t, tt.kinds, r.kinds())
			}
			for _, o := range r.objs {
				assert.NotEqual(t, "Secret", o.GetKind(), "the chart never creates Secrets")
			}
			tt.check(t, r)
		})
	}
}

// TestRenderRefusesBadValues checks helm refuses, through the generated
// values.schema.json, values the chart does not know or cannot use.
func TestRenderRefusesBadValues(t *testing.T) {
	tests := []struct {
		name    string
		set     []string
		values  string
		wantErr string
	}{
		{name: "unknown top-level key", set: []string{"replicas=3"}, wantErr: "additional properties 'replicas' not allowed"},
		{name: "unknown nested key", set: []string{"image.name=x"}, wantErr: "additional properties 'name' not allowed"},
		{name: "wrong type", values: "replicaCount: two\n", wantErr: "replicaCount"},
		{name: "negative replicas", set: []string{"replicaCount=-1"}, wantErr: "replicaCount"},
		{name: "bad pull policy", set: []string{"image.pullPolicy=Sometimes"}, wantErr: "pullPolicy"},
		{name: "catalogue file not yaml", set: []string{"catalog.files.rules\\.txt=x"}, wantErr: "rules.txt"},
		{name: "overlay file not yaml", set: []string{"catalog.overlay.files.shop\\.txt=x"}, wantErr: "shop.txt"},
		{name: "unknown overlay key", set: []string{"catalog.overlay.configMap=x"}, wantErr: "additional properties 'configMap' not allowed"},
		{
			name: "overlay file named like a shipped file", set: []string{"catalog.overlay.separate=false", "catalog.overlay.files.catalog\\.yaml=x"},
			wantErr: "catalog.overlay.files: catalog.yaml is also a file of the catalogue",
		},
		{
			name: "overlay for a catalogue ConfigMap the chart does not make", set: []string{"catalog.overlay.separate=false", "catalog.create=false", "catalog.overlay.files.a\\.yaml=x"},
			wantErr: "catalog.overlay.files with catalog.overlay.separate=false go into the catalogue ConfigMap",
		},
		{name: "bad resync", set: []string{"resync=soon"}, wantErr: "resync"},
		{name: "bad log level", set: []string{"log.level=verbose"}, wantErr: "level"},
		{name: "service account name required", set: []string{"serviceAccount.create=false"}, wantErr: "serviceAccount.name is required"},
		{name: "prometheus URL without scheme", set: []string{"prometheus.url=prometheus:9090"}, wantErr: "prometheus"},
		{name: "alertmanager URL without scheme", set: []string{"alertmanager.urls={am:9093}"}, wantErr: "urls"},
		{name: "bad external URL", set: []string{"externalURL=statusd.example.com"}, wantErr: "externalURL"},
		{name: "bad tick timeout", set: []string{"prometheus.tickTimeout=soon"}, wantErr: "tickTimeout"},
		{name: "unknown prometheus key", set: []string{"prometheus.token=x"}, wantErr: "additional properties 'token' not allowed"},
		{name: "token secret without URL", set: []string{"prometheus.bearerTokenSecret.name=tok"}, wantErr: "prometheus.bearerTokenSecret and prometheus.tlsSecret need prometheus.url"},
		{name: "tls secret without URL", set: []string{"prometheus.tlsSecret.name=tls"}, wantErr: "need prometheus.url"},
		{name: "alertmanager token without URLs", set: []string{"alertmanager.bearerTokenSecret.name=tok"}, wantErr: "alertmanager.bearerTokenSecret needs alertmanager.urls"},
		{name: "dashboard label not a label name", set: []string{"dashboard.label=grafana dashboard"}, wantErr: "label"},
		{name: "dashboard enabled not a bool", values: "dashboard: {enabled: yes please}\n", wantErr: "enabled"},
		{name: "unknown dashboard key", set: []string{"dashboard.folder=x"}, wantErr: "additional properties 'folder' not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := render(t, chart.RenderOptions{Set: tt.set, Values: tt.values})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

// TestValuesMatchSchema validates values.yaml against the generated schema
// with a second validator, so a schema helm happened to accept but that is
// wrong would show.
func TestValuesMatchSchema(t *testing.T) {
	dir := chart.Dir()
	raw, err := os.ReadFile(filepath.Join(dir, chart.SchemaFile))
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("values.schema.json", doc))
	schema, err := c.Compile("values.schema.json")
	require.NoError(t, err)

	valuesYAML, err := os.ReadFile(filepath.Join(dir, chart.ValuesFile))
	require.NoError(t, err)
	valuesJSON, err := yaml.YAMLToJSON(valuesYAML)
	require.NoError(t, err)
	var values any
	require.NoError(t, json.Unmarshal(valuesJSON, &values))
	require.NoError(t, schema.Validate(values))
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

// TestImageUserMatchesChart checks the image runs as the user the chart's
// security context names, so runAsNonRoot never refuses the pod.
func TestImageUserMatchesChart(t *testing.T) {
	dockerfile, err := os.ReadFile(filepath.Join(chart.RepoRoot(), "Dockerfile"))
	require.NoError(t, err)
	var user, base string
	for _, line := range strings.Split(string(dockerfile), "\n") {
		if v, ok := strings.CutPrefix(line, "USER "); ok {
			user = v
		}
		if v, ok := strings.CutPrefix(line, "FROM "); ok {
			base = v
		}
	}
	assert.Equal(t, "gcr.io/distroless/static:nonroot", base, "the final stage")
	assert.Equal(t, "65532:65532", user)
	assert.Contains(t, string(dockerfile), "CGO_ENABLED=0")

	r, err := render(t, chart.RenderOptions{})
	require.NoError(t, err)
	pod := into[appsv1.Deployment](t, r.get(t, "Deployment", "statusd")).Spec.Template.Spec
	assert.Equal(t, int64(65532), *pod.SecurityContext.RunAsUser)
	assert.Equal(t, int64(65532), *pod.SecurityContext.RunAsGroup)
}

// shopOverlay is the overlay of examples/extend, which the README's
// walkthrough ships with the chart.
func shopOverlay(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chart.Dir(), "..", "..", "examples", "extend", "shop-overlay.yaml"))
	require.NoError(t, err)
	return string(b)
}
