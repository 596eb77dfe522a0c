package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"statusd.io/statusd/pkg/cel"
	"statusd.io/statusd/pkg/loader"
	"statusd.io/statusd/pkg/rbac"
)

func init() {
	leaves = append(leaves, leaf{
		use:   "rbac",
		short: "Print the least-privilege ClusterRole and Role a catalogue needs",
		long: "Prints the RBAC statusd needs to watch a catalogue's sources, publish Events, hold its\n" +
			"Lease and read its catalogue ConfigMap. Secrets are never granted.",
		args:   noArgs,
		define: defineRBAC,
	})
}

func defineRBAC(fs *flag.FlagSet) func(*cobra.Command, []string) int {
	var catalogs stringList
	fs.Var(&catalogs, "catalog", "catalogue file or directory (repeatable); the shipped catalogue when absent")
	name := fs.String("name", rbac.DefaultName, "name of the ClusterRole and Role")
	namespace := fs.String("namespace", rbac.DefaultNamespace, "namespace statusd runs in: the Role's, the Lease's and the catalogue ConfigMap's")
	lease := fs.String("lease", rbac.DefaultName, "name of the leader-election Lease")
	var configMaps stringList
	fs.Var(&configMaps, "catalog-configmap", "name of a catalogue ConfigMap (repeatable: the shipped catalogue's and an overlay's); <name>"+rbac.CatalogSuffix+" by default, and an explicit empty value grants no ConfigMap (catalogue read from files)")
	output := fs.String("output", "yaml", "output: yaml or json (ClusterRole and Role), or rules (only the ClusterRole's rules, as YAML, for the Helm chart's rbac.rules)")
	return func(c *cobra.Command, _ []string) int {
		if !c.Flags().Changed("catalog-configmap") {
			configMaps = stringList{*name + rbac.CatalogSuffix}
		}
		return rbacCmd(catalogs, *name, *namespace, *lease, configMaps, *output, c.OutOrStdout(), c.ErrOrStderr())
	}
}

func rbacCmd(catalogs []string, name, namespace, lease string, configMaps []string, output string, stdout, stderr io.Writer) int {
	if output != "yaml" && output != "json" && output != "rules" {
		fmt.Fprintf(stderr, "-o %q: want yaml, json or rules\n", output)
		return exitUsage
	}

	// Only the format matters for RBAC: a catalogue whose CEL does not
	// compile still watches the same sources, and lint reports the rest.
	res := loader.Paths(catalogs, cel.Options{})
	if !res.Decoded {
		fmt.Fprintln(stderr, res.Problems.Errors().Error())
		return 1
	}
	src := res.Source
	var out []byte
	var err error
	if output == "rules" {
		out, err = rbac.RulesYAML(src)
	} else {
		out, err = rbac.Manifest(src, rbac.Options{
			Name:       name,
			Namespace:  namespace,
			Lease:      lease,
			ConfigMaps: configMaps,
			Labels:     map[string]string{"app.kubernetes.io/name": "statusd"},
		})
	}
	if err == nil && output == "json" {
		out, err = listJSON(out)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// listJSON turns a YAML stream of objects into a JSON v1 List, as kubectl
// prints several objects with -o json.
func listJSON(stream []byte) ([]byte, error) {
	var items []json.RawMessage
	for _, doc := range strings.Split("\n"+string(stream), "\n---\n") {
		if strings.TrimSpace(doc) == "" || strings.HasPrefix(strings.TrimSpace(doc), "#") && !strings.Contains(doc, ":") {
			continue
		}
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			return nil, fmt.Errorf("render json: %w", err)
		}
		if string(j) != "null" {
			items = append(items, j)
		}
	}
	out, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render json: %w", err)
	}
	return append(out, '\n'), nil
}
