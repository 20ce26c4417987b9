package sandbox

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/sous-run/sous/internal/rawio"
)

// idleProbe tells, from outside the jail and without waking its init, whether the
// last run left anything to clean: a process besides the init and the runtime (the
// cgroup's member list) or an entry in TMPDIR (the size of a tmpfs directory grows
// with each entry). When it finds nothing, StartClean skips the init's clean round
// trip, which otherwise puts a wake-up of the init, a /proc scan and a TMPDIR listing
// between every two runs.
type idleProbe struct {
	// procs is the jail's cgroup v2 cgroup.procs, kept open: each read from offset 0
	// lists the members afresh, in one call. -1 on cgroup v1 alone, whose lists are
	// cached per open file: procsPath is then opened for each check, which costs a
	// list built and a timer armed to free it (a quarter of the executor's CPU per
	// warm run, measured).
	procs     int
	procsPath string
	tmp       int   // O_PATH descriptor of the jail's TMPDIR, seen through the init's root
	tmpEmpty  int64 // the size of TMPDIR when empty, as the init saw it before the runtime started
	buf       []byte
}

// newIdleProbe opens what the probe reads; nil when the jail has no cgroup (the
// processes cannot be counted), in which case every clean goes to the init.
func newIdleProbe(initPid int, cgroups []string, track string, tmpEmpty int64) *idleProbe {
	if len(cgroups) == 0 || tmpEmpty <= 0 {
		return nil
	}
	// Every hierarchy the init joined lists the same processes: a cgroup v2 one if
	// there is one, else the first. The tracking cgroup (track) is joined on a best
	// effort: when the init could not join it, its list is empty, which never reads
	// as clean.
	p := &idleProbe{procs: -1, tmp: -1, procsPath: cgroups[0] + "/cgroup.procs", tmpEmpty: tmpEmpty, buf: make([]byte, 256)}
	dirs := cgroups
	if track != "" {
		dirs = append(slices.Clip(cgroups), track)
	}
	for _, dir := range dirs {
		var st unix.Statfs_t
		if unix.Statfs(dir, &st) != nil || st.Type != unix.CGROUP2_SUPER_MAGIC {
			continue
		}
		if fd, err := unix.Open(dir+"/cgroup.procs", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
			p.procs = fd
			break
		}
	}
	// The jail's root is read-only and TMPDIR a mount point on it: the function can
	// neither replace nor move it, so this is its TMPDIR for the life of the jail.
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/root%s", initPid, TmpDir), unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		p.close()
		return nil
	}
	p.tmp = fd
	return p
}

// clean reports whether there is nothing to clean: exactly the init and the runtime
// are in the cgroup and TMPDIR is empty. Any doubt (a read error, an empty list) says no.
func (p *idleProbe) clean() bool {
	if size, err := rawio.Size(p.tmp); err != nil || size != p.tmpEmpty {
		return false
	}
	n, err := p.readProcs()
	if n == len(p.buf) || err != nil {
		return false // a long list: strays for sure
	}
	return bytes.Count(p.buf[:n], []byte{'\n'}) == 2 // the init and the runtime
}

// readProcs reads the cgroup's process list into buf. Raw calls (rawio): os.Open
// would also try to register the file with the poller, and any call through the
// runtime wakes its monitor thread between two runs.
func (p *idleProbe) readProcs() (int, error) {
	if p.procs >= 0 {
		return rawio.Pread(p.procs, p.buf, 0)
	}
	return rawio.ReadSmall(p.procsPath, p.buf)
}

func (p *idleProbe) close() {
	for _, fd := range []int{p.procs, p.tmp} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// tmpSize is the size of the empty TMPDIR the init reports in its "ok" line.
func tmpSize() int64 {
	var st unix.Stat_t
	if err := unix.Stat(TmpDir, &st); err != nil {
		return 0
	}
	return st.Size
}

// parseOK reads the init's "ok <tmp size>" line; the size is 0 when absent.
func parseOK(line string) (ok bool, size int64) {
	rest, found := bytes.CutPrefix([]byte(line), []byte("ok"))
	if !found || len(rest) == 0 || rest[len(rest)-1] != '\n' {
		return false, 0
	}
	size, _ = strconv.ParseInt(string(bytes.TrimSpace(rest)), 10, 64)
	return true, size
}
