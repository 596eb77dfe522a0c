package ruletest

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"statusd.io/statusd/pkg/catalog"
)

// Collect expands paths into rule-test files: files as given, directories
// walked recursively for *.yaml files of kind RuleTest.
func Collect(paths ...string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("rule tests: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !catalog.IsYAML(path) {
				return nil
			}
			f, err := readCapped(path)
			if err != nil {
				return err
			}
			if catalog.KindOf(f) == Kind {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("rule tests: %w", err)
		}
	}
	slices.Sort(out)
	return out, nil
}

// RunAll reads and runs every file, writing a line per case (and the diff
// of a failure) to w. A file that cannot be read or whose catalogue does not
// compile counts as one failed case, so a broken file never passes.
func (r *Runner) RunAll(ctx context.Context, files []string, w io.Writer) *Report {
	rep := &Report{}
	for _, name := range files {
		f, err := ReadFile(name)
		var results []*CaseResult
		if err == nil {
			results, err = r.RunFile(ctx, f)
		}
		if err != nil {
			results = []*CaseResult{{File: name, Name: "(file)", Failures: []string{err.Error()}}}
		}
		for _, c := range results {
			if c.Passed() {
				fmt.Fprintf(w, "PASS  %s: %s\n", c.File, c.Name)
				continue
			}
			fmt.Fprintf(w, "FAIL  %s: %s\n", c.File, c.Name)
			for _, msg := range c.Failures {
				fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(msg, "\n", "\n  "))
			}
		}
		rep.Cases = append(rep.Cases, results...)
	}
	return rep
}

// WriteSummary prints the closing line ("N passed, N failed") and, per
// catalogue, the coverage: every gap when verbose, else one line with
// their number.
func (r *Runner) WriteSummary(w io.Writer, rep *Report, verbose bool) (gaps int) {
	for _, cov := range r.Coverages() {
		g := cov.Gaps()
		gaps += len(g)
		switch {
		case len(g) == 0:
			fmt.Fprintf(w, "coverage: %s: every reason and suppression edge is exercised\n", cov.Catalog)
		case verbose:
			fmt.Fprintf(w, "coverage: %s: %d gaps\n", cov.Catalog, len(g))
			for _, line := range g {
				fmt.Fprintf(w, "  %s\n", line)
			}
		default:
			fmt.Fprintf(w, "coverage: %s: %d gaps (list them with -v or --require-coverage)\n", cov.Catalog, len(g))
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", len(rep.Cases)-rep.Failed(), rep.Failed())
	return gaps
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML, one suite per file.
func WriteJUnit(w io.Writer, rep *Report) error {
	var out junitSuites
	idx := map[string]int{}
	for _, c := range rep.Cases {
		i, ok := idx[c.File]
		if !ok {
			i = len(out.Suites)
			idx[c.File] = i
			out.Suites = append(out.Suites, junitSuite{Name: c.File})
		}
		s := &out.Suites[i]
		jc := junitCase{Name: c.Name, Classname: c.File, Time: fmt.Sprintf("%.3f", c.Duration.Seconds())}
		if !c.Passed() {
			s.Failures++
			jc.Failure = &junitFailure{Message: firstLine(c.Failures[0]), Text: strings.Join(c.Failures, "\n")}
		}
		s.Tests++
		s.Cases = append(s.Cases, jc)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	return nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
