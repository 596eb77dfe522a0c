package yamlpos

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrTooLarge is matched (errors.Is) by a file refused for exceeding its
// size cap.
var ErrTooLarge = errors.New("file too large")

// ErrNotRegular is matched (errors.Is) by a path that is not a regular
// file (a FIFO, a device, a directory, a socket).
var ErrNotRegular = errors.New("not a regular file")

// Cap bounds how much of its input a command reads. Every file statusd
// reads goes through ReadFile with a Cap, so that /dev/zero, a FIFO or a
// huge file is refused promptly instead of stalling the process or
// exhausting its memory.
type Cap struct {
	// Bytes is the most a file may hold.
	Bytes int64
	// Flag names the command-line flag that raises Bytes; errors print it
	// so that the operator knows what to change.
	Flag string
}

// TooLarge is the error for a file of more than c.Bytes bytes.
func (c Cap) TooLarge(name string) error {
	return fmt.Errorf("%s: %w: larger than the %d-byte cap (raise it with %s)", name, ErrTooLarge, c.Bytes, c.Flag)
}

// ReadFile reads the regular file name, refusing anything else and any
// file larger than c. The file is opened non-blocking so that a FIFO is
// refused rather than waited on, its type is checked on the open
// descriptor (not a second lookup of the name), and at most c.Bytes+1 bytes
// are read whatever the size the file claims.
func ReadFile(name string, c Cap) (*File, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only: a close error loses nothing
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", name, ErrNotRegular, describeMode(st.Mode()))
	}
	return readCapped(name, f, st.Size(), c)
}

// ReadFileFS is ReadFile over a file system, for catalogues mounted from a
// ConfigMap or embedded in the binary.
func ReadFileFS(fsys fs.FS, name string, c Cap) (*File, error) {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", name, ErrNotRegular, describeMode(st.Mode()))
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only: a close error loses nothing
	return readCapped(name, f, st.Size(), c)
}

func readCapped(name string, r io.Reader, size int64, c Cap) (*File, error) {
	if size > c.Bytes {
		return nil, c.TooLarge(name)
	}
	data, err := io.ReadAll(io.LimitReader(r, c.Bytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > c.Bytes {
		return nil, c.TooLarge(name)
	}
	return NewFile(name, data), nil
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.Type().String()
}
