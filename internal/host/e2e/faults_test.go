package e2e

import (
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/control"
	"github.com/sous-run/sous/internal/testenv"
)

// TestHostKilledUnderLoadForgetsNoID: the host is SIGKILLed at a random moment while 50
// async invocations arrive (after 1 to 40 answers), twice, and restarted on the same
// data dir. Every id it answered 202 for reaches a final status afterwards; none is 404
// (records are on disk before the answer).
func TestHostKilledUnderLoadForgetsNoID(t *testing.T) {
	rs := testenv.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	s := newStack(t, redisYAML(rs.URL, "10s"))
	host := s.start("all", "all")
	s.deploy("hello-python")
	c := s.client()
	var ids []string
	for r := range 2 {
		got, answered := make(chan []string), make(chan struct{}, 50)
		go func() { got <- fireAsyncNotify(c, "hello-python", []byte(`{"name":"durable"}`), 50, answered) }()
		for range 1 + rand.IntN(40) { // a random moment: after 1 to 40 answers
			<-answered
		}
		host.kill()
		round := <-got
		t.Logf("round %d: host killed after %d of 50 ids were answered", r, len(round))
		ids = append(ids, round...)
		host = s.restart(host)
	}
	res := settle(t, c, ids, 90*time.Second)
	t.Logf("host SIGKILL: %s", res)
	if len(res.Lost) > 0 || len(res.Open) > 0 {
		t.Fatalf("ids answered 202 and then lost (404): %v; never final: %v (%s)", res.Lost, res.Open, res)
	}
	if res.User > 0 {
		t.Fatalf("runs lost to the kill were blamed on the function:\n%s", res.userFailures())
	}
}

// TestPluginKilledUnderLoadIsInfra: the executor plugin, then the messaging plugin (on
// the default stack: codeQ's embedded broker), is SIGKILLed while 40 invocations run or
// wait; the host restarts it. Every invocation ends, and none is blamed on the
// function: it succeeded (retried) or failed as infra.
func TestPluginKilledUnderLoadIsInfra(t *testing.T) {
	rs := testenv.StartRedis(t)
	t.Run("redis", func(t *testing.T) {
		killPluginsUnderLoad(t, redisYAML(rs.URL, "20s"), "executor-python", "messaging-redis")
	})
	t.Run("codeq", func(t *testing.T) { killPluginsUnderLoad(t, codeqYAML(t), "executor-python", "messaging-codeq") })
}

func killPluginsUnderLoad(t *testing.T, yaml string, plugins ...string) {
	s := newStack(t, yaml)
	host := s.start("all", "all")
	s.deploy("slow")
	c := s.client()
	for _, plugin := range plugins {
		t.Run(plugin, func(t *testing.T) {
			got := make(chan []string)
			go func() { got <- fireAsync(c, "slow", []byte(`{"ms":300}`), 40) }()
			time.Sleep(700 * time.Millisecond)
			_ = syscall.Kill(pluginPid(t, host, plugin), syscall.SIGKILL)
			res := settle(t, c, <-got, 120*time.Second)
			t.Logf("%s SIGKILL: %s", plugin, res)
			if res.User > 0 {
				t.Fatalf("runs lost to the %s restart were blamed on the function:\n%s", plugin, res.userFailures())
			}
			if len(res.Lost) > 0 || len(res.Open) > 0 || res.Other > 0 {
				t.Fatalf("after the %s restart: %s", plugin, res)
			}
		})
	}
}

// TestQueueLostTasksAreNamed: Redis (an ACL user with a password, no persistence)
// restarts while 20 accepted invocations wait in its queue. Within lost_after the
// records fail as infra with a message saying the queue lost them, instead of a
// timeout ten minutes later. The drivers log in with the password again afterwards.
func TestQueueLostTasksAreNamed(t *testing.T) {
	rs := testenv.StartRedis(t, "--user", "default", "off", "--user", "sous", "on", ">e2e-secret", "~*", "&*", "+@all")
	url := strings.Replace(rs.URL, "redis://", "redis://sous:e2e-secret@", 1)
	s := newStack(t, redisYAML(url, "10s")+"  # lost tasks are named within seconds\n")
	s.start("control", "control", "invoke.lost_after=3s")
	s.deploy("hello-python")
	c := s.client()
	ids := fireAsync(c, "hello-python", nil, 20) // no worker yet: they wait in Redis
	if len(ids) != 20 {
		t.Fatalf("only %d of 20 invocations were accepted", len(ids))
	}
	rs.Kill()
	rs.Start()
	start := time.Now()
	res := settle(t, c, ids, 60*time.Second)
	t.Logf("Redis restarted without persistence: %s in %s", res, time.Since(start).Round(time.Second))
	if res.Infra != len(ids) {
		t.Fatalf("want all %d records failed as infra: %s", len(ids), res)
	}
	for id, rec := range res.Records {
		if !strings.Contains(errorOf(rec), control.LostMessage) {
			t.Fatalf("record %s does not say the queue lost it: %s", id, errorOf(rec))
		}
	}
	s.start("w1", "worker")
	after := settle(t, c, fireAsync(c, "hello-python", nil, 3), 60*time.Second)
	if after.Succeeded != 3 {
		t.Fatalf("after the restart, with the password: %s", after)
	}
}

// TestRedisKilledWithPersistenceLosesNothing: Redis with appendonly (as configs/redis.yaml
// advises) is SIGKILLed while 40 invocations run or wait, and restarted: every
// accepted invocation still ends, none lost and none blamed on the function.
func TestRedisKilledWithPersistenceLosesNothing(t *testing.T) {
	rs := testenv.StartRedis(t, "--appendonly", "yes")
	s := newStack(t, redisYAML(rs.URL, "20s"))
	s.start("all", "all")
	s.deploy("slow")
	c := s.client()
	got := make(chan []string)
	go func() { got <- fireAsync(c, "slow", []byte(`{"ms":300}`), 40) }()
	time.Sleep(700 * time.Millisecond)
	rs.Kill()
	time.Sleep(500 * time.Millisecond)
	rs.Start()
	res := settle(t, c, <-got, 120*time.Second)
	t.Logf("Redis SIGKILL with appendonly: %s", res)
	if res.User > 0 || len(res.Lost) > 0 || len(res.Open) > 0 || res.Other > 0 || res.Succeeded+res.Infra != res.Accepted {
		t.Fatalf("after the Redis restart: %s\n%s", res, res.userFailures())
	}
}
