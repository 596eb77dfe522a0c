package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
)

// version and commit are set at build time with
// -ldflags "-X main.version=... -X main.commit=..."; a plain go build
// falls back to what the Go toolchain recorded (module version, VCS
// revision).
var (
	version = ""
	commit  = ""
)

// versionInfo is what statusd version prints.
type versionInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	GoVersion      string `json:"goVersion"`
	Platform       string `json:"platform"`
	Catalog        string `json:"catalog"`
	CatalogVersion string `json:"catalogVersion"`
}

func init() {
	leaves = append(leaves, leaf{
		use:    "version",
		short:  "Print statusd's version, commit, Go version and the embedded catalogue's version",
		args:   noArgs,
		define: defineVersion,
	})
}

func defineVersion(fs *flag.FlagSet) func(*cobra.Command, []string) int {
	output := fs.String("output", "table", "output format: table, json or yaml")
	return func(c *cobra.Command, _ []string) int {
		if err := checkOutput(*output); err != nil {
			fmt.Fprintln(c.ErrOrStderr(), err)
			return exitUsage
		}
		v := buildVersion()
		if err := printAs(c.OutOrStdout(), *output, v, v.table); err != nil {
			fmt.Fprintln(c.ErrOrStderr(), err)
			return 1
		}
		return 0
	}
}

// buildVersion gathers the version of this binary.
func buildVersion() versionInfo {
	v := versionInfo{Version: version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v.Version == "" && bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && v.Commit == "" {
				v.Commit = s.Value
			}
		}
	}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	if v.Commit == "" {
		v.Commit = "unknown"
	}
	if res := loader.Embedded(cel.Options{}); res.Source != nil {
		v.Catalog, v.CatalogVersion = res.Source.Metadata.Name, res.Source.Metadata.Version
	}
	return v
}

func (v versionInfo) table(w io.Writer) error {
	_, err := fmt.Fprintf(w, "Version:          %s\nCommit:           %s\nGo version:       %s\nPlatform:         %s\nEmbedded catalog: %s %s\n",
		v.Version, v.Commit, v.GoVersion, v.Platform, v.Catalog, v.CatalogVersion)
	return err
}
