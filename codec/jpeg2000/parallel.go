package jpeg2000

import (
	"sync"
	"sync/atomic"
)

// worker is one goroutine's scratch space: its tier-1 state and the
// wavelet's and the output's lines.
type worker struct {
	t1     t1
	ht     htState // HTJ2K's block coder
	line   []int32
	fline  []float32
	strip  []int32
	fstrip []float32
}

// SetThreads sets how many goroutines decode a frame: its code-blocks,
// wavelet rows and columns, and output rows. 0 or 1 decodes on the
// caller's goroutine. The output never depends on it: every goroutine
// writes its own coefficients and samples with the same arithmetic.
// Callers decoding several frames at once should keep it at 1.
func (d *Decoder) SetThreads(n int) { d.threads = max(1, n) }

// workers returns n workers' scratch spaces, at least one.
func (d *Decoder) workers(n int) []*worker {
	n = max(1, n)
	for len(d.ws) < n {
		d.ws = append(d.ws, new(worker))
	}
	return d.ws[:n]
}

// parallel splits [0, n) into contiguous ranges and runs fn on each, one
// per worker, when the work is worth goroutines (n at least min per
// worker); fn gets its worker's scratch space.
func (d *Decoder) parallel(n, minPer int, fn func(w *worker, lo, hi int)) {
	k := min(d.threads, max(1, n/max(1, minPer)))
	ws := d.workers(k)
	if k <= 1 {
		fn(ws[0], 0, n)
		return
	}
	var g group
	for i := 1; i < k; i++ {
		g.go_(func() { fn(ws[i], n*i/k, n*(i+1)/k) })
	}
	fn(ws[0], 0, n/k)
	g.wait()
}

// group runs goroutines and passes a panic of any of them on to the
// goroutine that waits, where the caller's recovery can see it: a panic
// in a goroutine of its own would end the process.
type group struct {
	wg  sync.WaitGroup
	mu  sync.Mutex
	err any
}

func (g *group) go_(fn func()) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				g.mu.Lock()
				g.err = r
				g.mu.Unlock()
			}
		}()
		fn()
	}()
}

func (g *group) wait() {
	g.wg.Wait()
	if g.err != nil {
		panic(g.err)
	}
}

// each runs fn(w, i) for every i in [0, n), taken in turn by the workers:
// for items of uneven cost, such as code-blocks.
func (d *Decoder) each(n int, fn func(w *worker, i int)) {
	k := min(d.threads, n)
	ws := d.workers(k)
	if k <= 1 {
		for i := range n {
			fn(ws[0], i)
		}
		return
	}
	var next atomic.Int64
	run := func(w *worker) {
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return
			}
			fn(w, i)
		}
	}
	var g group
	for i := 1; i < k; i++ {
		g.go_(func() { run(ws[i]) })
	}
	run(ws[0])
	g.wait()
}
