package main

import (
	"flag"
	"fmt"
	"io"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/rbac"
	"statusd.io/statusd/rules"
)

func init() {
	commands["rbac"] = command{summary: "Print the least-privilege ClusterRole and Role a catalogue needs", run: rbacCmd}
}

func rbacCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("statusd rbac", flag.ContinueOnError)
	addInputCaps(fs)
	fs.SetOutput(stderr)
	var catalogs stringList
	fs.Var(&catalogs, "catalog", "catalogue file or directory (repeatable); the shipped catalogue when absent")
	name := fs.String("name", rbac.DefaultName, "name of the ClusterRole and Role")
	namespace := fs.String("namespace", rbac.DefaultNamespace, "namespace statusd runs in: the Role's, the Lease's and the catalogue ConfigMap's")
	lease := fs.String("lease", rbac.DefaultName, "name of the leader-election Lease")
	configMap := fs.String("catalog-configmap", "", "name of the catalogue ConfigMap; <name>"+rbac.CatalogSuffix+" by default, and an explicit empty value grants no ConfigMap (catalogue read from files)")
	output := fs.String("o", "yaml", "output: yaml (ClusterRole and Role) or rules (only the ClusterRole's rules, for the Helm chart's rbac.rules)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: statusd rbac [flags]")
		fmt.Fprintln(stderr, "Prints the RBAC statusd needs to watch a catalogue's sources, publish Events, hold its Lease and read its catalogue ConfigMap. Secrets are never granted.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	cmSet := false
	fs.Visit(func(f *flag.Flag) { cmSet = cmSet || f.Name == "catalog-configmap" })
	if !cmSet {
		*configMap = *name + rbac.CatalogSuffix
	}
	if *output != "yaml" && *output != "rules" {
		fmt.Fprintf(stderr, "-o %q: want yaml or rules\n", *output)
		return 2
	}

	// Only the format matters for RBAC: a catalogue whose CEL does not
	// compile still watches the same sources, and lint reports the rest.
	var src *catalog.Catalog
	var errs catalog.ErrorList
	if len(catalogs) == 0 {
		src, errs = catalog.LoadFS(rules.FS, rules.Files()...)
	} else {
		src, errs = catalog.Load(catalogs...)
	}
	if errs.Err() != nil {
		fmt.Fprintln(stderr, errs.Errors().Error())
		return 1
	}
	var out []byte
	var err error
	if *output == "rules" {
		out, err = rbac.RulesYAML(src)
	} else {
		out, err = rbac.Manifest(src, rbac.Options{
			Name:      *name,
			Namespace: *namespace,
			Lease:     *lease,
			ConfigMap: *configMap,
			Labels:    map[string]string{"app.kubernetes.io/name": "statusd"},
		})
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
