package sandbox

import "golang.org/x/sys/unix"

// auditArch is the architecture the filter admits; x32Bit marks the x32 ABI's calls,
// which share the architecture but number their calls from it.
const (
	auditArch = unix.AUDIT_ARCH_X86_64
	x32Bit    = 0x40000000
)
