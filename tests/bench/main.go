// Command bench times dicom-remap against its peers, side by side in one
// run, on data it generates (no downloads, no patient data):
//
//	go run ./tests/bench            # full sizes, README's figures
//	go run ./tests/bench -small     # tiny sizes: proves the harness works
//
// Peers, each run as a whole process: dicom-remap; a port of the paper's
// pydicom+numpy script (a speed peer only: its output is invalid); dcmtk's
// dcmconv reading and rewriting the file without remapping (the C++ I/O
// floor); cp (the copy floor). Each is warmed up once, then run -runs times;
// the table gives min/median/max wall time, peak RSS, throughput and the
// ratio of each peer's median to dicom-remap's. Results are printed and
// written as results.md and results.json in -out.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/dicom-remap/dicom-remap/internal/fixture"
)

type dataset struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	path   string // a file, or a directory of files for a series
	series bool
	// For a compressed file: dcmtk's decompressor, and the size of one
	// decoded frame (the memory bound allows a few).
	decompressor string
	FrameBytes   int64 `json:"decoded_frame_bytes,omitempty"`
	// For JPEG 2000: a directory holding each frame's codestream, which
	// the codec-only peers (OpenJPEG, Grok) decode, and the frame count.
	codestreams string
	Frames      int `json:"frames,omitempty"`
	// For a JPEG 2000 or HTJ2K file: its frame's codestream, which the C
	// and C++ decoders read.
	codestream string
}

// Timing is one peer on one dataset.
type Timing struct {
	Dataset string    `json:"dataset"`
	Peer    string    `json:"peer"`
	Runs    int       `json:"runs"`
	Seconds []float64 `json:"seconds"`
	Min     float64   `json:"min_s"`
	Median  float64   `json:"median_s"`
	Max     float64   `json:"max_s"`
	PeakRSS int64     `json:"peak_rss_bytes"`
	// CPU is the median run's user + system seconds (GNU time), 0 unknown.
	CPU       float64 `json:"cpu_s,omitempty"`
	cpus      []float64
	MBps      float64 `json:"mb_per_s"`
	RSSRatio  float64 `json:"rss_over_input"`
	VsRemap   float64 `json:"median_over_dicom_remap"`
	Skipped   string  `json:"skipped,omitempty"`
	InputSize int64   `json:"input_bytes"`
	// FrameBytes is one decoded frame of a compressed input, else 0.
	FrameBytes int64 `json:"decoded_frame_bytes,omitempty"`
}

// Report is the whole result.
type Report struct {
	Date     string    `json:"date"`
	Machine  string    `json:"machine"`
	Small    bool      `json:"small"`
	Datasets []dataset `json:"datasets"`
	Timings  []Timing  `json:"timings"`
	Targets  []Target  `json:"targets"`
}

// Target is one goal of the performance issue, judged on this run's medians.
type Target struct {
	Goal  string  `json:"goal"`
	Value float64 `json:"value"`
	Want  string  `json:"want"`
	Met   bool    `json:"met"`
}

// targets judges the run against the performance goals; a goal whose peers
// did not run is left out.
func targets(rep Report) []Target {
	find := func(dataset, peer string) *Timing {
		for i, t := range rep.Timings {
			if strings.HasPrefix(t.Dataset, dataset) && t.Peer == peer && t.Skipped == "" && t.Median > 0 {
				return &rep.Timings[i]
			}
		}
		return nil
	}
	var out []Target
	ratio := func(goal, want string, a, b *Timing, atLeast bool, limit float64) {
		if a == nil || b == nil {
			return
		}
		v := a.Median / b.Median
		met := v >= limit
		if !atLeast {
			met = v <= limit
		}
		out = append(out, Target{goal, v, want, met})
	}
	slice, frames := "ct-slice-", "multiframe-"
	ratio("slice: paper peer / dicom-remap", ">= 50", find(slice, "paper (pydicom+numpy)"), find(slice, "dicom-remap"), true, 50)
	ratio("multi-frame: paper peer / dicom-remap", ">= 5", find(frames, "paper (pydicom+numpy)"), find(frames, "dicom-remap"), true, 5)
	ratio("multi-frame: dcmconv / dicom-remap", ">= 1", find(frames, "dcmconv (copy, no remap)"), find(frames, "dicom-remap"), true, 1)
	ratio("multi-frame: dicom-remap / cp", "<= 3", find(frames, "dicom-remap"), find(frames, "cp"), false, 3)
	ratio("series: 1 worker / 2 workers", ">= 1.7", find("series-", "dicom-remap series, 1 worker(s)"), find("series-", "dicom-remap series, 2 worker(s)"), true, 1.7)
	ratio("multi-frame: --percentiles / min-max", "<= 1.1", find(frames, "dicom-remap --percentiles 0.5:99.5"), find(frames, "dicom-remap"), false, 1.1)
	ratio("series: --learn-landmarks / --print-range min-max, 1 worker", "<= 1.5", find("series-", "dicom-remap --learn-landmarks, 1 worker"), find("series-", "dicom-remap --print-range (min/max), 1 worker"), false, 1.5)
	ratio("series: --percentiles / min-max, 1 worker", "<= 1.1", find("series-", "dicom-remap series --percentiles 0.5:99.5, 1 worker"), find("series-", "dicom-remap series, 1 worker(s)"), false, 1.1)
	for _, d := range rep.Datasets {
		if d.decompressor != "" {
			faster := find(d.Name, "dcmtk "+d.decompressor)
			if g := find(d.Name, "gdcmconv --raw"); faster == nil || g != nil && g.Median < faster.Median {
				faster = g
			}
			ratio(d.Name+": faster of dcmtk and GDCM decompressing / dicom-remap", ">= 1", faster, find(d.Name, "dicom-remap"), true, 1)
		}
	}
	for _, d := range rep.Datasets {
		if d.codestreams == "" {
			continue
		}
		// JPEG 2000: at most OpenJPEG's wall and CPU time (issue 22)
		us, opj := find(d.Name, "dicom-remap"), find(d.Name, "opj_decompress")
		ratio(d.Name+": dicom-remap / opj_decompress, wall", "<= 1", us, opj, false, 1)
		if us != nil && opj != nil && us.CPU > 0 && opj.CPU > 0 {
			v := us.CPU / opj.CPU
			out = append(out, Target{d.Name + ": dicom-remap / opj_decompress, CPU", v, "<= 1", v <= 1})
		}
	}
	out = append(out, htTargets(find)...)
	for _, t := range rep.Timings {
		if t.Peer == "dicom-remap" && t.PeakRSS > 0 {
			if t.FrameBytes > 0 {
				mib := float64(t.PeakRSS-t.InputSize-decodedFrames*t.FrameBytes) / (1 << 20)
				out = append(out, Target{fmt.Sprintf("%s: peak RSS - input size - %d decoded frames, MiB", t.Dataset, decodedFrames), mib, "<= 32", mib <= 32})
				continue
			}
			mib := float64(t.PeakRSS-t.InputSize) / (1 << 20)
			out = append(out, Target{t.Dataset + ": peak RSS - input size, MiB", mib, "<= 32", mib <= 32})
		}
	}
	return out
}

// decodedFrames is how many decoded frames the memory bound of a
// compressed input allows: each worker holds one and two read ahead.
const decodedFrames = 6

func main() {
	small := flag.Bool("small", false, "tiny sizes and 2 runs: proves the harness, measures nothing")
	runs := flag.Int("runs", 5, "timed runs per peer after one warm-up")
	out := flag.String("out", "bench-results", "directory for results.md and results.json")
	only := flag.String("only", "", "run only the datasets whose name contains this (or one of these, comma-separated)")
	keep := flag.Bool("keep", false, "keep the generated data and binary, and print where (for profiling by hand)")
	flag.Parse()
	if *small {
		*runs = 2
	}
	if err := run(*small, *runs, *out, *only, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(small bool, runs int, outDir, only string, keep bool) error {
	work, err := os.MkdirTemp("", "dicom-remap-bench-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintln(os.Stderr, "bench: data and binary kept in", work)
	} else {
		defer os.RemoveAll(work)
	}
	bin := filepath.Join(work, "dicom-remap")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/dicom-remap")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	sets, err := generate(work, small)
	if err != nil {
		return err
	}
	syscall.Sync() // the generated data goes to disk now, not during a timed run
	script, _ := filepath.Abs(filepath.Join("tests", "bench", "paper_normalize_scan.py"))
	rep := Report{Date: time.Now().UTC().Format("2006-01-02"), Machine: machine(), Small: small, Datasets: sets}
	for _, d := range sets {
		if !slices.ContainsFunc(strings.Split(only, ","), func(o string) bool { return strings.Contains(d.Name, o) }) {
			continue
		}
		peers := []peer{
			{"dicom-remap", func(o string) []string { return []string{bin, "--force", "-q", d.path, o, "0", "100"} }, ""},
			// A robust range: a histogram instead of the extremes.
			{"dicom-remap --percentiles 0.5:99.5", func(o string) []string {
				return []string{bin, "--force", "-q", "--percentiles", "0.5:99.5", d.path, o, "0", "100"}
			}, ""},
			{"paper (pydicom+numpy)", func(o string) []string { return []string{"/usr/bin/python3", script, d.path, o, "0", "100"} }, needPython()},
			{"dcmconv (copy, no remap)", func(o string) []string { return []string{"dcmconv", d.path, filepath.Join(o, "copy.dcm")} }, needTool("dcmconv")},
			{"cp", func(o string) []string { return []string{"cp", d.path, filepath.Join(o, "copy.dcm")} }, ""},
			// The floor of any dicom-remap run: the Go runtime and the
			// DICOM library's init (its tag dictionary), then exit.
			{"dicom-remap --version (start-up only)", func(string) []string { return []string{bin, "--version"} }, ""},
		}
		switch {
		case d.codestreams != "":
			// JPEG 2000: dicom-remap decoding, remapping and writing the
			// DICOM file, against GDCM decompressing it and against the C
			// and C++ codecs decoding its frames' bare codestreams, all
			// frames in one process (-ImgDir, -y)
			peers = []peer{
				peers[0],
				{"gdcmconv --raw", func(o string) []string { return []string{"gdcmconv", "--raw", d.path, filepath.Join(o, "raw.dcm")} }, needTool("gdcmconv")},
				// -ImgDir writes next to its input: decode a copy (a few MB)
				{"opj_decompress", opjDir(d.codestreams, ""), needTool("opj_decompress")},
				{"opj_decompress -threads 2", opjDir(d.codestreams, "-threads 2"), needTool("opj_decompress")},
				{"grk_decompress -H 2", func(o string) []string {
					return []string{"grk_decompress", "-H", "2", "-y", d.codestreams, "-O", "RAW", "-a", o}
				}, needTool("grk_decompress")},
			}
		case d.decompressor != "":
			// Decoding, remapping and writing, against the toolkits merely
			// decompressing the same file.
			peers = []peer{
				peers[0],
				{"dcmtk " + d.decompressor, func(o string) []string { return []string{d.decompressor, d.path, filepath.Join(o, "raw.dcm")} }, needTool(d.decompressor)},
				{"gdcmconv --raw", func(o string) []string { return []string{"gdcmconv", "--raw", d.path, filepath.Join(o, "raw.dcm")} }, needTool("gdcmconv")},
			}
		}
		if d.codestream != "" {
			peers = codestreamPeers(bin, d)
		}
		if d.series {
			// Series mode in one process, with 1 and 2 workers; and one
			// process per file, as the paper's script is run.
			peers = []peer{
				{"dicom-remap series, 1 worker(s)", seriesMode(bin, d.path, 1), ""},
				{"dicom-remap series, 2 worker(s)", seriesMode(bin, d.path, 2), ""},
				{"dicom-remap series --percentiles 0.5:99.5, 1 worker", func(o string) []string {
					return []string{bin, "-q", "--workers", "1", "--percentiles", "0.5:99.5", d.path, o, "0", "100"}
				}, ""},
				// Histogram standardization's learning pass against measuring
				// the min/max range of the same series (issue 21: <= 1.5x).
				{"dicom-remap --print-range (min/max), 1 worker", func(o string) []string {
					return []string{bin, "--workers", "1", "--print-range", d.path}
				}, ""},
				{"dicom-remap --learn-landmarks, 1 worker", func(o string) []string {
					return []string{bin, "--workers", "1", "--learn-landmarks", filepath.Join(o, "landmarks.json"), d.path}
				}, ""},
				{"dicom-remap per file, 1 process at a time", seriesCmd(bin, d.path), ""},
				{"cp -r", func(o string) []string { return []string{"cp", "-r", d.path, filepath.Join(o, "copy")} }, ""},
			}
		}
		var base float64
		for _, p := range peers {
			t := Timing{Dataset: d.Name, Peer: p.name, InputSize: d.Bytes, Skipped: p.skip, FrameBytes: d.FrameBytes}
			if p.skip == "" {
				if err := measure(&t, work, p.cmd, runs); err != nil {
					return fmt.Errorf("%s on %s: %w", p.name, d.Name, err)
				}
				if strings.HasPrefix(p.name, "dicom-remap") && base == 0 {
					base = t.Median
				}
				if base > 0 {
					t.VsRemap = t.Median / base
				}
			}
			rep.Timings = append(rep.Timings, t)
			fmt.Fprintf(os.Stderr, "bench: %-22s %-28s %s\n", d.Name, p.name, summary(t))
		}
	}
	return writeReport(rep, outDir)
}

// peer is one command timed on a dataset; cmd gives its arguments for an
// output directory, skip says why it cannot run here.
type peer struct {
	name string
	cmd  func(outdir string) []string
	skip string
}

// opjDir decodes every codestream of dir with one opj_decompress process.
func opjDir(dir, opts string) func(string) []string {
	return func(o string) []string {
		return []string{"sh", "-c", `cp -r "$0" "$1/in" && opj_decompress ` + opts + ` -ImgDir "$1/in" -OutFor RAW >/dev/null 2>&1`, dir, o}
	}
}

// seriesMode runs dicom-remap on the series directory with w workers.
func seriesMode(bin, dir string, w int) func(string) []string {
	return func(o string) []string { return []string{bin, "-q", "--workers", fmt.Sprint(w), dir, o, "0", "100"} }
}

// seriesCmd runs dicom-remap once per file of a series, one process at a
// time, as a script so that it is one timed process tree.
func seriesCmd(bin, dir string) func(string) []string {
	return func(o string) []string {
		return []string{"sh", "-c", `ls "$0" | xargs -I{} "$1" --force -q "$0/{}" "$2" 0 100`, dir, bin, o}
	}
}

// timeTool is GNU time, which measures peak RSS; without it RSS is 0.
var timeTool = func() string {
	if p, err := exec.LookPath("/usr/bin/time"); err == nil {
		return p
	}
	return ""
}()

// quickRun is the time under which a peer gets quickRuns timed runs instead
// of runs: a few milliseconds swing more between runs.
const (
	quickRun  = 0.05
	quickRuns = 21
)

func measure(t *Timing, work string, cmd func(string) []string, runs int) error {
	for i := -1; i < runs; i++ { // i = -1 is the warm-up
		o, err := os.MkdirTemp(work, "out-")
		if err != nil {
			return err
		}
		args := cmd(o)
		// GNU time reports the peak RSS of the measured process itself: the
		// rusage of a child forked from this large process would start at
		// this process's size.
		rssFile := filepath.Join(work, "rss")
		if timeTool != "" {
			args = append([]string{timeTool, "-f", "%M %U %S", "-o", rssFile}, args...)
		}
		c := exec.Command(args[0], args[1:]...)
		var stderr strings.Builder
		c.Stderr = &stderr
		start := time.Now()
		err = c.Run()
		elapsed := time.Since(start).Seconds()
		if err != nil {
			return fmt.Errorf("%v: %s", err, stderr.String())
		}
		if data, err := os.ReadFile(rssFile); err == nil && i >= 0 {
			var kb int64
			var user, sys float64
			fmt.Sscan(strings.TrimSpace(string(data)), &kb, &user, &sys)
			t.PeakRSS = max(t.PeakRSS, kb*1024)
			t.cpus = append(t.cpus, user+sys)
		}
		// Each run starts from a quiet disk: no run pays for the writeback
		// of the one before (for every peer alike).
		os.RemoveAll(o)
		syscall.Sync()
		if i == -1 && elapsed < quickRun && runs > 2 {
			runs = max(runs, quickRuns)
		}
		if i >= 0 {
			t.Seconds = append(t.Seconds, elapsed)
		}
	}
	s := slices.Clone(t.Seconds)
	slices.Sort(s)
	t.Runs, t.Min, t.Max = len(s), s[0], s[len(s)-1]
	t.Median = s[len(s)/2]
	if len(s)%2 == 0 {
		t.Median = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	if len(t.cpus) > 0 {
		c := slices.Clone(t.cpus)
		slices.Sort(c)
		t.CPU = c[len(c)/2]
	}
	t.MBps = float64(t.InputSize) / 1e6 / t.Median
	t.RSSRatio = float64(t.PeakRSS) / float64(t.InputSize)
	return nil
}

func summary(t Timing) string {
	if t.Skipped != "" {
		return "skipped: " + t.Skipped
	}
	return fmt.Sprintf("median %.3fs (min %.3f, max %.3f), CPU %.3fs, %.0f MB/s, peak RSS %.1f MB, x%.2f of dicom-remap",
		t.Median, t.Min, t.Max, t.CPU, t.MBps, float64(t.PeakRSS)/1e6, t.VsRemap)
}

func needPython() string {
	if exec.Command("/usr/bin/python3", "-c", "import pydicom, numpy").Run() != nil {
		return "/usr/bin/python3 with python3-pydicom and python3-numpy not installed"
	}
	return ""
}

func needTool(name string) string {
	if _, err := exec.LookPath(name); err != nil {
		return name + " not installed"
	}
	return ""
}

func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s/%s, %d cores, %s, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpu, runtime.Version())
}

// generate writes the benchmark inputs with the project's own generator.
func generate(work string, small bool) ([]dataset, error) {
	scale := func(full, tiny int) int {
		if small {
			return tiny
		}
		return full
	}
	slice, frames, xray, rgb := scale(512, 64), scale(300, 4), scale(3000, 100), scale(1024, 32)
	files := []struct {
		name string
		spec fixture.Spec
	}{
		{fmt.Sprintf("ct-slice-%d", slice), fixture.CTSlice(slice, slice, 0, "1", "1")},
		{fmt.Sprintf("multiframe-%dx%dx%d", slice, slice, frames), fixture.CTSlice(slice, slice, frames, "1", "1")},
		{fmt.Sprintf("radiograph-%d", xray), fixture.Radiograph(xray)},
		{fmt.Sprintf("rgb-%d", rgb), fixture.RGB(rgb)},
	}
	var sets []dataset
	for _, f := range files {
		path := filepath.Join(work, f.name+".dcm")
		data := fixture.Build(f.spec)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
		sets = append(sets, dataset{Name: f.name, Bytes: int64(len(data)), path: path})
	}
	compressed, err := generateCompressed(work, small)
	if err != nil {
		return nil, err
	}
	sets = append(sets, compressed...)
	j2k, err := generateJ2K(work, small)
	if err != nil {
		return nil, err
	}
	sets = append(sets, j2k...)
	ht, err := generateHTJ2K(work, small)
	if err != nil {
		return nil, err
	}
	sets = append(sets, ht...)
	dir := filepath.Join(work, "series")
	os.MkdirAll(dir, 0o755)
	var total int64
	n, size := scale(300, 6), scale(512, 32)
	for i := 1; i <= n; i++ {
		spec := fixture.CTSlice(size, size, 0, fmt.Sprint(i), "1")
		spec.Values = fixture.Phantom(size, size, 1, -1024+int64(i%7)*10, 1500+int64(i%11)*100)
		data := fixture.Build(spec)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("IM%04d", i)), data, 0o644); err != nil {
			return nil, err
		}
		total += int64(len(data))
	}
	sets = append(sets, dataset{Name: fmt.Sprintf("series-%dx%d", n, size), Bytes: total, path: dir, series: true})
	return sets, nil
}

// generateCompressed compresses a multi-frame CT with dcmtk's JPEG
// Lossless SV1, RLE and JPEG-LS encoders, and a colour cine with baseline
// JPEG; without dcmtk it makes none.
func generateCompressed(work string, small bool) ([]dataset, error) {
	for _, tool := range []string{"dcmcjpeg", "dcmcrle", "dcmcjpls"} {
		if needTool(tool) != "" {
			fmt.Fprintln(os.Stderr, "bench: no compressed datasets:", needTool(tool))
			return nil, nil
		}
	}
	size, frames, cine, cineFrames := 512, 300, 1024, 60
	if small {
		size, frames, cine, cineFrames = 64, 4, 32, 3
	}
	ct := filepath.Join(work, "ct-native.dcm")
	if err := os.WriteFile(ct, fixture.Build(fixture.CTSlice(size, size, frames, "1", "1")), 0o644); err != nil {
		return nil, err
	}
	rgb := fixture.RGB(cine)
	rgb.Frames, rgb.Values = cineFrames, fixture.Phantom(cine, 3*cine, cineFrames, 0, 255)
	rgb.SOPClass = "1.2.840.10008.5.1.4.1.1.7.4" // multi-frame true colour SC: GDCM refuses frames in the single-frame class
	colour := filepath.Join(work, "cine-native.dcm")
	if err := os.WriteFile(colour, fixture.Build(rgb), 0o644); err != nil {
		return nil, err
	}
	ctName := fmt.Sprintf("%dx%dx%d", size, size, frames)
	var sets []dataset
	for _, c := range []struct {
		name, src, encoder, decompressor string
		args                             []string
		frame                            int64
	}{
		{"jpeg-lossless-sv1-" + ctName, ct, "dcmcjpeg", "dcmdjpeg", []string{"+e1"}, int64(size * size * 2)},
		{"rle-" + ctName, ct, "dcmcrle", "dcmdrle", nil, int64(size * size * 2)},
		{"jpeg-ls-" + ctName, ct, "dcmcjpls", "dcmdjpls", nil, int64(size * size * 2)},
		{fmt.Sprintf("jpeg-baseline-rgb-%dx%dx%d", cine, cine, cineFrames), colour, "dcmcjpeg", "dcmdjpeg", []string{"+eb"}, int64(cine * cine * 3)},
	} {
		path := filepath.Join(work, c.name+".dcm")
		if out, err := exec.Command(c.encoder, append(c.args, c.src, path)...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %v: %s", c.encoder, err, out)
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		sets = append(sets, dataset{Name: c.name, Bytes: st.Size(), path: path, decompressor: c.decompressor, FrameBytes: c.frame})
	}
	os.Remove(ct)
	os.Remove(colour)
	return sets, nil
}

// generateJ2K compresses, with GDCM (OpenJPEG inside), the multi-frame CT
// reversibly (5/3) and irreversibly (9/7), a radiograph and an RGB image
// as one frame each, and keeps each frame's codestream for the codec-only
// peers; without gdcmconv it makes none.
func generateJ2K(work string, small bool) ([]dataset, error) {
	if needTool("gdcmconv") != "" {
		fmt.Fprintln(os.Stderr, "bench: no JPEG 2000 datasets:", needTool("gdcmconv"))
		return nil, nil
	}
	size, frames, xray, rgb := 512, 300, 3000, 1024
	if small {
		size, frames, xray, rgb = 64, 3, 100, 32
	}
	ctName := fmt.Sprintf("%dx%dx%d", size, size, frames)
	var sets []dataset
	for _, c := range []struct {
		name  string
		spec  fixture.Spec
		args  []string
		frame int64
	}{
		{"j2k-53-ct-" + ctName, fixture.CTSlice(size, size, frames, "1", "1"), []string{"--j2k"}, int64(size * size * 2)},
		{"j2k-97-ct-" + ctName, fixture.CTSlice(size, size, frames, "1", "1"), []string{"--j2k", "--lossy", "--irreversible", "-q", "40"}, int64(size * size * 2)},
		{fmt.Sprintf("j2k-53-radiograph-%d", xray), fixture.Radiograph(xray), []string{"--j2k"}, int64(xray * xray * 2)},
		{fmt.Sprintf("j2k-53-rgb-%d", rgb), fixture.RGB(rgb), []string{"--j2k"}, int64(rgb * rgb * 3)},
	} {
		native := filepath.Join(work, c.name+"-native.dcm")
		if err := os.WriteFile(native, fixture.Build(c.spec), 0o644); err != nil {
			return nil, err
		}
		path := filepath.Join(work, c.name+".dcm")
		if out, err := exec.Command("gdcmconv", append(c.args, native, path)...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("gdcmconv: %v: %s", err, out)
		}
		os.Remove(native)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		_, frags, err := fixture.Fragments(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", c.name, err)
		}
		dir := filepath.Join(work, c.name+"-codestreams")
		os.MkdirAll(dir, 0o755)
		for i, f := range frags { // GDCM writes one fragment per frame
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d.j2k", i+1)), f, 0o644); err != nil {
				return nil, err
			}
		}
		sets = append(sets, dataset{Name: c.name, Bytes: int64(len(data)), path: path, FrameBytes: c.frame, codestreams: dir, Frames: len(frags)})
	}
	return sets, nil
}

func writeReport(rep Report, outDir string) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	rep.Targets = targets(rep)
	js, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(outDir, "results.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "Benchmark of %s on %s", rep.Date, rep.Machine)
	if rep.Small {
		md.WriteString(" (small sizes: the harness only)")
	}
	md.WriteString("\n\n| dataset | input MB | peer | median s | min s | max s | CPU s | MB/s | peak RSS MB | RSS / input | median / dicom-remap |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, t := range rep.Timings {
		if t.Skipped != "" {
			fmt.Fprintf(&md, "| %s | %.1f | %s | skipped: %s | | | | | | | |\n", t.Dataset, float64(t.InputSize)/1e6, t.Peer, t.Skipped)
			continue
		}
		fmt.Fprintf(&md, "| %s | %.1f | %s | %.3f | %.3f | %.3f | %.3f | %.0f | %.1f | %.2f | %.2f |\n", t.Dataset, float64(t.InputSize)/1e6,
			t.Peer, t.Median, t.Min, t.Max, t.CPU, t.MBps, float64(t.PeakRSS)/1e6, t.RSSRatio, t.VsRemap)
	}
	md.WriteString("\n| goal | this run | target | met |\n|---|---|---|---|\n")
	for _, t := range rep.Targets {
		met := "yes"
		if !t.Met {
			met = "no"
		}
		fmt.Fprintf(&md, "| %s | %.2f | %s | %s |\n", t.Goal, t.Value, t.Want, met)
	}
	if rep.Small {
		md.WriteString("\n(Small sizes: the verdicts mean nothing.)\n")
	}
	if err := os.WriteFile(filepath.Join(outDir, "results.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	_, err := io.WriteString(os.Stdout, md.String())
	return err
}
