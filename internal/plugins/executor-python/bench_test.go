package main

import (
	"testing"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk/plugintest"
)

func benchRuntime(b *testing.B) plugintest.BenchRuntime {
	return plugintest.BenchRuntime{
		Runtime: "python", Entry: "main.py", Ext: "py",
		Trivial:     "def handler(input, ctx):\n    return input\n",
		Interp:      []string{testenv.Python(b), "-u"},
		EchoScript:  "import os, sys\nr = sys.stdin.buffer\nwhile True:\n    line = r.readline()\n    if not line:\n        break\n    os.write(1, line)\n",
		PlainScript: "x = 1\n",
	}
}

func BenchmarkWarm(b *testing.B)       { plugintest.BenchWarm(b, target(b), benchRuntime(b)) }
func BenchmarkColdStart(b *testing.B)  { plugintest.BenchCold(b, target(b), benchRuntime(b)) }
func BenchmarkThroughput(b *testing.B) { plugintest.BenchThroughput(b, target(b), benchRuntime(b)) }

// BenchmarkSandbox: warm and cold with the sandbox on vs off, in the same run.
func BenchmarkSandbox(b *testing.B) {
	plugintest.BenchSandbox(b, targetWith(b, "required"), targetWith(b, "none"), benchRuntime(b))
}
