package reload

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"statusd.io/statusd/internal/testenv"
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

// recorder collects updates for assertions.
type recorder struct {
	mu      sync.Mutex
	updates []*Update
	seen    chan struct{}
}

func newRecorder() *recorder { return &recorder{seen: make(chan struct{}, 100)} }

func (r *recorder) handle(u *Update) {
	r.mu.Lock()
	r.updates = append(r.updates, u)
	r.mu.Unlock()
	r.seen <- struct{}{}
}

// next waits for the next update, at most d.
func (r *recorder) next(t *testing.T, d time.Duration) *Update {
	t.Helper()
	select {
	case <-r.seen:
	case <-time.After(d):
		t.Fatalf("no reload within %s", d)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.updates[len(r.updates)-1]
}

func (r *recorder) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-r.seen:
		t.Fatalf("unexpected reload: %+v", r.updates[len(r.updates)-1])
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
	rec := newRecorder()
	w, first, err := NewFileWatcher(ctx, []string{k.dir}, Options{}, rec.handle)
	require.NoError(t, err)
	require.False(t, first.Rejected(), first.Problems.Error())
	assert.Equal(t, "1", first.Catalog.Source.Metadata.Version)
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()

	k.write(catalogue("2"))
	u := rec.next(t, 2*time.Second)
	require.False(t, u.Rejected())
	assert.Equal(t, "2", u.Catalog.Source.Metadata.Version)

	k.write(broken)
	u = rec.next(t, 2*time.Second)
	require.True(t, u.Rejected())
	assert.Contains(t, u.Problems.Error(), "catalog.yaml:9:")

	// The kubelet rewriting identical content is not a change.
	k.write(broken)
	rec.none(t, 500*time.Millisecond)

	k.write(catalogue("3"))
	u = rec.next(t, 2*time.Second)
	require.False(t, u.Rejected())
	assert.Equal(t, "3", u.Catalog.Source.Metadata.Version)
	cancel()
	<-done
}

func TestFirstLoadOfBrokenFilesIsRejected(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "catalog.yaml"), []byte(broken), 0o644))
	w, first, err := NewFileWatcher(context.Background(), []string{filepath.Join(dir, "catalog.yaml")}, Options{}, func(*Update) {})
	require.NoError(t, err)
	require.True(t, first.Rejected())
	require.NoError(t, w.fw.Close())
	w, first, err = NewFileWatcher(context.Background(), []string{filepath.Join(dir, "missing.yaml")}, Options{}, func(*Update) {})
	require.NoError(t, err)
	require.NoError(t, w.fw.Close())
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

	rec := newRecorder()
	w := NewConfigMapWatcher(client, "reload-test", "statusd-catalog", Options{}, rec.handle)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	u := rec.next(t, 10*time.Second)
	require.False(t, u.Rejected(), u.Problems.Error())
	assert.Equal(t, "1", u.Catalog.Source.Metadata.Version)
	assert.Equal(t, "configmap/reload-test/statusd-catalog", u.Origin)

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
			u := rec.next(t, 2*time.Second)
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
