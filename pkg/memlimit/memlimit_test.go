package memlimit

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestChoose(t *testing.T) {
	noFile := func(string) ([]byte, error) { return nil, fs.ErrNotExist }
	file := func(s string) func(string) ([]byte, error) {
		return func(p string) ([]byte, error) {
			if p != cgroupMemoryMax {
				return nil, errors.New("unexpected path " + p)
			}
			return []byte(s), nil
		}
	}
	env := func(kv ...string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1], true
				}
			}
			return "", false
		}
	}
	tests := []struct {
		name    string
		flag    string
		env     func(string) (string, bool)
		read    func(string) ([]byte, error)
		want    int64
		wantErr string
	}{
		{name: "GOMEMLIMIT wins", flag: "100Mi", env: env("GOMEMLIMIT", "200MiB"), read: file("1073741824\n"), want: 0},
		{name: "flag", flag: "250Mi", env: env(), read: file("1073741824\n"), want: 250 << 20},
		{name: "flag zero disables", flag: "0", env: env(), read: file("1073741824\n"), want: 0},
		{name: "cgroup limit", env: env(), read: file("536870912\n"), want: 483183820},
		{name: "cgroup without limit", env: env(), read: file("max\n"), want: 0},
		{name: "not in a cgroup", env: env(), read: noFile, want: 0},
		{name: "bad flag", flag: "lots", env: env(), read: noFile, wantErr: `--memory-limit "lots"`},
		{name: "negative flag", flag: "-1Mi", env: env(), read: noFile, wantErr: "must not be negative"},
		{name: "garbage cgroup file", env: env(), read: file("twelve\n"), wantErr: `holds "twelve"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, from, err := Choose(tc.flag, tc.env, tc.read)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.NotEmpty(t, from, "the log says where the limit came from")
		})
	}
}
