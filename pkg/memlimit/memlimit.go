// Package memlimit chooses the soft memory limit of statusd's Go heap:
// GOMEMLIMIT, --memory-limit, or a share of the container's cgroup limit.
package memlimit

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Go's garbage collector lets the heap grow to twice what is live before it
// collects (GOGC=100), so a daemon whose caches hold 150 MiB sits near
// 300 MiB, and under a container limit that doubling is what gets it
// OOM-killed. A soft memory limit (runtime/debug.SetMemoryLimit) makes the
// collector work harder only as the heap nears the limit. Choose
// chooses it: GOMEMLIMIT when the operator set it (the runtime applies that
// itself), else --memory-limit, else a share of the container's cgroup
// limit, as automemlimit does.

// cgroupShare is the part of the cgroup limit given to the Go heap: the
// rest is for memory the Go runtime does not count (thread stacks, the
// binary, page cache charged to the container).
const cgroupShare = 0.9

// cgroupMemoryMax is the cgroup v2 limit file of the process's own cgroup
// inside a container.
const cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// Choose returns the soft memory limit to set in bytes, with where it
// came from, or 0 when none should be set. flag is --memory-limit ("" for
// none, "0" to disable), env looks up environment variables and readFile
// reads the cgroup file.
func Choose(flag string, env func(string) (string, bool), readFile func(string) ([]byte, error)) (int64, string, error) {
	if v, ok := env("GOMEMLIMIT"); ok && v != "" {
		return 0, "GOMEMLIMIT, applied by the Go runtime", nil
	}
	if flag != "" {
		q, err := resource.ParseQuantity(flag)
		if err != nil {
			return 0, "", fmt.Errorf("--memory-limit %q: %w", flag, err)
		}
		n := q.Value()
		if n < 0 {
			return 0, "", fmt.Errorf("--memory-limit %q: must not be negative", flag)
		}
		return n, "--memory-limit", nil
	}
	data, err := readFile(cgroupMemoryMax)
	if err != nil {
		return 0, "no container memory limit", nil
	}
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return 0, "no container memory limit", nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, "", fmt.Errorf("%s holds %q, not a number of bytes", cgroupMemoryMax, s)
	}
	return int64(math.Floor(float64(n) * cgroupShare)), fmt.Sprintf("%.0f%% of the container's memory limit", 100*cgroupShare), nil
}

// FromEnvironment is Choose with the process's environment
// and files.
func FromEnvironment(flag string) (int64, string, error) {
	return Choose(flag, os.LookupEnv, os.ReadFile)
}
