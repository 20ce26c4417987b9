package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sous-run/sous/internal/testenv"
)

// TestReadmeRedisSplitRoles runs README "Topologies → Redis, split roles": a control
// and a worker `sous serve --config configs/redis.yaml` sharing one Redis (persistence,
// ACL user sous with its password from the environment) and one signing key from
// SOUS_AUTH__HS256_KEY, tokens from `sous token create`, then deploy
// and invoke through SOUS_API / SOUS_TOKEN.
func TestReadmeRedisSplitRoles(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := []string{"SOUS_AUTH__HS256_KEY=" + hex.EncodeToString(key),
		"SOUS_PLUGINS__MESSAGING__REDIS__PASSWORD=change-me", "SOUS_PLUGINS__EVENTS__REDISSTREAM__PASSWORD=change-me"}
	// The README's Redis: persistence, the default user off, a user of Sous's own.
	r := testenv.StartRedis(t, "--appendonly", "yes", "--appendfsync", "everysec",
		"--user", "default", "off", "--user", "sous", "on", ">change-me", "~*", "&*", "+@all")
	redisSets := []string{"plugins.messaging.redis.url=" + r.URL, "plugins.events.redisstream.url=" + r.URL}

	ctlDir := filepath.Join(t.TempDir(), ".sous-redis")
	ctl := launch(t, "control", ctlDir, env, append([]string{"serve", "--config", "configs/redis.yaml", "--role", "control",
		"--addr", freeAddr(t), "--data-dir", ctlDir}, testSets(t, redisSets...)...)...)
	ctl.waitAPI()

	workerToken, _ := ctl.must("token", "create", "--tenant", "default", "--scopes", "worker", "--ttl", "720h")
	wDir := filepath.Join(t.TempDir(), ".sous-worker")
	launch(t, "worker", wDir, env, append([]string{"serve", "--config", "configs/redis.yaml", "--role", "worker",
		"--data-dir", wDir, "--set", "worker.token=" + strings.TrimSpace(workerToken)},
		testSets(t, append(redisSets, "worker.control_url="+ctl.api)...)...)...)

	userToken, _ := ctl.must("token", "create", "--scopes", "deploy invoke read")
	ctl.env = append(ctl.env, "SOUS_API="+strings.TrimPrefix(ctl.api, "http://"), "SOUS_TOKEN="+strings.TrimSpace(userToken))
	if out, _ := ctl.must("deploy", "examples/functions/hello-python"); !strings.Contains(out, "deployed hello-python version 1") {
		t.Errorf("deploy printed %q", out)
	}
	if out, _ := ctl.must("invoke", "hello-python", "--data", `{"name":"split"}`); out != `{"hello":"split","runtime":"python","env":"dev"}`+"\n" {
		t.Errorf("invoke through the split stack printed %q", out)
	}
}
