package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// groupMembers lists the live processes of process group pgid, from /proc.
func groupMembers(t *testing.T, pgid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces.
		rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
		f := strings.Fields(rest)
		if len(f) < 3 || f[0] == "Z" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			out = append(out, pid)
		}
	}
	return out
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// TestReplicaCleanup runs a stand-in for statusd that forks a child into
// its process group, kills it as an injected fault (the supervisor reports
// it and restarts it), pauses it, and stops it: nothing of any instance
// may be left, paused or not.
func TestReplicaCleanup(t *testing.T) {
	var mu sync.Mutex
	var exits []Exit
	r := &replica{
		name: "stand-in", bin: "/bin/sh", args: []string{"-c", "sleep 300 & sleep 300"},
		logPath: filepath.Join(t.TempDir(), "log"), restartDelay: 10 * time.Millisecond,
		onExit: func(x Exit) {
			mu.Lock()
			exits = append(exits, x)
			mu.Unlock()
		},
	}
	require.NoError(t, r.start())
	t.Cleanup(func() { r.stop(time.Second) })
	first := r.pid()
	require.NotZero(t, first)
	require.Eventually(t, func() bool { return len(groupMembers(t, first)) == 3 }, 5*time.Second, 10*time.Millisecond, "sh and its two sleeps")

	require.NoError(t, r.signal(syscall.SIGKILL, true))
	require.Eventually(t, func() bool { p := r.pid(); return p != 0 && p != first }, 5*time.Second, 10*time.Millisecond, "restarted")
	assert.Eventually(t, func() bool { return len(groupMembers(t, first)) == 0 }, 5*time.Second, 10*time.Millisecond, "the killed instance's group is gone")
	mu.Lock()
	require.Len(t, exits, 1)
	assert.True(t, exits[0].Injected)
	mu.Unlock()

	second := r.pid()
	require.Eventually(t, func() bool { return len(groupMembers(t, second)) == 3 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, r.signal(syscall.SIGSTOP, true))
	assert.True(t, r.isPaused())
	r.stop(500 * time.Millisecond)
	// The group's last SIGKILL is delivered as each member is next
	// scheduled: on a busy machine a member may still run a moment.
	assert.Eventually(t, func() bool { return len(groupMembers(t, second)) == 0 }, 5*time.Second, 10*time.Millisecond, "stop ends a paused group")
	for _, pid := range r.startedPIDs() {
		assert.False(t, alive(pid), "pid %d", pid)
	}
	assert.Zero(t, r.pid())
	require.Error(t, r.signal(syscall.SIGKILL, true), "stopped for good")
	time.Sleep(50 * time.Millisecond)
	assert.Zero(t, r.pid(), "no restart after stop")
	mu.Lock()
	assert.Len(t, exits, 1, "stop is not an exit to report")
	mu.Unlock()
}

// TestReplicaCrashIsNotInjected reports an exit the run did not cause as
// such, and the OOM kill of a process over its memory limit.
func TestReplicaCrashIsNotInjected(t *testing.T) {
	exits := make(chan Exit, 4)
	r := &replica{
		name: "crasher", bin: "/bin/sh", args: []string{"-c", "sleep 0.05; exit 3"},
		logPath: filepath.Join(t.TempDir(), "log"), restartDelay: time.Hour,
		onExit: func(x Exit) { exits <- x },
	}
	require.NoError(t, r.start())
	t.Cleanup(func() { r.stop(time.Second) })
	select {
	case x := <-exits:
		assert.False(t, x.Injected)
		assert.Contains(t, x.Why, "exit status 3")
	case <-time.After(5 * time.Second):
		t.Fatal("no exit reported")
	}

	oom := &replica{
		name: "hog", bin: "/bin/sh", args: []string{"-c", "sleep 300"}, memLimit: 1,
		logPath: filepath.Join(t.TempDir(), "log"), restartDelay: time.Hour,
		onExit: func(x Exit) { exits <- x },
	}
	require.NoError(t, oom.start())
	t.Cleanup(func() { oom.stop(time.Second) })
	oom.enforceMemory()
	select {
	case x := <-exits:
		assert.False(t, x.Injected)
		assert.True(t, strings.HasPrefix(x.Why, "OOM"), x.Why)
	case <-time.After(5 * time.Second):
		t.Fatal("no OOM kill")
	}
}
