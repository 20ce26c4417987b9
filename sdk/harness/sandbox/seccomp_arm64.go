package sandbox

import "golang.org/x/sys/unix"

// auditArch is the architecture the filter admits (arm64 has no second ABI to refuse).
const (
	auditArch = unix.AUDIT_ARCH_AARCH64
	x32Bit    = 0
)
