package sandbox

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// devices are the only device nodes a function sees.
var devices = []string{"null", "zero", "random", "urandom"}

// buildRoot makes the jail's root: a tmpfs holding read-only binds of the runtime and
// the bundle, the device nodes, a fresh /proc and private tmpfs /tmp and HOME, then
// pivots into it, drops the host's tree and makes the root itself read-only.
func buildRoot(s *Spec) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	root := s.Root
	if err := unix.Mount("tmpfs", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=755,size=4m"); err != nil {
		return fmt.Errorf("root tmpfs on %s: %w", root, err)
	}
	for link, target := range s.Symlinks {
		if err := os.MkdirAll(filepath.Dir(root+link), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(target, root+link); err != nil {
			return fmt.Errorf("symlink %s: %w", link, err)
		}
	}
	for _, b := range s.Binds {
		if err := bind(b.Src, root+b.Dst, true); err != nil {
			return err
		}
	}
	for _, d := range devices {
		if err := bind("/dev/"+d, root+"/dev/"+d, false); err != nil {
			return err
		}
	}
	if err := os.Symlink("/proc/self/fd", root+"/dev/fd"); err != nil {
		return err
	}
	if err := os.MkdirAll(root+"/proc", 0o555); err != nil {
		return err
	}
	if err := unix.Mount("proc", root+"/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	opts := fmt.Sprintf("mode=700,uid=%d,gid=%d,size=%dm", s.UID, s.GID, max(s.TmpMB, 1))
	for _, d := range []string{TmpDir, HomeDir, "/dev/shm"} {
		if err := os.MkdirAll(root+d, 0o755); err != nil {
			return err
		}
		if err := unix.Mount("tmpfs", root+d, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
			return fmt.Errorf("tmpfs %s: %w", d, err)
		}
	}
	for _, f := range s.Files {
		if err := os.MkdirAll(filepath.Dir(root+f.Path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(root+f.Path, []byte(f.Data), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	return pivot(root)
}

// pivot makes root the process's / and detaches the host's tree.
func pivot(root string) error {
	if err := unix.Chdir(root); err != nil {
		return err
	}
	// pivot_root(".", ".") stacks the old root on top of the new one; unmounting "."
	// then removes the old root without needing a directory for it.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the host root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("remount / read-only: %w", err)
	}
	return nil
}

// bind mounts src on dst (created as a file or a directory like src), read-only
// unless it is a device node.
func bind(src, dst string, ro bool) error {
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("bind %s: %w", src, err)
	}
	if fi.IsDir() {
		err = os.MkdirAll(dst, 0o755)
	} else if err = os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
		var f *os.File
		if f, err = os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			f.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("bind target %s: %w", dst, err)
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s: %w", src, err)
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_NOSUID)
	if ro {
		flags |= unix.MS_RDONLY | unix.MS_NODEV
	} else {
		flags |= unix.MS_NOEXEC
	}
	if err := unix.Mount("", dst, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s: %w", dst, err)
	}
	return nil
}
