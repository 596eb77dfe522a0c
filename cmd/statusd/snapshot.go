package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/promquery"
	"statusd.io/statusd/pkg/snapshot"
	"statusd.io/statusd/pkg/sources"
)

func init() {
	leaves = append(leaves, leaf{
		use:   "snapshot [FILE]",
		short: "Capture a live cluster's catalogue sources (and one scrape of each metrics target) into a snapshot file",
		long: "Writes the objects of every catalogue source (never Secrets), the sources that could not be\n" +
			"read, the cluster's version and resources, with --scrape one scrape of every metrics target\n" +
			"and, with --prometheus-url, the result of every Prometheus query source at the snapshot's\n" +
			"time, as a snapshot file that statusd eval, explain and test rules read. The file is\n" +
			"FILE or --output-file; stdout when neither is given.",
		args:   cobra.MaximumNArgs(1),
		define: defineSnapshot,
	})
}

// snapshotOptions are the flags of statusd snapshot.
type snapshotOptions struct {
	kubeconfig string
	context    string
	catalogs   stringList
	file       string
	output     string
	scrape     bool
	timeout    time.Duration
	prometheus promFlags
}

func defineSnapshot(fs *flag.FlagSet) func(*cobra.Command, []string) int {
	var o snapshotOptions
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file; by default KUBECONFIG (a list), ~/.kube/config, else in-cluster")
	fs.StringVar(&o.context, "context", "", "kubeconfig context to use; the current context by default")
	fs.Var(&o.catalogs, "catalog", "catalogue file or directory (repeatable); the shipped catalogue when absent")
	fs.StringVar(&o.file, "output-file", "-", "file to write the snapshot to; - for stdout (or give FILE)")
	fs.StringVar(&o.output, "output", "yaml", "format of the snapshot file: yaml or json")
	fs.BoolVar(&o.scrape, "scrape", false, "also scrape every metrics target once")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "how long to wait for the watch caches to fill")
	o.prometheus.register(fs)
	return func(c *cobra.Command, args []string) int {
		if len(args) == 1 {
			if c.Flags().Changed("output-file") {
				fmt.Fprintln(c.ErrOrStderr(), "statusd snapshot: give the file as FILE or --output-file, not both")
				return exitUsage
			}
			o.file = args[0]
		}
		return snapshotCmd(o, c.OutOrStdout(), c.ErrOrStderr())
	}
}

func snapshotCmd(o snapshotOptions, stdout, stderr io.Writer) int {
	if o.output != "yaml" && o.output != "json" {
		fmt.Fprintf(stderr, "statusd snapshot: -o %q: want yaml or json\n", o.output)
		return exitUsage
	}
	queries, err := o.prometheus.runner(nil, nil)
	if err != nil {
		fmt.Fprintf(stderr, "statusd snapshot: %v\n", err)
		return exitUsage
	}
	cat, ok := loadCatalog(o.catalogs, cel.Options{}, stderr)
	if !ok {
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	file, err := takeSnapshot(ctx, cat, o, queries, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "statusd snapshot: %v\n", err)
		return 1
	}
	data, err := yaml.Marshal(file)
	if err == nil && o.output == "json" {
		data, err = yaml.YAMLToJSON(data)
	}
	if err != nil {
		fmt.Fprintf(stderr, "statusd snapshot: render: %v\n", err)
		return 1
	}
	if err := writeOutput(o.file, data, stdout); err != nil {
		fmt.Fprintf(stderr, "statusd snapshot: %v\n", err)
		return 1
	}
	for _, name := range slices.Sorted(maps.Keys(file.Sources)) {
		st := file.Sources[name]
		fmt.Fprintf(stderr, "warning: source %s is %s: %s\n", name, st.Status, st.Error)
	}
	for _, q := range file.Queries {
		if q.Error != "" {
			fmt.Fprintf(stderr, "warning: query source %s failed: %s\n", q.Source, q.Error)
		}
	}
	if o.file != "-" {
		fmt.Fprintf(stderr, "Wrote %s: %d objects, %d scrapes, %d query results, cluster %s\n", o.file, len(file.Objects), len(file.Metrics), len(file.Queries), file.Cluster.Version)
	}
	return 0
}

// takeSnapshot runs sources until their caches are filled, scrapes once if
// asked, runs the query sources when queries is set, and returns the file.
func takeSnapshot(ctx context.Context, cat *cel.Catalog, o snapshotOptions, queries *promquery.Runner, stderr io.Writer) (*snapshot.File, error) {
	log, err := newLogger(stderr, "text", "warn")
	if err != nil {
		return nil, err
	}
	cfg, err := restConfig(o.kubeconfig, o.context)
	if err != nil {
		return nil, err
	}
	src, err := sources.New(cfg, sources.Options{Logger: log, ManualScrape: true, KeepPages: true})
	if err != nil {
		return nil, err
	}
	// Whole objects: a snapshot file is for debugging with any catalogue,
	// not only with the one whose fields it was taken for.
	if err := src.Apply(cat.Source, nil); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil { // only ErrRunning, impossible here
			fmt.Fprintf(stderr, "statusd snapshot: %v\n", err)
		}
	}()

	wctx, wcancel := context.WithTimeout(ctx, o.timeout)
	defer wcancel()
	if err := src.WaitForSync(wctx); err != nil {
		return nil, err
	}
	if src.Cluster().Version == "" {
		// Discovery never answered: there is no cluster to snapshot.
		states := src.Status()
		for _, name := range slices.Sorted(maps.Keys(states)) {
			if msg := states[name].Error; msg != "" {
				return nil, fmt.Errorf("cluster not reachable: %s", msg)
			}
		}
		return nil, errors.New("cluster not reachable: discovery did not answer")
	}
	if o.scrape {
		if err := src.ScrapeAll(ctx); err != nil {
			return nil, err
		}
	}
	file := src.File(time.Now())
	if queries != nil {
		// At the file's own time (whole seconds), which eval and explain
		// take as now, so that they reproduce what the daemon decided.
		at, err := time.Parse(time.RFC3339, file.Time)
		if err != nil {
			return nil, fmt.Errorf("snapshot time: %w", err)
		}
		for _, r := range queries.Run(ctx, at, cat.Source) {
			file.Queries = append(file.Queries, r.Record())
		}
	}
	return file, nil
}

// writeOutput writes data to path (atomically, through a temporary file in
// the same directory) or to stdout for "-".
func writeOutput(path string, data []byte, stdout io.Writer) error {
	if path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
