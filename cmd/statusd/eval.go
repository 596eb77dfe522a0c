package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/engine"
	"statusd.io/statusd/pkg/report"
	"statusd.io/statusd/pkg/snapshot"
)

func init() {
	leaves = append(leaves, leaf{
		use:    "eval",
		short:  "Evaluate a catalogue against a snapshot file once and print the root causes",
		args:   noArgs,
		define: defineEval,
	}, leaf{
		use:   "explain SUBJECT",
		short: "Explain every reason on one subject of a snapshot file",
		long: "Explains every reason on one subject (Kind/namespace/name, Kind/name or UID) of a\n" +
			"snapshot file, or of a running statusd with --server.",
		args:   exactlyOne("SUBJECT (Kind/namespace/name, Kind/name or UID)"),
		define: defineExplain,
	})
}

// snapshotFlags are the flags eval and explain share.
type snapshotFlags struct {
	catalogs stringList
	snapshot string
	at       string
	output   string
	cost     cel.Options
}

func (f *snapshotFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.catalogs, "catalog", "catalogue file or directory (repeatable); the shipped catalogue when absent")
	fs.StringVar(&f.snapshot, "snapshot", "", "snapshot file (required), as written by statusd snapshot")
	fs.StringVar(&f.at, "at", "", "evaluation time, RFC 3339; the snapshot's time by default")
	fs.StringVar(&f.output, "output", "table", "output format: table, json or yaml")
	fs.Uint64Var(&f.cost.CostLimit, "cost-limit", cel.DefaultCostLimit, "per-expression CEL cost limit")
	fs.Uint64Var(&f.cost.TickBudget, "tick-budget", cel.DefaultTickBudget, "total CEL cost budget of one evaluation")
}

// load reads the catalogue and the snapshot, reporting problems to stderr.
func (f *snapshotFlags) load(stderr io.Writer) (*cel.Catalog, *snapshot.Snapshot, bool) {
	if f.snapshot == "" {
		fmt.Fprintln(stderr, "--snapshot is required")
		return nil, nil, false
	}
	if err := checkOutput(f.output); err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, false
	}
	cat, ok := loadCatalog(f.catalogs, f.cost, stderr)
	if !ok {
		return nil, nil, false
	}
	var at time.Time
	if f.at != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, f.at); err != nil {
			fmt.Fprintf(stderr, "--at %q is not RFC 3339\n", f.at)
			return nil, nil, false
		}
	}
	file, err := snapshot.ReadFile(f.snapshot)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, false
	}
	for _, n := range file.Notes {
		fmt.Fprintln(stderr, n.Head())
	}
	snap, err := snapshot.Assemble(cat.Source, file, at)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", f.snapshot, err)
		return nil, nil, false
	}
	return cat, snap, true
}

func defineEval(fs *flag.FlagSet) func(*cobra.Command, []string) int {
	var f snapshotFlags
	f.register(fs)
	return func(c *cobra.Command, _ []string) int {
		stdout, stderr := c.OutOrStdout(), c.ErrOrStderr()
		cat, snap, ok := f.load(stderr)
		if !ok {
			return 1
		}
		res := engine.New(cat, engine.Options{}).Tick(context.Background(), snap)
		if err := printAs(stdout, f.output, res, func(w io.Writer) error { return report.Table(w, res) }); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
}

func defineExplain(fs *flag.FlagSet) func(*cobra.Command, []string) int {
	var f snapshotFlags
	f.register(fs)
	server := fs.String("server", "", "explain on a running statusd instead of a snapshot: its HTTP address, such as http://localhost:8080")
	return func(c *cobra.Command, args []string) int {
		stdout, stderr := c.OutOrStdout(), c.ErrOrStderr()
		var ex *engine.Explanation
		var err error
		if *server != "" {
			if err := checkOutput(f.output); err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
			ex, err = fetchExplanation(*server, args[0])
		} else {
			cat, snap, ok := f.load(stderr)
			if !ok {
				return 1
			}
			eng := engine.New(cat, engine.Options{})
			res := eng.Tick(context.Background(), snap)
			ex, err = eng.Explain(context.Background(), snap, res, args[0])
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if err := printAs(stdout, f.output, ex, func(w io.Writer) error { return report.Explain(w, ex) }); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
}

// checkOutput refuses an output format other than table, json or yaml.
func checkOutput(format string) error {
	switch format {
	case "table", "json", "yaml":
		return nil
	}
	return fmt.Errorf("-o %q: want table, json or yaml", format)
}

// printAs writes v as JSON or YAML, or with table for people.
func printAs(w io.Writer, format string, v any, table func(io.Writer) error) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("render yaml: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	return fitTable(w, terminalWidth(w), table)
}

// fetchExplanation asks a running statusd (its /explain endpoint) about
// subject.
func fetchExplanation(server, subject string) (*engine.Explanation, error) {
	u := strings.TrimRight(server, "/") + "/explain?subject=" + url.QueryEscape(subject)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(u)
	if err != nil {
		return nil, fmt.Errorf("explain on %s: %w", server, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("explain on %s: %w", server, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("explain on %s: %s: %s", server, resp.Status, strings.TrimSpace(string(body)))
	}
	var ex engine.Explanation
	if err := json.Unmarshal(body, &ex); err != nil {
		return nil, fmt.Errorf("explain on %s: decode answer: %w", server, err)
	}
	return &ex, nil
}
