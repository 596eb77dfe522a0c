package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// BinDirEnv names the environment variable that overrides where the
// control-plane binaries are looked up, for CI caches kept outside the
// checkout.
const BinDirEnv = "STATUSD_TESTENV_BIN"

// rootModule is the module path whose go.mod marks the repository root; the
// tools module under tools/controlplane has a go.mod too and must not match.
const rootModule = "statusd.io/statusd"

// stagesFile is the kwok stage configuration that build.sh copies next to the
// binaries, so that a bin directory is complete on its own.
const stagesFile = "kwok-stages.yaml"

// binaries lists every file Start needs in the bin directory.
var binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", stagesFile}

// ErrBinariesMissing reports that `make testenv` has not been run (or its
// output was removed); the message says how to fix it.
var ErrBinariesMissing = errors.New("control-plane binaries missing (run make testenv)")

// findBinDir returns the directory holding the binaries: dir if set, else
// $STATUSD_TESTENV_BIN, else <repo root>/bin/testenv.
func findBinDir(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv(BinDirEnv)
	}
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", fmt.Errorf("locate bin/testenv (or set %s): %w", BinDirEnv, err)
		}
		dir = filepath.Join(root, "bin", "testenv")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolve bin directory: %w", err)
	}
	var missing []string
	for _, b := range binaries {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("%w: %s not found in %s", ErrBinariesMissing, strings.Join(missing, ", "), dir)
	}
	return dir, nil
}

// RepoRoot walks up from the working directory (a test runs in its package
// directory), then from this source file, to the go.mod of statusd.io/statusd,
// where the built test binaries live under bin/.
func RepoRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for {
			if isRootModule(filepath.Join(dir, "go.mod")) {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("no go.mod of module %s above %v", rootModule, starts)
}

// isRootModule reports whether path is a go.mod declaring rootModule.
func isRootModule(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`) == rootModule
		}
	}
	return false
}
