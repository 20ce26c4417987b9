package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// RefusedError is a destination the safety rules refuse; Rule names the rule.
type RefusedError struct {
	Addr netip.Addr
	Rule string // e.g. "loopback (127.0.0.0/8, ::1)"
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("destination %s is %s, which callbacks may not reach; list it in webhooks.allow_cidrs to allow it", e.Addr, e.Rule)
}

// ErrBadURL marks a callback URL that is not an absolute http(s) URL.
var ErrBadURL = errors.New("bad callback url")

// Policy decides which destinations a callback may reach: public addresses, plus the
// private, loopback and link-local ones listed in Allow (webhooks.allow_cidrs).
type Policy struct {
	Allow []netip.Prefix
}

// ParsePolicy reads webhooks.allow_cidrs ("10.0.0.0/8", "127.0.0.1", …).
func ParsePolicy(cidrs []string) (Policy, error) {
	var p Policy
	for _, c := range cidrs {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !strings.Contains(c, "/") {
			a, err := netip.ParseAddr(c)
			if err != nil {
				return p, fmt.Errorf("webhooks.allow_cidrs: %q is not a CIDR (10.0.0.0/8) or an address", c)
			}
			c = netip.PrefixFrom(a, a.BitLen()).String()
		}
		pre, err := netip.ParsePrefix(c)
		if err != nil {
			return p, fmt.Errorf("webhooks.allow_cidrs: %q is not a CIDR like 10.0.0.0/8: %v", c, err)
		}
		p.Allow = append(p.Allow, pre.Masked())
	}
	return p, nil
}

// rule returns the name of the reserved range a holds ("" for a public address).
func rule(a netip.Addr) string {
	switch {
	case a.IsLoopback():
		return "loopback (127.0.0.0/8, ::1)"
	case a.IsPrivate():
		return "private (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7)"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local (169.254.0.0/16, fe80::/10)"
	case a.IsUnspecified():
		return "unspecified (0.0.0.0, ::)"
	case a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return "multicast"
	case a.Is4() && shared.Contains(a), a.Is4() && thisNet.Contains(a):
		return "reserved (0.0.0.0/8, 100.64.0.0/10)"
	}
	return ""
}

var (
	shared  = netip.MustParsePrefix("100.64.0.0/10")
	thisNet = netip.MustParsePrefix("0.0.0.0/8")
)

// CheckAddr refuses an address in a reserved range that Allow does not list.
func (p Policy) CheckAddr(a netip.Addr) error {
	a = a.Unmap()
	r := rule(a)
	if r == "" {
		return nil
	}
	for _, pre := range p.Allow {
		if pre.Contains(a) {
			return nil
		}
	}
	return &RefusedError{Addr: a, Rule: r}
}

// CheckURL checks a callback URL when it is asked for: an absolute http(s) URL whose
// host resolves only to addresses the policy allows. Delivery checks again at dial time
// (the name may resolve elsewhere by then).
func (p Policy) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: %q must start with http:// or https://", ErrBadURL, raw)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w: %q has no host", ErrBadURL, raw)
	}
	if u.User != nil {
		return fmt.Errorf("%w: %q carries user info; authenticate the receiver with the signature instead", ErrBadURL, raw)
	}
	if len(raw) > 2048 {
		return fmt.Errorf("%w: longer than 2048 bytes", ErrBadURL)
	}
	if a, err := netip.ParseAddr(u.Hostname()); err == nil {
		return p.CheckAddr(a)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil {
		return fmt.Errorf("%w: cannot resolve %s: %v", ErrBadURL, u.Hostname(), err)
	}
	for _, a := range addrs {
		if err := p.CheckAddr(a); err != nil {
			return err
		}
	}
	return nil
}

// control is a net.Dialer Control hook: it refuses a connection to a reserved address
// at the moment of dialling, whatever name resolved to it (DNS rebinding).
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	return p.CheckAddr(ap.Addr())
}
