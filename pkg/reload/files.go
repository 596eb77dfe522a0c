package reload

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"statusd.io/statusd/pkg/catalog"
)

// settle is how long a burst of file events must be quiet before a reload:
// the kubelet's symlink swap and an editor's save both arrive as several
// events.
const settle = 100 * time.Millisecond

// FileWatcher reloads a catalogue from files or directories, such as a
// ConfigMap mounted as a volume.
type FileWatcher struct {
	paths []string
	t     *tracker
	fw    *fsnotify.Watcher
}

// NewFileWatcher starts watching the directories of paths, then loads
// paths and queues the first update (which may be rejected: then the
// consumer has no catalogue and should refuse to start). Watching before
// loading means no edit can fall between the two. Run delivers later
// changes; the error is for a watch that cannot be set up.
func NewFileWatcher(ctx context.Context, paths []string, opts Options) (*FileWatcher, error) {
	w := &FileWatcher{paths: paths, t: newTracker(opts)}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch catalogue files: %w", err)
	}
	for _, d := range w.dirs() {
		if err := fw.Add(d); err != nil {
			_ = fw.Close()
			return nil, fmt.Errorf("watch catalogue directory %s: %w", d, err)
		}
	}
	w.fw = fw
	w.reload(ctx)
	return w, nil
}

// Updates delivers the outcome of each change, the latest first.
func (w *FileWatcher) Updates() <-chan *Update { return w.t.out }

// origin describes the watched paths.
func (w *FileWatcher) origin() string { return strings.Join(w.paths, ",") }

func (w *FileWatcher) reload(ctx context.Context) {
	files, errs := catalog.ReadFiles(w.paths...)
	if len(errs) > 0 {
		w.t.log.Warn("Catalogue unreadable; keeping the previous one", "origin", w.origin(), "err", errs.Error())
	}
	w.t.offer(ctx, files, errs, w.origin(), nil)
}

// dirs are the directories to watch: a file's parent (editors and the
// kubelet replace files rather than write them in place) or the directory
// itself.
func (w *FileWatcher) dirs() []string {
	var out []string
	for _, p := range w.paths {
		d := p
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			d = filepath.Dir(p)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// Run delivers changes until ctx ends, then releases the watch.
func (w *FileWatcher) Run(ctx context.Context) error {
	fw := w.fw
	defer func() { _ = fw.Close() }()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-fw.Events:
			if !ok {
				return nil
			}
			timer.Reset(settle)
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			w.t.log.Warn("Catalogue watch error", "err", err)
		case <-timer.C:
			w.reload(ctx)
		}
	}
}
