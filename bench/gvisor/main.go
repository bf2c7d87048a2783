// synack-gvisor-bench: gVisor's netstack (gvisor.dev/gvisor/pkg/tcpip) on
// the workloads of synack-bench (bench/*.c), printing the same JSON lines
// with "impl":"gvisor".  synack-bench runs it as a peer (b_gvisor.c), one
// workload per process so that one workload's heap does not weigh on the
// next one's figures.
//
// The in-memory workloads wire two stacks through link/channel endpoints:
// 10.1.0.0/16 (the clients) and 10.2.0.1 (the server, eight listeners).  One
// goroutine pair moves the packets, one per direction: what a stack queued
// on its channel endpoint is copied into a fresh packet and injected into
// the other stack.  The application is one goroutine that runs an event
// loop over gVisor's endpoint API (non-blocking calls, waiter.Queue
// callbacks), like the C peers' loops; gVisor's own TCP processor
// goroutines do the protocol work.
//
// The tap workload runs in a network namespace synack-bench creates: the
// fdbased link on a TAP device against the Linux kernel's TCP, bulk in
// both directions.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	bench    string
	inflight int
	budget   float64
	reps     int
	bytes    uint64
	conns    int
	scale    []int
	maxRSS   uint64
	msgs     int
	procs    int
	tapName  string
	tapPeer  string
	dir      string
}

var opt options

// ------------------------------------------------------------------
// Output: the JSON lines of synack-bench (main.c print_json).

type result struct {
	Bench   string   `json:"bench"`
	Impl    string   `json:"impl"`
	Variant string   `json:"variant"`
	Metric  string   `json:"metric"`
	Value   *float64 `json:"value"`
	Skipped bool     `json:"skipped,omitempty"`
	Note    string   `json:"note,omitempty"`
	Dir     string   `json:"dir,omitempty"`
}

var out = bufio.NewWriter(os.Stdout)

func emit(r result) {
	r.Impl = "gvisor"
	b, err := json.Marshal(r)
	if err != nil {
		fatalf("json: %v", err)
	}
	out.Write(b)
	out.WriteByte('\n')
	out.Flush()
}

func add(bench, variant, metric string, v float64, note string, args ...interface{}) {
	if len(args) > 0 {
		note = fmt.Sprintf(note, args...)
	}
	emit(result{Bench: bench, Variant: variant, Metric: metric, Value: &v, Note: note})
}

func skip(bench, variant, metric, note string, args ...interface{}) {
	emit(result{Bench: bench, Variant: variant, Metric: metric, Skipped: true,
		Note: fmt.Sprintf(note, args...)})
}

func remark(note string, args ...interface{}) {
	b, _ := json.Marshal(map[string]string{"remark": fmt.Sprintf(note, args...), "impl": "gvisor"})
	out.Write(b)
	out.WriteByte('\n')
	out.Flush()
}

func logf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "synack-bench: gvisor "+format+"\n", args...)
}

func fatalf(format string, args ...interface{}) {
	logf(format, args...)
	os.Exit(1)
}

// ------------------------------------------------------------------
// Clocks and memory.

func wallNs() int64 { return time.Now().UnixNano() }

// cpuNs is the CPU time of the whole process (user + system, every
// thread): gVisor's processor goroutines, the pair moving packets, the
// event loop and the Go runtime (garbage collector included).
func cpuNs() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// rss is the process's resident set size in bytes (/proc/self/statm).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// heapLive collects the garbage and returns the bytes of live heap
// objects (runtime/metrics /memory/classes/heap/objects:bytes).
func heapLive() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func median(v []float64) float64 {
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	return c[len(c)/2]
}

func parseList(s string) []int {
	var r []int
	for _, f := range strings.Split(s, ",") {
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			fatalf("bad count %q in %q", f, s)
		}
		r = append(r, n)
	}
	return r
}

func main() {
	var scale string
	flag.StringVar(&opt.bench, "bench", "", "lifecycle, bulk, memory, scale, tap (or tap-peer)")
	flag.IntVar(&opt.inflight, "inflight", 1, "lifecycle: connections in flight")
	flag.Float64Var(&opt.budget, "budget", 1, "lifecycle: wall seconds of one run")
	flag.IntVar(&opt.reps, "reps", 1, "repetitions (the median is kept)")
	flag.Uint64Var(&opt.bytes, "bytes", 1<<30, "bulk, tap: bytes to move")
	flag.IntVar(&opt.conns, "conns", 10000, "memory: connections")
	flag.StringVar(&scale, "scale", "1000,1000000", "scale: connection counts")
	flag.Uint64Var(&opt.maxRSS, "max-rss", 4<<30, "scale: stop before the RSS would pass this")
	flag.IntVar(&opt.msgs, "msgs", 200000, "scale: echoes measured")
	flag.IntVar(&opt.procs, "procs", 1, "GOMAXPROCS (1: one core, as synack and lwIP)")
	flag.StringVar(&opt.tapName, "tap", "", "tap: the TAP device")
	flag.StringVar(&opt.tapPeer, "tap-peer", "", "tap: the kernel's address:port")
	flag.StringVar(&opt.dir, "dir", "", "tap-peer: tx (the kernel receives) or rx (it sends)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here (go tool pprof)")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fatalf("%v", err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	opt.scale = parseList(scale)
	if opt.reps < 1 || opt.reps > 9 {
		fatalf("-reps must be 1..9")
	}
	runtime.GOMAXPROCS(opt.procs)
	switch opt.bench {
	case "lifecycle":
		benchLifecycle()
	case "bulk":
		benchBulk()
	case "memory":
		benchMemory()
	case "scale":
		benchScale()
	case "tap":
		benchTap()
	case "tap-peer":
		tapPeer()
	default:
		fmt.Fprintln(os.Stderr, "usage: synack-gvisor-bench -bench lifecycle|bulk|memory|scale|tap [flags]")
		flag.PrintDefaults()
		os.Exit(2)
	}
	out.Flush()
}
