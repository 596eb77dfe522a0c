package reload

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"statusd.io/statusd/internal/testenv"
	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{}) }

// catalogue returns a valid catalogue whose one reason carries version v.
func catalogue(v string) string {
	return `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: reload-test, version: "` + v + `"}
sources:
  pods: {version: v1, resource: pods}
reasons:
- name: PodPending
  subject: pods
  when: object.?status.?phase.orValue("") == "Pending"
  summary: pending ` + v + `
`
}

const broken = `apiVersion: statusd.io/v1alpha1
kind: Catalog
metadata: {name: reload-test, version: "bad"}
sources:
  pods: {version: v1, resource: pods}
reasons:
- name: PodPending
  subject: pods
  when: object.status.phase +
  summary: broken
`

// next waits for the next update of a watcher, at most d, and reports it
// applied, as the daemon does.
func next(t *testing.T, updates <-chan *Update, d time.Duration) *Update {
	t.Helper()
	select {
	case u := <-updates:
		u.Done(true)
		return u
	case <-time.After(d):
		t.Fatalf("no reload within %s", d)
		return nil
	}
}

// none checks that no update arrives within d.
func none(t *testing.T, updates <-chan *Update, d time.Duration) {
	t.Helper()
	select {
	case u := <-updates:
		t.Fatalf("unexpected reload: %+v", u)
	case <-time.After(d):
	}
}

// kubeletDir lays out a directory the way the kubelet mounts a ConfigMap:
// the file is a symlink through ..data, which an update swaps atomically.
type kubeletDir struct {
	t   *testing.T
	dir string
	gen int
}

func (k *kubeletDir) write(content string) {
	k.gen++
	ts := filepath.Join(k.dir, "..gen"+strings.Repeat("x", k.gen))
	require.NoError(k.t, os.Mkdir(ts, 0o755))
	require.NoError(k.t, os.WriteFile(filepath.Join(ts, "catalog.yaml"), []byte(content), 0o644))
	tmp := filepath.Join(k.dir, "..data_tmp")
	require.NoError(k.t, os.Symlink(filepath.Base(ts), tmp))
	require.NoError(k.t, os.Rename(tmp, filepath.Join(k.dir, "..data")))
	link := filepath.Join(k.dir, "catalog.yaml")
	if _, err := os.Lstat(link); os.IsNotExist(err) {
		require.NoError(k.t, os.Symlink("..data/catalog.yaml", link))
	}
}

func TestFileWatcherFollowsKubeletSymlinkSwaps(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k := &kubeletDir{t: t, dir: t.TempDir()}
	k.write(catalogue("1"))
	w, err := NewFileWatcher(ctx, []string{k.dir}, Options{})
	require.NoError(t, err)
	first := next(t, w.Updates(), time.Second)
	require.False(t, first.Rejected(), first.Problems.Error())
	assert.Equal(t, "1", first.Catalog.Source.Metadata.Version)
	done := make(chan struct{})
	go func() { assert.NoError(t, w.Run(ctx)); close(done) }()

	k.write(catalogue("2"))
	u := next(t, w.Updates(), 2*time.Second)
	require.False(t, u.Rejected())
	assert.Equal(t, "2", u.Catalog.Source.Metadata.Version)

	k.write(broken)
	u = next(t, w.Updates(), 2*time.Second)
	require.True(t, u.Rejected())
	assert.Contains(t, u.Problems.Error(), "catalog.yaml:9:")

	// The kubelet rewriting identical content is not a change.
	k.write(broken)
	none(t, w.Updates(), 500*time.Millisecond)

	k.write(catalogue("3"))
	u = next(t, w.Updates(), 2*time.Second)
	require.False(t, u.Rejected())
	assert.Equal(t, "3", u.Catalog.Source.Metadata.Version)
	cancel()
	<-done
}

func TestFirstLoadOfBrokenFilesIsRejected(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "catalog.yaml"), []byte(broken), 0o644))
	w, err := NewFileWatcher(context.Background(), []string{filepath.Join(dir, "catalog.yaml")}, Options{})
	require.NoError(t, err)
	first := next(t, w.Updates(), time.Second)
	require.True(t, first.Rejected())
	require.NoError(t, w.fw.Close())
	w, err = NewFileWatcher(context.Background(), []string{filepath.Join(dir, "missing.yaml")}, Options{})
	require.NoError(t, err)
	require.NoError(t, w.fw.Close())
	first = next(t, w.Updates(), time.Second)
	require.True(t, first.Rejected())
	assert.Contains(t, first.Problems.Error(), "missing.yaml")
}

func TestConfigMapWatcherAppliesEditsWithinTwoSeconds(t *testing.T) {
	env := testenv.Shared()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := env.Client()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "reload-test"}}
	_, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	require.NoError(t, err)
	cms := client.CoreV1().ConfigMaps("reload-test")
	cm, err := cms.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "statusd-catalog"},
		Data:       map[string]string{"catalog.yaml": catalogue("1"), "README.md": "not a catalogue"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	// A decoy in the same namespace must not be read.
	_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "other"}, Data: map[string]string{"catalog.yaml": broken}}, metav1.CreateOptions{})
	require.NoError(t, err)

	w := NewConfigMapWatcher(client, []ConfigMapRef{{Namespace: "reload-test", Name: "statusd-catalog"}}, Options{})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	u := next(t, w.Updates(), 10*time.Second)
	require.False(t, u.Rejected(), u.Problems.Error())
	assert.Equal(t, "1", u.Catalog.Source.Metadata.Version)
	assert.Equal(t, "configmap/reload-test/statusd-catalog", u.Origin)
	obj, ok := u.Object.(*corev1.ConfigMap)
	require.True(t, ok, "the update carries the ConfigMap it came from")
	assert.Equal(t, "statusd-catalog", obj.Name)

	tests := []struct {
		name     string
		content  string
		rejected bool
		want     string
	}{
		{name: "valid edit", content: catalogue("2"), want: "2"},
		{name: "invalid edit", content: broken, rejected: true, want: "configmap/reload-test/statusd-catalog/catalog.yaml:9:"},
		{name: "fixed again", content: catalogue("3"), want: "3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cm.Data["catalog.yaml"] = tc.content
			began := time.Now()
			cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
			require.NoError(t, err)
			u := next(t, w.Updates(), 2*time.Second)
			t.Logf("reload latency %s", time.Since(began))
			require.Equal(t, tc.rejected, u.Rejected())
			if tc.rejected {
				assert.Contains(t, u.Problems.Error(), tc.want)
				return
			}
			assert.Equal(t, tc.want, u.Catalog.Source.Metadata.Version)
		})
	}
	cancel()
	require.NoError(t, <-done)
}

// TestConfigMapWatcherSaysWhyItWaits: before its first update the watcher
// reports the API server's answer to a read of its ConfigMaps, so that the
// daemon can wait for an API server that is down and give up on access it
// lacks; once the watch has synced there is nothing pending.
func TestConfigMapWatcherSaysWhyItWaits(t *testing.T) {
	env := testenv.Shared()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "reload-pending"}}
	_, err := env.Client().CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = env.Client().CoreV1().ConfigMaps("reload-pending").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "statusd-catalog"},
		Data:       map[string]string{"catalog.yaml": catalogue("1")},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	refs := []ConfigMapRef{{Namespace: "reload-pending", Name: "statusd-catalog"}}

	// Nothing listens on a port just closed: the API server is down.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	downCfg := env.Config()
	downCfg.Host = "https://" + ln.Addr().String()
	require.NoError(t, ln.Close())

	tests := []struct {
		name   string
		config *rest.Config
		check  func(t *testing.T, err error)
	}{
		{name: "API server down", config: downCfg, check: func(t *testing.T, err error) {
			var status apierrors.APIStatus
			assert.NotErrorAs(t, err, &status, "no answer from an API server")
			require.ErrorContains(t, err, "connection refused")
			require.ErrorContains(t, err, "read catalogue configmap reload-pending/statusd-catalog")
		}},
		{name: "forbidden", config: env.ConfigFor("reload-nobody"), check: func(t *testing.T, err error) {
			assert.True(t, apierrors.IsForbidden(err), "want forbidden, got %v", err)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wctx, stop := context.WithCancel(ctx)
			defer stop()
			w := NewConfigMapWatcher(kubernetes.NewForConfigOrDie(tt.config), refs, Options{})
			done := make(chan error, 1)
			go func() { done <- w.Run(wctx) }()
			pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
			defer pcancel()
			err := w.Pending(pctx)
			require.Error(t, err)
			tt.check(t, err)
			select {
			case u := <-w.Updates():
				t.Fatalf("an update without reading the ConfigMap: %+v", u)
			case <-time.After(time.Second):
			}
			stop()
			require.NoError(t, <-done)
		})
	}

	t.Run("synced", func(t *testing.T) {
		w := NewConfigMapWatcher(env.Client(), refs, Options{})
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		u := next(t, w.Updates(), 10*time.Second)
		require.False(t, u.Rejected(), u.Problems.Error())
		require.NoError(t, w.Pending(ctx))
		cancel()
		require.NoError(t, <-done)
	})
}

// overlay returns a CatalogOverlay that overrides nothing shipped, adds
// reason name, and disables PodPending when disable is true.
func overlay(name string, disable bool) string {
	s := `apiVersion: statusd.io/v1alpha1
kind: CatalogOverlay
metadata: {name: ops, version: "1"}
reasons:
- name: ` + name + `
  subject: pods
  when: object.?status.?phase.orValue("") == "Failed"
  summary: failed
  suppressedBy: [{reason: PodPending, join: sameWorkload}]
`
	if disable {
		s = strings.Replace(s, "  suppressedBy: [{reason: PodPending, join: sameWorkload}]\n", "", 1) + "disable: [PodPending]\n"
	}
	return s
}

// TestConfigMapWatcherMergesConfigMaps: the shipped catalogue in one
// ConfigMap and an operator's overlay in another load as one catalogue; an
// edit of either reloads it, a broken overlay is refused whole, and an
// overlay ConfigMap that does not exist yet is named in the refusal until
// it is created.
func TestConfigMapWatcherMergesConfigMaps(t *testing.T) {
	env := testenv.Shared()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := env.Client()
	_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "reload-overlay"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	cms := client.CoreV1().ConfigMaps("reload-overlay")
	shipped, err := cms.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "statusd-catalog"},
		Data:       map[string]string{"catalog.yaml": catalogue("1")},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	refs := []ConfigMapRef{{Namespace: "reload-overlay", Name: "statusd-catalog"}, {Namespace: "reload-overlay", Name: "statusd-overlay"}}
	w := NewConfigMapWatcher(client, refs, Options{})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	// The overlay ConfigMap does not exist yet: the catalogue is incomplete.
	u := next(t, w.Updates(), 10*time.Second)
	require.True(t, u.Rejected())
	assert.Contains(t, u.Problems.Error(), "configmap/reload-overlay/statusd-overlay: catalogue ConfigMap reload-overlay/statusd-overlay not found")
	assert.Equal(t, "configmap/reload-overlay/statusd-catalog,configmap/reload-overlay/statusd-overlay", u.Origin)

	over, err := cms.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "statusd-overlay"},
		Data:       map[string]string{"ops.yaml": overlay("PodFailed", false)},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	u = next(t, w.Updates(), 2*time.Second)
	require.False(t, u.Rejected(), u.Problems.Error())
	assert.Equal(t, "1+ops.1", u.Catalog.Source.Metadata.Version)
	require.NotNil(t, u.Catalog.Reason("PodFailed"))
	require.NotNil(t, u.Catalog.Reason("PodPending"))
	assert.Equal(t, "configmap/reload-overlay/statusd-overlay/ops.yaml", u.Catalog.Reason("PodFailed").Pos.File, "elements keep the file they came from")
	obj, ok := u.Object.(*corev1.ConfigMap)
	require.True(t, ok)
	assert.Equal(t, "statusd-overlay", obj.Name)

	tests := []struct {
		name     string
		cm       **corev1.ConfigMap
		key      string
		content  string
		rejected string // a fragment of the problems; "" when it loads
		check    func(t *testing.T, u *Update)
	}{
		{
			name: "an overlay edit reloads", cm: &over, key: "ops.yaml", content: overlay("PodBroken", false),
			check: func(t *testing.T, u *Update) {
				assert.NotNil(t, u.Catalog.Reason("PodBroken"))
				assert.Nil(t, u.Catalog.Reason("PodFailed"))
			},
		},
		{
			name: "a broken overlay is refused whole", cm: &over, key: "ops.yaml", content: overlay("PodBroken", false) + "  when: object.status.phase +\n",
			rejected: "configmap/reload-overlay/statusd-overlay/ops.yaml:",
		},
		{
			name: "an overlay naming a shipped reason that is not there is refused", cm: &over, key: "ops.yaml",
			content: strings.Replace(overlay("PodBroken", false), "reason: PodPending", "reason: PodPendng", 1), rejected: `no cause reason "PodPendng"`,
		},
		{
			name: "an overlay disabling a shipped reason", cm: &over, key: "ops.yaml", content: overlay("PodBroken", true),
			check: func(t *testing.T, u *Update) {
				assert.Nil(t, u.Catalog.Reason("PodPending"))
				assert.NotNil(t, u.Catalog.Reason("PodBroken"))
			},
		},
		{
			name: "a shipped catalogue edit reloads with the overlay", cm: &shipped, key: "catalog.yaml", content: catalogue("2"),
			check: func(t *testing.T, u *Update) {
				assert.Equal(t, "2+ops.1", u.Catalog.Source.Metadata.Version)
				assert.NotNil(t, u.Catalog.Reason("PodBroken"))
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cm := *tc.cm
			cm.Data[tc.key] = tc.content
			began := time.Now()
			cm, err := cms.Update(ctx, cm, metav1.UpdateOptions{})
			require.NoError(t, err)
			*tc.cm = cm
			u := next(t, w.Updates(), 2*time.Second)
			t.Logf("reload latency %s", time.Since(began))
			if tc.rejected != "" {
				require.True(t, u.Rejected())
				assert.Contains(t, u.Problems.Error(), tc.rejected)
				return
			}
			require.False(t, u.Rejected(), u.Problems.Error())
			tc.check(t, u)
		})
	}
	// Deleting the overlay leaves the catalogue in force: nothing is
	// offered.
	require.NoError(t, cms.Delete(ctx, "statusd-overlay", metav1.DeleteOptions{}))
	none(t, w.Updates(), time.Second)
	cancel()
	require.NoError(t, <-done)
}

func TestParseConfigMapRef(t *testing.T) {
	tests := []struct {
		in, err string
		want    ConfigMapRef
	}{
		{in: "monitoring/statusd-catalog", want: ConfigMapRef{Namespace: "monitoring", Name: "statusd-catalog"}},
		{in: "statusd-catalog", err: `configmap "statusd-catalog": want NAMESPACE/NAME`},
		{in: "/x", err: "want NAMESPACE/NAME"},
		{in: "x/", err: "want NAMESPACE/NAME"},
		{in: "a/b/c", err: "want NAMESPACE/NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseConfigMapRef(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestTrackerRetriesWhatTheConsumerRefused checks the tracker's memory:
// content the consumer applied, or that did not compile, is not offered
// again; content the consumer could not apply is, on the next event.
func TestTrackerRetriesWhatTheConsumerRefused(t *testing.T) {
	ctx := context.Background()
	file := func(content string) []*catalog.File {
		return []*catalog.File{catalog.NewFile("catalog.yaml", []byte(content))}
	}
	tr := newTracker(Options{})
	take := func() *Update {
		t.Helper()
		select {
		case u := <-tr.out:
			return u
		default:
			return nil
		}
	}
	steps := []struct {
		name    string
		content string
		applied bool
		offered bool
	}{
		{name: "first content", content: catalogue("1"), applied: false, offered: true},
		{name: "refused content is offered again", content: catalogue("1"), applied: true, offered: true},
		{name: "applied content is not offered again", content: catalogue("1"), offered: false},
		{name: "rejected content", content: broken, offered: true},
		{name: "rejected content is not offered again", content: broken, offered: false},
		{name: "the applied content after a rejection", content: catalogue("1"), applied: true, offered: true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			tr.offer(ctx, file(st.content), nil, "test", nil)
			u := take()
			if !st.offered {
				assert.Nil(t, u)
				return
			}
			require.NotNil(t, u)
			u.Done(st.applied)
		})
	}
	t.Run("pending content is not offered twice", func(t *testing.T) {
		tr.offer(ctx, file(catalogue("2")), nil, "test", nil)
		tr.offer(ctx, file(catalogue("2")), nil, "test", nil)
		u := take()
		require.NotNil(t, u)
		assert.Nil(t, take())
		u.Done(true)
		u.Done(false) // a second call changes nothing
		tr.offer(ctx, file(catalogue("2")), nil, "test", nil)
		assert.Nil(t, take())
	})
	t.Run("the latest update replaces one not taken", func(t *testing.T) {
		tr.offer(ctx, file(catalogue("3")), nil, "test", nil)
		tr.offer(ctx, file(catalogue("4")), nil, "test", nil)
		u := take()
		require.NotNil(t, u)
		assert.Equal(t, "4", u.Catalog.Source.Metadata.Version)
		assert.Nil(t, take())
	})
}

func TestStatic(t *testing.T) {
	s := NewStatic(loader.Embedded(cel.Options{}))
	u := <-s.Updates()
	require.False(t, u.Rejected(), u.Problems.Error())
	assert.Equal(t, loader.OriginEmbedded, u.Origin)
	u.Done(true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.NoError(t, s.Run(ctx))
}
