package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/testenv"
)

// fill writes a file in dir until the file system is full and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 64<<10)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			_ = f.Sync()
			return path
		}
	}
}

// TestFullDiskGivesClearErrorsAndKeepsRecords: the data dir is a small tmpfs (root
// only). When it fills up, an invoke is refused (507) with an error naming the cause
// instead of an id the host cannot keep; the host keeps serving reads, and once space
// is freed (and after a SIGKILL and restart) every record written before is intact.
func TestFullDiskGivesClearErrorsAndKeepsRecords(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs for the data dir needs root")
	}
	rs := testenv.StartRedis(t)
	s := newStack(t, redisYAML(rs.URL, "10s"))
	var mnt string
	s.prepare = func(dataDir string) {
		mnt = dataDir
		if err := os.MkdirAll(mnt, 0o700); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt).CombinedOutput(); err != nil {
			t.Skipf("cannot mount a tmpfs: %v %s", err, out)
		}
		t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	}
	host := s.start("all", "all")
	s.deploy("hello-python")
	c, ctx := s.client(), context.Background()
	before, err := c.Invoke(ctx, "hello-python", []byte(`{"name":"before"}`), client.InvokeOptions{})
	if err != nil || before.Status != "succeeded" {
		t.Fatalf("before the disk is full: %+v %v", before, err)
	}
	filler := fill(t, mnt)
	var apiErr *client.APIError
	_, err = c.InvokeAsync(ctx, "hello-python", nil, client.InvokeOptions{})
	if !errors.As(err, &apiErr) || apiErr.Status != 507 || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("invoke on a full disk: want an error naming it, got %v", err)
	}
	if rec, err := c.GetInvocation(ctx, before.InvocationID); err != nil || rec["status"] != "succeeded" {
		t.Fatalf("reading a record on a full disk: %v %v", rec, err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	host.kill()
	s.restart(host)
	if rec, err := c.GetInvocation(ctx, before.InvocationID); err != nil || rec["status"] != "succeeded" {
		t.Fatalf("after freeing space and a restart, the record is %v %v", rec, err)
	}
	after, err := c.Invoke(ctx, "hello-python", []byte(`{"name":"after"}`), client.InvokeOptions{})
	if err != nil || after.Status != "succeeded" {
		t.Fatalf("after freeing space: %+v %v", after, err)
	}
}
