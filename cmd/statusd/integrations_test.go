package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRunIntegrationFlags checks that every Prometheus and Alertmanager
// flag that cannot work stops statusd run at once with exit 2 and says
// why, all problems together, before it touches the cluster.
func TestRunIntegrationFlags(t *testing.T) {
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("t"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{name: "prometheus URL without scheme", args: []string{"--prometheus-url", "prometheus:9090"}, want: []string{`prometheus URL "prometheus:9090": want http(s)://host[:port][/prefix]`}},
		{name: "prometheus URL not a URL", args: []string{"--prometheus-url", "http://[::1"}, want: []string{`prometheus URL "http://[::1"`}},
		{name: "prometheus files without URL", args: []string{"--prometheus-bearer-token-file", token, "--prometheus-cert-file", "c"}, want: []string{
			"--prometheus-bearer-token-file needs --prometheus-url", "--prometheus-cert-file needs --prometheus-url",
		}},
		{name: "half a client certificate", args: []string{"--prometheus-url", "https://p:9090", "--prometheus-cert-file", "tls.crt"}, want: []string{"needs both a cert file and a key file"}},
		{name: "missing CA", args: []string{"--prometheus-url", "https://p:9090", "--prometheus-ca-file", "/nonexistent/ca.crt"}, want: []string{"prometheus CA file"}},
		{name: "tick timeout over the tick's", args: []string{"--prometheus-url", "http://p:9090", "--prometheus-tick-timeout", "2m", "--prometheus-concurrency", "0"}, want: []string{
			"--prometheus-tick-timeout 2m0s: want more than 0 and less than the tick's 1m0s", "--prometheus-concurrency 0: want at least 1",
		}},
		{name: "query timeout over the tick timeout", args: []string{"--prometheus-url", "http://p:9090", "--prometheus-tick-timeout", "5s", "--prometheus-query-timeout", "10s"}, want: []string{"query timeout 10s exceeds the tick timeout 5s"}},
		{name: "alertmanager URL without scheme", args: []string{"--alertmanager-url", "http://am-0:9093", "--alertmanager-url", "am-1:9093"}, want: []string{`alertmanager URL "am-1:9093": want http(s)`}},
		{name: "alertmanager given twice", args: []string{"--alertmanager-url", "http://am:9093", "--alertmanager-url", "http://am:9093"}, want: []string{`"http://am:9093" given twice`}},
		{name: "alertmanager token missing", args: []string{"--alertmanager-url", "http://am:9093", "--alertmanager-bearer-token-file", "/nonexistent/token"}, want: []string{"alertmanager bearer token file"}},
		{name: "alertmanager token without URL", args: []string{"--alertmanager-bearer-token-file", token}, want: []string{"--alertmanager-bearer-token-file needs --alertmanager-url"}},
		{name: "bad external URL", args: []string{"--external-url", "statusd.example"}, want: []string{`--external-url "statusd.example": want http(s)`}},
		{name: "negative resend", args: []string{"--alertmanager-url", "http://am:9093", "--alertmanager-resend-interval", "-1s"}, want: []string{"resend interval must be positive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			// No kubeconfig is reachable: flags are checked first.
			code := run(append([]string{"run", "--kubeconfig", "/nonexistent/kubeconfig", "--leader-elect=false"}, tt.args...), &out, &errOut)
			assert.Equal(t, exitUsage, code, errOut.String())
			for _, w := range tt.want {
				assert.Contains(t, errOut.String(), w)
			}
			assert.NotContains(t, errOut.String(), "kubeconfig", "nothing else was tried")
		})
	}
}
