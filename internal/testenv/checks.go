package testenv

import (
	"context"
	"fmt"
	"strings"
)

// ListRequests sums the apiserver's apiserver_request_total for LIST
// requests of resource, in scope ("namespace", "cluster") or any scope when
// scope is empty, so that a test can show an informer stops listing once it
// has synced. The count covers every client of the control plane.
func (e *Env) ListRequests(ctx context.Context, resource, scope string) (float64, error) {
	page, err := e.APIServerMetrics(ctx)
	if err != nil {
		return 0, err
	}
	var sum float64
	for line := range strings.SplitSeq(page, "\n") {
		if !strings.HasPrefix(line, "apiserver_request_total{") || !strings.Contains(line, `verb="LIST"`) ||
			!strings.Contains(line, `resource="`+resource+`"`) || (scope != "" && !strings.Contains(line, `scope="`+scope+`"`)) {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); err != nil {
			return 0, fmt.Errorf("parse %q: %w", line, err)
		}
		sum += v
	}
	return sum, nil
}
