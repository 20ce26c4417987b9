package sandbox

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The runtime and everything it starts run under a seccomp filter that refuses the
// system calls which reach the kernel's least-hardened parts without giving a function
// anything it needs: new namespaces (a nested user namespace hands its creator every
// capability inside it, and with them mount, netfilter and the other interfaces most
// container escapes have gone through), the new mount API, io_uring (whose operations
// no filter sees), BPF, perf events, userfaultfd, the kernel keyring, modules, kexec,
// handles to arbitrary inodes, and the machine's swap, accounting, quota, log and
// reboot. The list follows Docker's default profile for an unprivileged container.
// Any other system call is allowed: the namespaces, the cgroup and the uid already
// bound what it can touch.

// clone's namespace flags: a clone that asks for any of them is refused.
const cloneNamespaces = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// refused are answered EPERM.
var refused = []uintptr{
	unix.SYS_UNSHARE, unix.SYS_SETNS,
	unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT,
	unix.SYS_OPEN_TREE, unix.SYS_MOVE_MOUNT, unix.SYS_FSOPEN, unix.SYS_FSCONFIG,
	unix.SYS_FSMOUNT, unix.SYS_FSPICK, unix.SYS_MOUNT_SETATTR,
	unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
	unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD,
	unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY,
	unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE,
	unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD,
	unix.SYS_OPEN_BY_HANDLE_AT, unix.SYS_NAME_TO_HANDLE_AT, unix.SYS_FANOTIFY_INIT,
	unix.SYS_REBOOT, unix.SYS_SWAPON, unix.SYS_SWAPOFF, unix.SYS_ACCT, unix.SYS_QUOTACTL,
	unix.SYS_SYSLOG, unix.SYS_VHANGUP, unix.SYS_LOOKUP_DCOOKIE,
}

// BPF as seccomp runs it (linux/filter.h, linux/seccomp.h).
const (
	bpfLoadAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJumpEq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJumpGE  = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	bpfJumpSet = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	bpfReturn  = unix.BPF_RET | unix.BPF_K

	// offsets in struct seccomp_data
	dataNr   = 0
	dataArch = 4
	dataArg0 = 16 // the low 32 bits of args[0] (little-endian)

	retAllow = unix.SECCOMP_RET_ALLOW
	retKill  = unix.SECCOMP_RET_KILL_PROCESS
)

func retErrno(e syscall.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e) }

// filter is the program: the architecture checked first (a 32-bit or x32 call would
// be another table), then each refused call, then clone's flags.
func filter() []unix.SockFilter {
	stmt := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	jump := func(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: code, K: k, Jt: jt, Jf: jf}
	}
	p := []unix.SockFilter{
		stmt(bpfLoadAbs, dataArch),
		jump(bpfJumpEq, auditArch, 1, 0),
		stmt(bpfReturn, retKill),
		stmt(bpfLoadAbs, dataNr),
	}
	if x32Bit != 0 {
		p = append(p, jump(bpfJumpGE, x32Bit, 0, 1), stmt(bpfReturn, retErrno(unix.EPERM)))
	}
	for _, nr := range refused {
		p = append(p, jump(bpfJumpEq, uint32(nr), 0, 1), stmt(bpfReturn, retErrno(unix.EPERM)))
	}
	// clone3 passes its flags in memory, out of a filter's reach: ENOSYS makes the C
	// library fall back to clone, whose flags it can read.
	p = append(p, jump(bpfJumpEq, unix.SYS_CLONE3, 0, 1), stmt(bpfReturn, retErrno(unix.ENOSYS)))
	p = append(p,
		jump(bpfJumpEq, unix.SYS_CLONE, 0, 3),
		stmt(bpfLoadAbs, dataArg0),
		jump(bpfJumpSet, cloneNamespaces, 0, 1),
		stmt(bpfReturn, retErrno(unix.EPERM)),
		stmt(bpfReturn, retAllow),
	)
	return p
}

// errNoFilter is returned where this package has no system call table.
var errNoFilter = errors.New("no seccomp filter for this architecture")

// installFilter puts the calling thread under prog (filter()); every process it
// starts after that inherits it. The thread must have no_new_privs set. It makes no
// allocation.
func installFilter(prog []unix.SockFilter) error {
	if auditArch == 0 {
		return errNoFilter
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if _, _, e := syscall.RawSyscall(unix.SYS_PRCTL, unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		return fmt.Errorf("seccomp filter: %w", e)
	}
	return nil
}
