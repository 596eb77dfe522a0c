package chart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// HelmEnv names an environment variable holding the helm binary to use
// instead of <repo>/bin/helm.
const HelmEnv = "STATUSD_HELM"

// ErrNoHelm is returned by Helm when no helm binary is found. Tests fail on
// it rather than skip: a skipped chart test would pass while testing
// nothing.
var ErrNoHelm = errors.New("no helm binary: run make helm-lint, which installs helm into bin/ (or set " + HelmEnv + ")")

// Helm returns the helm binary: $STATUSD_HELM, else bin/helm in the
// repository, which make helm-lint installs at the version it pins.
func Helm() (string, error) {
	path := os.Getenv(HelmEnv)
	if path == "" {
		path = filepath.Join(RepoRoot(), "bin", "helm")
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%w (looked for %s)", ErrNoHelm, path)
		}
		return "", fmt.Errorf("helm binary %s: %w", path, err)
	}
	return path, nil
}

// RenderOptions choose what helm template renders.
type RenderOptions struct {
	// Release is the release name; "statusd" by default.
	Release string
	// Namespace is the release namespace; "statusd" by default.
	Namespace string
	// Set are --set assignments (key=value).
	Set []string
	// Values is YAML written to a temporary file and passed with -f.
	Values string
	// KubeVersion is the Kubernetes version helm renders for;
	// DefaultKubeVersion by default.
	KubeVersion string
}

// DefaultKubeVersion is the Kubernetes version charts render for when none
// is given: the local control plane's. A helm built with go install (as
// make helm-lint builds it) lacks the link-time version its releases carry
// and would assume 1.20, which the chart's kubeVersion refuses.
const DefaultKubeVersion = "1.36.0"

// Render runs helm template on the chart in dir and returns its output.
// helm validates the values against values.schema.json first, so a bad
// value is an error here.
func Render(ctx context.Context, helm, dir string, opts RenderOptions) ([]byte, error) {
	if opts.Release == "" {
		opts.Release = "statusd"
	}
	if opts.Namespace == "" {
		opts.Namespace = "statusd"
	}
	if opts.KubeVersion == "" {
		opts.KubeVersion = DefaultKubeVersion
	}
	args := []string{"template", opts.Release, dir, "--namespace", opts.Namespace, "--kube-version", opts.KubeVersion}
	for _, s := range opts.Set {
		args = append(args, "--set", s)
	}
	if opts.Values != "" {
		f, err := os.CreateTemp("", "statusd-values-*.yaml")
		if err != nil {
			return nil, fmt.Errorf("render chart: %w", err)
		}
		defer func() { _ = os.Remove(f.Name()) }()
		if _, err := f.WriteString(opts.Values); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("render chart: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("render chart: %w", err)
		}
		args = append(args, "-f", f.Name())
	}
	cmd := exec.CommandContext(ctx, helm, args...)
	// helm keeps caches and plugins under $HOME; point them at a scratch
	// directory so a test run touches nothing of the user's.
	tmp, err := os.MkdirTemp("", "statusd-helm-*")
	if err != nil {
		return nil, fmt.Errorf("render chart: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(tmp, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(tmp, "config"),
		"HELM_DATA_HOME="+filepath.Join(tmp, "data"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// Decode splits a rendered stream into objects, skipping empty documents.
func Decode(manifest []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifest), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("decode rendered chart: %w", err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}
