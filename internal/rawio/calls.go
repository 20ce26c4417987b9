package rawio

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The calls below are for descriptors whose calls return at once whatever the file
// holds (cgroupfs, a pipe's queue length, a tmpfs directory): made raw, they leave the
// runtime's monitor thread asleep as Read and Write do.

// Pread reads from fd at off in one call.
func Pread(fd int, b []byte, off int64) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		r, _, e := syscall.RawSyscall6(syscall.SYS_PREAD64, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(off), 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, os.NewSyscallError("pread", e)
		}
		return int(r), nil
	}
}

// InQueue is the number of bytes waiting to be read on a pipe or socket (FIONREAD).
func InQueue(fd int) (int, error) {
	var n int32
	if _, _, e := syscall.RawSyscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); e != 0 {
		return 0, os.NewSyscallError("ioctl", e)
	}
	return int(n), nil
}

// ReadSmall opens path, reads it once into buf and closes it: for a pseudo-file
// (cgroupfs, procfs) whose content fits buf.
func ReadSmall(path string, buf []byte) (int, error) {
	p, err := syscall.BytePtrFromString(path)
	if err != nil {
		return 0, err
	}
	r, _, e := syscall.RawSyscall6(syscall.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(p)), syscall.O_RDONLY|syscall.O_CLOEXEC, 0, 0, 0)
	if e != 0 {
		return 0, &os.PathError{Op: "open", Path: path, Err: e}
	}
	fd := int(r)
	defer syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
	return Pread(fd, buf, 0)
}

// atFDCWD is AT_FDCWD (-100), as the system call takes it.
var atFDCWD = -100

// Size is the size fstat reports for fd.
func Size(fd int) (int64, error) {
	var st syscall.Stat_t
	if _, _, e := syscall.RawSyscall(syscall.SYS_FSTAT, uintptr(fd), uintptr(unsafe.Pointer(&st)), 0); e != 0 {
		return 0, os.NewSyscallError("fstat", e)
	}
	return st.Size, nil
}

// Ready polls fds once without waiting (ppoll, zero timeout), setting each one's
// Revents, and returns how many have any: one call where asking each descriptor
// would take one per descriptor.
func Ready(fds []unix.PollFd) (int, error) {
	if len(fds) == 0 {
		return 0, nil
	}
	var zero unix.Timespec
	for {
		r, _, e := syscall.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), uintptr(unsafe.Pointer(&zero)), 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, os.NewSyscallError("ppoll", e)
		}
		return int(r), nil
	}
}
