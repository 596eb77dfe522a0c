package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"statusd.io/statusd/pkg/catalog"
	"statusd.io/statusd/pkg/ruletest"
	"statusd.io/statusd/pkg/snapshot"
)

// TestHostileInputFiles runs each command on inputs that must be refused
// promptly with an error naming the problem, never quoting a file that is
// not the command's to read.
func TestHostileInputFiles(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "catalog")
	require.NoError(t, os.Mkdir(dir, 0o700))
	secret := "root:x:0:0:TOPSECRET:/root:/bin/bash\n"
	require.NoError(t, os.WriteFile(filepath.Join(base, "passwd"), []byte(secret), 0o600))
	require.NoError(t, syscall.Mkfifo(filepath.Join(base, "fifo"), 0o600))
	header := "apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: h, version: \"1\"}\n"
	body := "sources:\n  pods: {version: v1, resource: pods}\nreasons:\n- {name: A, subject: pods, when: \"true\", summary: x}\n"
	write := func(name, includes string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(header+includes+body), 0o600))
		return p
	}
	escape := write("escape.yaml", "includes: [../passwd]\n")
	abs := write("abs.yaml", "includes: [/etc/passwd]\n")
	zero := write("zero.yaml", "includes: [../../../../../../../../dev/zero]\n")
	link := filepath.Join(dir, "link.yaml")
	require.NoError(t, os.Symlink(filepath.Join(base, "passwd"), link))
	viaLink := write("vialink.yaml", "includes: [link.yaml]\n")
	fifoLink := filepath.Join(dir, "fifo.yaml")
	require.NoError(t, os.Symlink(filepath.Join(base, "fifo"), fifoLink))
	viaFifo := write("viafifo.yaml", "includes: [fifo.yaml]\n")
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "part.yaml"), []byte(header), 0o600))
	dotInside := write("dotinside.yaml", "includes: [sub/../sub/part.yaml]\n")
	relPasswd := write("relpasswd.yaml", "includes: [../../../../../../../../etc/passwd]\n")
	environ := write("environ.yaml", "includes: [../../../../../../../../proc/self/environ]\n")
	// A catalogue one byte over the default cap (a ConfigMap's 1 MiB), and
	// a rule test one byte over its default (16 MiB): padding in a comment.
	pad := func(name string, size int, content string) string {
		p := filepath.Join(base, name)
		require.NoError(t, os.WriteFile(p, []byte(content+"#"+strings.Repeat("x", size-len(content)-2)+"\n"), 0o600))
		return p
	}
	bigCatalog := pad("big-catalog.yaml", catalog.DefaultMaxBytes+1, header+body)
	bigTest := pad("big-test.yaml", ruletest.DefaultMaxBytes+1, "apiVersion: statusd.io/v1alpha1\nkind: RuleTest\n")
	write("good.yaml", "") // what the rule tests below run against
	testWith := func(name, objectFile string) string {
		p := filepath.Join(base, name)
		require.NoError(t, os.WriteFile(p, []byte("apiVersion: statusd.io/v1alpha1\nkind: RuleTest\ncatalogs: [catalog/good.yaml]\n"+
			"cases:\n- name: c\n  steps:\n  - at: 0m\n    objectFiles: ["+objectFile+"]\n"), 0o600))
		return p
	}
	objPasswd := testWith("objpasswd.test.yaml", "/etc/passwd")
	objRelPasswd := testWith("objrelpasswd.test.yaml", "../../../../../../../../etc/passwd")
	objEnviron := testWith("objenviron.test.yaml", "/proc/self/environ")
	objZero := testWith("objzero.test.yaml", "/dev/zero")
	objFifo := testWith("objfifo.test.yaml", "fifo")

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{name: "lint: include escaping with ..", args: []string{"lint", "rules", escape}, want: []string{`include "../passwd" uses ".."`}},
		{name: "lint: absolute include", args: []string{"lint", "rules", abs}, want: []string{`include "/etc/passwd" is absolute`}},
		{name: "lint: /dev/zero include", args: []string{"lint", "rules", zero}, want: []string{`uses ".."`}},
		{name: "lint: include through a link out", args: []string{"lint", "rules", viaLink}, want: []string{"through a symbolic link"}},
		{name: "lint: include of a FIFO", args: []string{"lint", "rules", viaFifo}, want: []string{"leads out of"}},
		{name: "lint: catalogue over the cap", args: []string{"lint", "rules", "--max-catalog-bytes", "100", escape}, want: []string{"larger than the 100-byte cap (raise it with --max-catalog-bytes)"}},
		{name: "rbac: include escaping", args: []string{"rbac", "--catalog", escape}, want: []string{`uses ".."`}},
		{name: "eval: snapshot is /dev/zero", args: []string{"eval", "--snapshot", "/dev/zero"}, want: []string{"not a regular file (a device)"}},
		{name: "eval: snapshot is a FIFO", args: []string{"eval", "--snapshot", filepath.Join(base, "fifo")}, want: []string{"not a regular file (a named pipe)"}},
		{name: "eval: snapshot over the cap", args: []string{"eval", "--max-snapshot-bytes", "10", "--snapshot", "../../examples/addons-snapshot.yaml"}, want: []string{"larger than the 10-byte cap (raise it with --max-snapshot-bytes)"}},
		{name: "explain: snapshot is /dev/zero", args: []string{"explain", "--snapshot", "/dev/zero", "Pod/ns/p"}, want: []string{"not a regular file (a device)"}},
		{name: "test: rule test is /dev/zero", args: []string{"test", "rules", "/dev/zero"}, want: []string{"not a regular file (a device)"}},
		{name: "test: rule test over the cap", args: []string{"test", "rules", "--max-test-bytes", "10", "../../rules"}, want: []string{"raise it with --max-test-bytes"}},
		{name: "lint: include with .. that stays inside", args: []string{"lint", "rules", dotInside}, want: []string{`include "sub/../sub/part.yaml" uses ".."`}},
		{name: "lint: relative path to /etc/passwd", args: []string{"lint", "rules", relPasswd}, want: []string{`uses ".."`}},
		{name: "lint: relative path to /proc/self/environ", args: []string{"lint", "rules", environ}, want: []string{`uses ".."`}},
		{name: "lint: /proc/self/environ given", args: []string{"lint", "rules", "/proc/self/environ"}, want: []string{"not a YAML file"}},
		{name: "lint: /etc/passwd given", args: []string{"lint", "rules", "/etc/passwd"}, want: []string{"a catalogue must be a mapping, got a string"}},
		{name: "rbac: /proc/self/environ given", args: []string{"rbac", "--catalog", "/proc/self/environ"}, want: []string{"not a YAML file"}},
		{name: "rbac: absolute include", args: []string{"rbac", "--catalog", abs}, want: []string{"is absolute"}},
		{name: "lint: catalogue over the default 1 MiB cap", args: []string{"lint", "rules", bigCatalog}, want: []string{"larger than the 1048576-byte cap (raise it with --max-catalog-bytes)"}},
		{name: "eval: catalogue over the default 1 MiB cap", args: []string{"eval", "--catalog", bigCatalog, "--snapshot", "../../examples/addons-snapshot.yaml"}, want: []string{"raise it with --max-catalog-bytes"}},
		{name: "eval: snapshot is /proc/self/environ", args: []string{"eval", "--snapshot", "/proc/self/environ"}, want: []string{"not a YAML file"}},
		{name: "eval: snapshot is /etc/passwd", args: []string{"eval", "--snapshot", "/etc/passwd"}, want: []string{"a snapshot file must be a mapping, got a string"}},
		{name: "explain: snapshot is /proc/self/environ", args: []string{"explain", "--snapshot", "/proc/self/environ", "Pod/ns/p"}, want: []string{"not a YAML file"}},
		{name: "test: rule test is /proc/self/environ", args: []string{"test", "rules", "/proc/self/environ"}, want: []string{"not a YAML file"}},
		{name: "test: rule test is /etc/passwd", args: []string{"test", "rules", "/etc/passwd"}, want: []string{"a rule-test file must be a mapping, got a string"}},
		{name: "test: rule test over the default 16 MiB cap", args: []string{"test", "rules", bigTest}, want: []string{"larger than the 16777216-byte cap (raise it with --max-test-bytes)"}},
		{name: "test: objectFiles /etc/passwd", args: []string{"test", "rules", objPasswd}, want: []string{"/etc/passwd:1:1: an object must be a mapping, got a string"}},
		{name: "test: objectFiles relative path to /etc/passwd", args: []string{"test", "rules", objRelPasswd}, want: []string{"an object must be a mapping, got a string"}},
		{name: "test: objectFiles /proc/self/environ", args: []string{"test", "rules", objEnviron}, want: []string{"not a YAML file"}},
		{name: "test: objectFiles /dev/zero", args: []string{"test", "rules", objZero}, want: []string{"not a regular file (a device)"}},
		{name: "test: objectFiles a FIFO", args: []string{"test", "rules", objFifo}, want: []string{"not a regular file (a named pipe)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				catalog.MaxBytes, snapshot.MaxBytes, ruletest.MaxBytes = catalog.DefaultMaxBytes, snapshot.DefaultMaxBytes, ruletest.DefaultMaxBytes
			}()
			var out, errOut bytes.Buffer
			done := make(chan int, 1)
			go func() { done <- run(tc.args, &out, &errOut) }()
			var code int
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the command blocked")
			}
			all := out.String() + errOut.String()
			assert.NotEqual(t, 0, code, all)
			for _, w := range tc.want {
				assert.Contains(t, all, w)
			}
			assert.False(t, strings.Contains(all, "TOPSECRET") || strings.Contains(all, "/bin/bash") || strings.Contains(all, "PATH="), "a file outside the catalogue was quoted: %s", all)
		})
	}
}

// TestResourceNamesLintAndRBAC shows lint and rbac refusing the same
// resource spellings with the same words: one check serves both.
func TestResourceNamesLintAndRBAC(t *testing.T) {
	tests := []struct {
		name   string
		source string
		want   string
	}{
		{name: "Secrets capitalised", source: `{version: v1, resource: Secrets}`, want: "statusd never reads Secrets"},
		{name: "leading space", source: `{version: v1, resource: " secrets"}`, want: "statusd never reads Secrets"},
		{name: "singular secret", source: `{version: v1, resource: secret}`, want: "statusd never reads Secrets"},
		{name: "group core", source: `{group: core, version: v1, resource: secrets}`, want: "statusd never reads Secrets"},
		{name: "subresource of secrets", source: `{version: v1, resource: secrets/status}`, want: "statusd never reads Secrets"},
		{name: "wildcard", source: `{version: v1, resource: "*"}`, want: "a wildcard would include Secrets"},
		{name: "subresource", source: `{version: v1, resource: pods/status}`, want: "names a subresource"},
		{name: "group core for pods", source: `{group: core, version: v1, resource: pods}`, want: `the core group is written ""`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			src := "apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: h, version: \"1\"}\n" +
				"sources:\n  s: " + tc.source + "\nreasons:\n- {name: A, subject: s, when: \"true\", summary: x}\n"
			require.NoError(t, os.WriteFile(p, []byte(src), 0o600))
			for _, args := range [][]string{{"lint", "rules", p}, {"rbac", "--catalog", p}} {
				var out, errOut bytes.Buffer
				code := run(args, &out, &errOut)
				assert.NotEqual(t, 0, code, "%v: %s%s", args, out.String(), errOut.String())
				assert.Contains(t, out.String()+errOut.String(), tc.want, "%v", args)
			}
		})
	}
}

// TestOutputEscaped feeds terminal escape sequences through a snapshot's
// messages and a catalogue's names and checks that no command writes a
// control character raw.
func TestOutputEscaped(t *testing.T) {
	data, err := os.ReadFile("../../examples/addons-snapshot.yaml")
	require.NoError(t, err)
	hostile := strings.ReplaceAll(string(data), "3 Insufficient cpu.", `3 Insufficient cpu\e[2J\e]0;pwned\a\rOK\u009b.`)
	snap := filepath.Join(t.TempDir(), "snap.yaml")
	require.NoError(t, os.WriteFile(snap, []byte(hostile), 0o600))
	cat := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(cat, []byte("apiVersion: statusd.io/v1alpha1\nkind: Catalog\nmetadata: {name: \"h\\e[31m\", version: \"1\"}\n"+
		"sources:\n  pods: {version: v1, resource: pods}\nreasons:\n- {name: \"A\\e[2J\", subject: pods, when: \"true\\r\", summary: x}\n"), 0o600))
	tests := []struct {
		name string
		args []string
		want string // the escaped form, proving the text was printed
	}{
		{name: "eval table", args: []string{"eval", "--snapshot", snap}, want: `Insufficient cpu\x1b[2J\x1b]0;pwned\x07`},
		{name: "explain", args: []string{"explain", "--snapshot", snap, "Pod/iaas-addon-model-provider-q8z1/vllm-qwen3-5-35b-0"}, want: `\x1b[2J`},
		{name: "lint snippet", args: []string{"lint", "rules", cat}, want: `\x1b`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			run(tc.args, &out, &errOut)
			all := out.String() + errOut.String()
			assert.Contains(t, all, tc.want)
			for _, c := range []string{"\x1b", "\r", "\x07", "\u009b"} {
				assert.NotContains(t, all, c)
			}
		})
	}
}
