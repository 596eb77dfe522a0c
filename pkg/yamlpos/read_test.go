package yamlpos

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yaml")
	require.NoError(t, os.WriteFile(small, []byte("a: 1\n"), 0o600))
	exact := filepath.Join(dir, "exact.yaml")
	require.NoError(t, os.WriteFile(exact, []byte(strings.Repeat("x", 16)), 0o600))
	big := filepath.Join(dir, "big.yaml")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat("x", 17)), 0o600))
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	c := Cap{Bytes: 16, Flag: "--max-x-bytes"}
	tests := []struct {
		name    string
		path    string
		want    string
		wantErr error
		msg     string
	}{
		{name: "small file", path: small, want: "a: 1\n"},
		{name: "exactly the cap", path: exact, want: strings.Repeat("x", 16)},
		{name: "one byte over the cap", path: big, wantErr: ErrTooLarge, msg: "larger than the 16-byte cap (raise it with --max-x-bytes)"},
		{name: "fifo refused without blocking", path: fifo, wantErr: ErrNotRegular, msg: "a named pipe"},
		{name: "device refused", path: "/dev/zero", wantErr: ErrNotRegular, msg: "a device"},
		{name: "directory refused", path: dir, wantErr: ErrNotRegular, msg: "a directory"},
		{name: "missing file", path: filepath.Join(dir, "nope"), wantErr: os.ErrNotExist},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			var f *File
			var err error
			go func() { f, err = ReadFile(tc.path, c); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("ReadFile blocked")
			}
			if tc.wantErr != nil {
				require.Error(t, err)
				require.ErrorIs(t, err, tc.wantErr)
				assert.Contains(t, err.Error(), tc.msg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(f.Data))
		})
	}
}

func TestReadFileFS(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("abc"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.yaml"), []byte("abcdef"), 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "d"), 0o700))
	fsys := os.DirFS(dir)
	c := Cap{Bytes: 4, Flag: "--f"}
	f, err := ReadFileFS(fsys, "a.yaml", c)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(f.Data))
	_, err = ReadFileFS(fsys, "b.yaml", c)
	require.ErrorIs(t, err, ErrTooLarge)
	_, err = ReadFileFS(fsys, "d", c)
	require.ErrorIs(t, err, ErrNotRegular)
}
