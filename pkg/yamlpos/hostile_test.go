package yamlpos

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFilesThatAreNotYAMLQuoteNothing decodes files a path may name by
// mistake or malice (the environment, a password file, a binary): the
// error says what the file is, and no part of its content, beyond the
// shortest token, appears in it.
func TestFilesThatAreNotYAMLQuoteNothing(t *testing.T) {
	errKind := errors.New("invalid test file")
	tests := []struct {
		name string
		data string
		want string
	}{
		{name: "an environment", data: "SHELL=/bin/bash\x00TOKEN=TOPSECRET\x00", want: "1:1: invalid YAML: the file holds control characters, so it is not a YAML file"},
		{name: "a binary", data: "\x7fELF\x02\x01\x01TOPSECRET", want: "is not a YAML file"},
		{name: "a password file", data: "root:x:0:0:TOPSECRET:/root:/bin/bash\ndaemon:x:1:1::/:/sbin/nologin\n", want: "1:1: a test file must be a mapping, got a string"},
		{name: "a list", data: "- TOPSECRET\n", want: "a test file must be a mapping, got a list"},
		{name: "a number", data: "12\n", want: "a test file must be a mapping, got an integer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v map[string]any
			_, _, err := DecodeSingle(NewFile("f", []byte(tc.data)), "test", errKind, &v)
			require.Error(t, err)
			require.ErrorIs(t, err, errKind)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "TOPSECRET")
			assert.NotContains(t, err.Error(), "/bin/bash")
		})
	}
}

// TestProcEnvironNeverEchoed reads the real /proc/self/environ, a regular
// file the kernel reports as empty, with a secret in the environment.
func TestProcEnvironNeverEchoed(t *testing.T) {
	t.Setenv("STATUSD_TEST_SECRET", "TOPSECRET")
	f, err := ReadFile("/proc/self/environ", Cap{Bytes: 1 << 20, Flag: "--f"})
	require.NoError(t, err, "a regular file, read with a limit")
	var v map[string]any
	_, _, err = DecodeSingle(f, "test", errors.New("x"), &v)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "TOPSECRET")
	assert.NotContains(t, err.Error(), "PATH=")
}
