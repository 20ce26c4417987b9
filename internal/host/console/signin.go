package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/sous-run/sous/internal/host/api"
)

// links holds one-time sign-in codes: each maps to a token, is used at most once
// and expires after ttl. Codes are 256 random bits, so guessing one is hopeless.
type links struct {
	ttl   time.Duration
	mu    sync.Mutex
	codes map[string]link
}

type link struct {
	token   string
	expires time.Time
}

func newLinks(ttl time.Duration) *links { return &links{ttl: ttl, codes: map[string]link{}} }

// SignInLink returns the path (under the host's address) of a one-time link that
// signs the browser in with token. The code travels in the URL fragment, which
// browsers never send to a server or in a Referer.
func (c *Console) SignInLink(token string) string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	code := hex.EncodeToString(b[:])
	c.links.mu.Lock()
	defer c.links.mu.Unlock()
	now := time.Now()
	for k, l := range c.links.codes {
		if now.After(l.expires) {
			delete(c.links.codes, k)
		}
	}
	c.links.codes[code] = link{token: token, expires: now.Add(c.links.ttl)}
	return Path + "#signin=" + code
}

// redeem returns the token of code and forgets the code.
func (l *links) redeem(code string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, v := range l.codes {
		if subtle.ConstantTimeCompare([]byte(k), []byte(code)) == 1 {
			delete(l.codes, k)
			return v.token, time.Now().Before(v.expires)
		}
	}
	return "", false
}

type signInRequest struct {
	Code string `json:"code"`
}

type signInResponse struct {
	Token string `json:"token"`
}

// signIn: POST /console/api/signin {"code"} -> {"token"}, once per code.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	var req signInRequest
	if !api.DecodeJSON(w, r, &req) {
		return
	}
	tok, ok := c.links.redeem(req.Code)
	if !ok {
		api.WriteError(w, r, http.StatusUnauthorized, "invalid_signin_link",
			"this sign-in link is unknown, used already or expired (links work once, for 10 minutes); restart `sous dev` for a new one, or paste a token")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, signInResponse{Token: tok})
}
