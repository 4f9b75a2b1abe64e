// Package jpeg2000 decodes JPEG 2000 Part 1 (ITU-T T.800 | ISO/IEC 15444-1)
// frames, the DICOM transfer syntaxes 1.2.840.10008.1.2.4.90 (lossless)
// and .91: a raw codestream as DICOM stores it, or one wrapped in JP2
// boxes. It reads tiles and tile-parts, every progression order and POC,
// precincts, layers, SOP/EPH markers and PPM/PPT packet headers; every
// code-block style; no, derived or expounded scalar quantisation, ROI
// max-shift, the reversible 5/3 and irreversible 9/7 wavelets with any
// number of levels, RCT and ICT (so a YBR_RCT or YBR_ICT stream comes out
// as RGB), signed and unsigned components of 1 to 16 bits, one or three
// components. Components after the first may be subsampled (SIZ XRsiz,
// YRsiz): each is decoded at its own resolution and its samples are
// replicated over their XRsiz x YRsiz blocks of the reference grid, as
// OpenJPEG's upsampling does, so the frame is always full resolution.
// HTJ2K (Part 15: the CAP marker, HT code-blocks, decoded by package
// htj2k) is read too, for the transfer syntaxes .201, .202 and .203.
//
// Arithmetic is deterministic across architectures: the 9/7 wavelet and
// ICT are float32 with an explicit conversion around every product, so no
// fused multiply-add can change a result.
package jpeg2000

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/dicom-remap/dicom-remap/codec"
)

const codecName = "jpeg-2000"

func errorf(format string, args ...any) error { return codec.Errorf(codecName, format, args...) }

// Marker codes (T.800 table A.2), the byte after 0xFF.
const (
	mSOC = 0x4f
	mCAP = 0x50
	mSIZ = 0x51
	mCOD = 0x52
	mCOC = 0x53
	mTLM = 0x55
	mPLM = 0x57
	mPLT = 0x58
	mQCD = 0x5c
	mQCC = 0x5d
	mRGN = 0x5e
	mPOC = 0x5f
	mPPM = 0x60
	mPPT = 0x61
	mCRG = 0x63
	mCOM = 0x64
	mSOT = 0x90
	mSOP = 0x91
	mEPH = 0x92
	mSOD = 0x93
	mEOC = 0xd9
)

// Progression orders (T.800 table A.16).
const (
	orderLRCP = iota
	orderRLCP
	orderRPCL
	orderPCRL
	orderCPRL
)

// Code-block style flags (T.800 table A.19).
const (
	styleBypass    = 0x01
	styleReset     = 0x02
	styleTermAll   = 0x04
	styleCausal    = 0x08
	stylePredTerm  = 0x10
	styleSegSymbol = 0x20
)

const maxComps = 3

// codingStyle is what COD or COC says of one component.
type codingStyle struct {
	levels     int
	cbw, cbh   int // code-block width and height exponents
	cbStyle    byte
	reversible bool
	precincts  [33]byte // PPx | PPy<<4 per resolution
}

// quantStyle is what QCD or QCC says of one component.
type quantStyle struct {
	style int // 0 none, 1 scalar derived, 2 scalar expounded
	guard int
	n     int
	expn  [97]byte
	mant  [97]uint16
}

// poc is one progression order change.
type poc struct {
	rs, cs, le, re, ce, order int
}

// params are the coding parameters in force for a tile: the main header's,
// then those of the tile's own header.
type params struct {
	order, layers int
	mct           bool
	sop, eph      bool
	comp          [maxComps]codingStyle
	quant         [maxComps]quantStyle
	roi           [maxComps]int
	pocs          []poc
	// set by COC or QCC at the current header level, so that a COD or QCD
	// of the same level does not override them
	cocSet, qccSet [maxComps]bool
	codSeen        bool
	qcdSeen        bool
	tilePOC        bool // pocs come from the tile's header
}

// image is what SIZ says.
type image struct {
	x1, y1, x0, y0   int // Xsiz, Ysiz, XOsiz, YOsiz
	tw, th, tx0, ty0 int // XTsiz, YTsiz, XTOsiz, YTOsiz
	ncomp            int
	prec             [maxComps]int
	signed           [maxComps]bool
	dx, dy           [maxComps]int // XRsiz, YRsiz
	subsampled       bool          // some component has dx or dy above 1
	ntx, nty         int
}

// tilePart is one tile-part of the codestream.
type tilePart struct {
	tile int
	hdr  []byte // marker segments between SOT and SOD
	body []byte // after SOD
	ppm  []byte // its packet headers when the main header has PPM
}

// Decoder decodes frames; it keeps scratch buffers between calls so that a
// multi-frame image does not allocate per frame. The zero value is ready to
// use. Not safe for concurrent use.
type Decoder struct {
	img   image
	main  params
	parts []tilePart
	ppm   [][]byte // PPM segment data by Zppm

	body    []byte   // a tile's packet data, when it spans tile-parts
	hdrs    []byte   // a tile's packet headers from PPM
	ppt     []pptSeg // a tile's PPT segments
	pptData []byte   // and their data joined
	coef    []int32  // a tile's coefficients; irreversible ones as float32 (floats)
	jobs    []blockJob
	jobErrs []error // per job, when several threads decode them
	ts      tileState

	strip     stripState // a large tile's working set (strip.go)
	stripRows int        // tests: above 0, every tile decodes in strips this high; below, as a whole

	threads int       // goroutines per frame, at least 1 (SetThreads)
	ws      []*worker // their scratch spaces

	comps   [maxComps]tileComp
	precs   []precinct
	cblks   []codeBlock
	nodes   []tagNode
	frags   []fragment
	pending []int32
	order   []packetPos

	// work counts the packet loops' iterations (packets read, packets
	// skipped, empty resolutions and layers walked, code-blocks visited)
	// and t1Work the samples times coding passes tier-1 will run; both
	// are bounded by what the codestream's bytes can pay for, so that a
	// small stream cannot declare hours of work (65535 layers and 256
	// progression changes over empty resolutions, say)
	work, workMax     int
	t1Work, t1WorkMax int
	eoc               bool // the codestream ends with EOC
	csLen             int  // its length, which pays for records too

	// tracePacket, when set, learns where each packet header of a tile's
	// data lies; tests use it to move headers into PPM and PPT markers
	tracePacket func(tile, start, end int)
}

// Decode decodes one frame's compressed bytes (all fragments of the frame,
// concatenated; a trailing zero padding byte may follow the stream) into
// dst, which is exactly f.Size() bytes long.
func (d *Decoder) Decode(dst, src []byte, f codec.Frame) error {
	size := f.Size()
	if size < 0 || len(dst) != size {
		return errorf("destination of %d bytes for a frame of %d", len(dst), size)
	}
	if f.Samples != 1 && f.Samples != 3 {
		return errorf("%d samples per pixel: %w", f.Samples, codec.ErrUnsupported)
	}
	if f.Bits != 8 && f.Bits != 16 && f.Bits != 32 {
		return errorf("%d bits allocated: %w", f.Bits, codec.ErrUnsupported)
	}
	cs, err := codestream(src)
	if err != nil {
		return err
	}
	d.threads = max(1, d.threads)
	d.csLen = len(cs)
	defer d.release()
	d.work, d.workMax = 0, workBase+workPerByte*len(cs)
	d.t1Work, d.t1WorkMax = 0, t1WorkBase+t1WorkPerByte*len(cs)
	if err := d.readHeaders(cs, f); err != nil {
		return err
	}
	// tile-parts of one tile may be spread over the stream; decode tile by
	// tile, in the stream order of each tile's parts
	slices.SortStableFunc(d.parts, func(a, b tilePart) int { return a.tile - b.tile })
	ntiles := d.img.ntx * d.img.nty
	i := 0
	for t := 0; t < ntiles; t++ {
		j := i
		for j < len(d.parts) && d.parts[j].tile == t {
			j++
		}
		if j == i {
			return errorf("tile %d has no data", t)
		}
		if err := d.decodeTile(t, d.parts[i:j], dst, f); err != nil {
			return err
		}
		i = j
	}
	if d.img.subsampled {
		d.upsample(dst, f)
	}
	return nil
}

// Work budgets: a packet loop iteration is a few nanoseconds, a sample
// coding pass one to three. A valid stream spends at most a few loop
// iterations per byte (every packet takes a byte) and, at the
// compression ratios medical images use, well under a thousand sample
// passes per byte; the budgets allow many times that.
const (
	workBase      = 1 << 20
	workPerByte   = 256
	t1WorkBase    = 1 << 26
	t1WorkPerByte = 1 << 12
)

// charge adds n iterations to the frame's work and fails once the
// codestream can no longer pay for them.
func (d *Decoder) charge(n int) error {
	d.work += n
	if d.work > d.workMax {
		return errorf("packet loops need more work than %d bytes of codestream can pay for", d.workMax/workPerByte)
	}
	return nil
}

// release drops references to the caller's data.
func (d *Decoder) release() {
	clear(d.parts)
	d.parts = d.parts[:0]
	clear(d.ppm)
	d.ppm = d.ppm[:0]
	d.ts = tileState{}
}

// codestream finds the codestream in src: src itself, or the contents of
// the jp2c box of a JP2 file.
func codestream(src []byte) ([]byte, error) {
	if len(src) >= 2 && src[0] == 0xff && src[1] == mSOC {
		return src, nil
	}
	if len(src) < 12 || binary.BigEndian.Uint32(src[4:]) != 0x6a502020 {
		return nil, errorf("neither a codestream nor a JP2 file")
	}
	p := 0
	for p+8 <= len(src) {
		n := uint64(binary.BigEndian.Uint32(src[p:]))
		typ := binary.BigEndian.Uint32(src[p+4:])
		hl := uint64(8)
		if n == 1 {
			if p+16 > len(src) {
				break
			}
			n = binary.BigEndian.Uint64(src[p+8:])
			hl = 16
		} else if n == 0 {
			n = uint64(len(src) - p)
		}
		if n < hl || n > uint64(len(src)-p) {
			if typ == 0x6a703263 && n >= hl { // a jp2c box cut short: read what is there
				return src[p+int(hl):], nil
			}
			return nil, errorf("JP2 box of %d bytes overruns the data", n)
		}
		if typ == 0x6a703263 { // 'jp2c'
			return src[p+int(hl) : p+int(n)], nil
		}
		p += int(n)
	}
	return nil, errorf("JP2 file without a codestream box")
}

// readHeaders parses the main header and splits the rest into tile-parts.
func (d *Decoder) readHeaders(cs []byte, f codec.Frame) error {
	d.main = params{}
	d.eoc = false
	d.parts = d.parts[:0]
	d.ppm = d.ppm[:0]
	p := 2
	sawSIZ := false
	for {
		if p+2 > len(cs) {
			return errorf("main header ends early")
		}
		if cs[p] != 0xff {
			return errorf("expected a marker at offset %d", p)
		}
		m := cs[p+1]
		if m == mSOT {
			break
		}
		if p+4 > len(cs) {
			return errorf("main header ends early")
		}
		n := int(binary.BigEndian.Uint16(cs[p+2:]))
		if n < 2 || p+2+n > len(cs) {
			return errorf("marker segment of length %d overruns the data", n)
		}
		seg := cs[p+4 : p+2+n]
		p += 2 + n
		if !sawSIZ && m != mSIZ {
			return errorf("first marker 0x%02x is not SIZ", m)
		}
		switch m {
		case mSIZ:
			if sawSIZ {
				return errorf("second SIZ marker")
			}
			sawSIZ = true
			if err := d.readSIZ(seg, f); err != nil {
				return err
			}
		case mCAP:
			if err := readCAP(seg); err != nil {
				return err
			}
		case mPPM:
			if len(seg) < 1 {
				return errorf("empty PPM marker")
			}
			z := int(seg[0])
			for len(d.ppm) <= z {
				d.ppm = append(d.ppm, nil)
			}
			d.ppm[z] = seg[1:]
		default:
			if err := d.main.apply(m, seg, &d.img, true); err != nil {
				return err
			}
		}
	}
	if !d.main.codSeen || !d.main.qcdSeen {
		return errorf("main header without COD or QCD")
	}
	var ppm []byte
	hasPPM := len(d.ppm) > 0
	if hasPPM {
		// Nppm chunks may straddle PPM segments: join them
		for _, s := range d.ppm {
			ppm = append(ppm, s...)
		}
	}
	ntiles := d.img.ntx * d.img.nty
	// tile-parts
	for p+2 <= len(cs) && cs[p] == 0xff && cs[p+1] == mSOT {
		if p+12 > len(cs) {
			return errorf("truncated SOT marker")
		}
		if binary.BigEndian.Uint16(cs[p+2:]) != 10 {
			return errorf("SOT marker of length %d", binary.BigEndian.Uint16(cs[p+2:]))
		}
		tile := int(binary.BigEndian.Uint16(cs[p+4:]))
		psot := int(binary.BigEndian.Uint32(cs[p+6:]))
		if tile >= ntiles {
			return errorf("tile index %d of %d tiles", tile, ntiles)
		}
		end := len(cs)
		if psot != 0 {
			if psot < 14 || psot > len(cs)-p {
				return errorf("tile-part of %d bytes overruns the data", psot)
			}
			end = p + psot
		} else if end >= 2 && cs[end-2] == 0xff && cs[end-1] == mEOC {
			end -= 2
			d.eoc = true
		}
		q := p + 12
		for {
			if q+2 > end {
				return errorf("tile-part header ends early")
			}
			if cs[q] != 0xff {
				return errorf("expected a marker at offset %d", q)
			}
			if cs[q+1] == mSOD {
				break
			}
			if q+4 > end {
				return errorf("tile-part header ends early")
			}
			n := int(binary.BigEndian.Uint16(cs[q+2:]))
			if n < 2 || q+2+n > end {
				return errorf("marker segment of length %d overruns the tile-part", n)
			}
			q += 2 + n
		}
		tp := tilePart{tile: tile, hdr: cs[p+12 : q], body: cs[q+2 : end]}
		if hasPPM {
			if len(ppm) < 4 {
				return errorf("PPM marker has no packet headers for tile-part %d", len(d.parts))
			}
			n := int(binary.BigEndian.Uint32(ppm))
			if n > len(ppm)-4 {
				return errorf("PPM packet headers overrun the marker")
			}
			tp.ppm = ppm[4 : 4+n]
			ppm = ppm[4+n:]
		}
		d.parts = append(d.parts, tp)
		p = end
		if len(d.parts) > len(cs)/14 {
			return errorf("more tile-parts than the data can hold")
		}
	}
	// after the last tile-part: EOC, possibly padding, or nothing (a cut
	// stream, which only an irreversible stream may be: see decodeTile)
	if p+2 <= len(cs) && cs[p] == 0xff && cs[p+1] == mEOC {
		d.eoc = true
		// after EOC only padding: anything else (a second codestream in
		// the frame's fragment) would be dropped unseen
		for _, b := range cs[p+2:] {
			if b != 0 {
				return errorf("%d bytes of data after the end of the codestream (EOC)", len(cs)-p-2)
			}
		}
	}
	return nil
}

// readSIZ checks the image and tile sizes against the frame.
func (d *Decoder) readSIZ(seg []byte, f codec.Frame) error {
	if len(seg) < 36 {
		return errorf("truncated SIZ marker")
	}
	// reference grid coordinates are 32-bit unsigned and code-block,
	// precinct and tile arithmetic adds to them: it needs 64-bit ints
	if math.MaxInt < math.MaxUint32<<1 {
		return errorf("JPEG 2000 needs a 64-bit platform: %w", codec.ErrUnsupported)
	}
	u := func(i int) int { return int(binary.BigEndian.Uint32(seg[2+4*i:])) }
	im := image{x1: u(0), y1: u(1), x0: u(2), y0: u(3), tw: u(4), th: u(5), tx0: u(6), ty0: u(7)}
	im.ncomp = int(binary.BigEndian.Uint16(seg[34:]))
	if im.x0 >= im.x1 || im.y0 >= im.y1 {
		return errorf("empty image area")
	}
	if len(seg) == 36+3*im.ncomp && im.ncomp > 0 {
		// the first component carries the frame's rows and columns: a
		// subsampled one means an image smaller than the frame says (a
		// subsampling of 0 is invalid, said below)
		if s := seg[36:]; (s[1] != 1 || s[2] != 1) && s[1] != 0 && s[2] != 0 {
			return errorf("first component subsampled %dx%d: %w", s[1], s[2], codec.ErrUnsupported)
		}
	}
	if im.x1-im.x0 != f.Columns || im.y1-im.y0 != f.Rows {
		return errorf("%dx%d image in a %dx%d frame", im.x1-im.x0, im.y1-im.y0, f.Columns, f.Rows)
	}
	if im.ncomp != f.Samples {
		return errorf("%d components in a frame of %d samples", im.ncomp, f.Samples)
	}
	if len(seg) != 36+3*im.ncomp {
		return errorf("SIZ marker of %d bytes for %d components", len(seg), im.ncomp)
	}
	if im.tw < 1 || im.th < 1 || im.tx0 > im.x0 || im.ty0 > im.y0 || im.tx0+im.tw <= im.x0 || im.ty0+im.th <= im.y0 {
		return errorf("tile grid %dx%d at %d,%d does not cover the image", im.tw, im.th, im.tx0, im.ty0)
	}
	im.ntx = (im.x1 - im.tx0 + im.tw - 1) / im.tw
	im.nty = (im.y1 - im.ty0 + im.th - 1) / im.th
	for c := range im.ncomp {
		s := seg[36+3*c:]
		im.prec[c] = int(s[0]&0x7f) + 1
		im.signed[c] = s[0]&0x80 != 0
		if im.prec[c] > 16 {
			return errorf("component precision %d: %w", im.prec[c], codec.ErrUnsupported)
		}
		if im.prec[c] > f.Bits {
			return errorf("component precision %d does not fit %d-bit samples", im.prec[c], f.Bits)
		}
		im.dx[c], im.dy[c] = int(s[1]), int(s[2])
		if im.dx[c] == 0 || im.dy[c] == 0 {
			return errorf("component subsampling of 0")
		}
		// upsampling copies each pixel from a sample inside the image
		if ceilDiv(im.x1, im.dx[c]) <= ceilDiv(im.x0, im.dx[c]) || ceilDiv(im.y1, im.dy[c]) <= ceilDiv(im.y0, im.dy[c]) {
			return errorf("component %d subsampled %dx%d has no samples", c, im.dx[c], im.dy[c])
		}
		im.subsampled = im.subsampled || im.dx[c] != 1 || im.dy[c] != 1
	}
	d.img = im
	return nil
}

// apply reads one marker segment of a main or tile-part header into p.
func (p *params) apply(m byte, seg []byte, im *image, mainHeader bool) error {
	cidx := func(s []byte) (int, []byte, error) {
		if im.ncomp < 257 {
			if len(s) < 1 {
				return 0, nil, errorf("truncated marker 0x%02x", m)
			}
			c := int(s[0])
			if c >= im.ncomp {
				return 0, nil, errorf("marker 0x%02x for component %d of %d", m, c, im.ncomp)
			}
			return c, s[1:], nil
		}
		return 0, nil, errorf("more than 256 components")
	}
	switch m {
	case mCOD:
		if len(seg) < 5 {
			return errorf("truncated COD marker")
		}
		var cs codingStyle
		if err := cs.read(seg[5:], seg[0]&1 != 0); err != nil {
			return err
		}
		p.order = int(seg[1])
		p.layers = int(binary.BigEndian.Uint16(seg[2:]))
		p.mct = seg[4]&1 != 0
		if seg[4] > 1 {
			return errorf("multiple component transform %d: %w", seg[4], codec.ErrUnsupported)
		}
		p.sop = seg[0]&2 != 0
		p.eph = seg[0]&4 != 0
		if p.order > orderCPRL {
			return errorf("progression order %d", p.order)
		}
		if p.layers < 1 {
			return errorf("no quality layers")
		}
		for c := range im.ncomp {
			if !p.cocSet[c] {
				p.comp[c] = cs
			}
		}
		p.codSeen = true
	case mCOC:
		c, rest, err := cidx(seg)
		if err != nil {
			return err
		}
		if len(rest) < 1 {
			return errorf("truncated COC marker")
		}
		if err := p.comp[c].read(rest[1:], rest[0]&1 != 0); err != nil {
			return err
		}
		p.cocSet[c] = true
	case mQCD:
		var q quantStyle
		if err := q.read(seg); err != nil {
			return err
		}
		for c := range im.ncomp {
			if !p.qccSet[c] {
				p.quant[c] = q
			}
		}
		p.qcdSeen = true
	case mQCC:
		c, rest, err := cidx(seg)
		if err != nil {
			return err
		}
		if err := p.quant[c].read(rest); err != nil {
			return err
		}
		p.qccSet[c] = true
	case mRGN:
		c, rest, err := cidx(seg)
		if err != nil {
			return err
		}
		if len(rest) != 2 || rest[0] != 0 {
			return errorf("RGN marker style: %w", codec.ErrUnsupported)
		}
		p.roi[c] = int(rest[1])
	case mPOC:
		if !mainHeader && !p.tilePOC {
			p.pocs = nil // a tile's POC replaces the main header's
			p.tilePOC = true
		}
		for len(seg) > 0 {
			if len(seg) < 7 {
				return errorf("truncated POC marker")
			}
			e := poc{rs: int(seg[0]), cs: int(seg[1]), le: int(binary.BigEndian.Uint16(seg[2:])),
				re: int(seg[4]), ce: int(seg[5]), order: int(seg[6])}
			if e.ce == 0 {
				e.ce = 256
			}
			if e.order > orderCPRL {
				return errorf("POC progression order %d", e.order)
			}
			p.pocs = append(p.pocs, e)
			seg = seg[7:]
			if len(p.pocs) > 256 {
				return errorf("too many progression order changes")
			}
		}
	case mSOT, mSOD, mSOC, mEOC, mSIZ, mSOP, mEPH:
		return errorf("unexpected marker 0x%02x in a header", m)
	default:
		// TLM, PLM, PLT (lengths), CRG, COM and unknown segments do not
		// change decoding; PPT is read per tile
	}
	return nil
}

// read parses SPcod/SPcoc.
func (cs *codingStyle) read(s []byte, userPrecincts bool) error {
	if len(s) < 5 {
		return errorf("truncated coding style")
	}
	cs.levels = int(s[0])
	cs.cbw = int(s[1]) + 2
	cs.cbh = int(s[2]) + 2
	cs.cbStyle = s[3]
	cs.reversible = s[4] == 1
	if s[4] > 1 {
		return errorf("wavelet %d: %w", s[4], codec.ErrUnsupported)
	}
	if cs.levels > 32 {
		return errorf("%d decomposition levels", cs.levels)
	}
	if cs.cbw > 10 || cs.cbh > 10 || cs.cbw+cs.cbh > 12 {
		return errorf("code-block size 2^%d x 2^%d", cs.cbw, cs.cbh)
	}
	if cs.cbStyle&styleMixed != 0 {
		return errorf("code-block style 0x%02x (HT and Part 1 code-blocks mixed): %w", cs.cbStyle, codec.ErrUnsupported)
	}
	s = s[5:]
	for r := 0; r <= cs.levels; r++ {
		if !userPrecincts {
			cs.precincts[r] = 0xff
			continue
		}
		if len(s) <= r {
			return errorf("coding style without the size of each precinct")
		}
		cs.precincts[r] = s[r]
		if r > 0 && (s[r]&15 == 0 || s[r]>>4 == 0) {
			return errorf("precinct size 1 above the lowest resolution")
		}
	}
	return nil
}

// read parses Sqcd and SPqcd (or their QCC forms).
func (q *quantStyle) read(s []byte) error {
	if len(s) < 1 {
		return errorf("truncated quantisation marker")
	}
	q.style = int(s[0] & 0x1f)
	q.guard = int(s[0] >> 5)
	s = s[1:]
	switch q.style {
	case 0:
		q.n = min(len(s), len(q.expn))
		for i := range q.n {
			q.expn[i] = s[i] >> 3
			q.mant[i] = 0
		}
	case 1, 2:
		q.n = min(len(s)/2, len(q.expn))
		if q.style == 1 {
			q.n = min(q.n, 1)
		}
		for i := range q.n {
			v := binary.BigEndian.Uint16(s[2*i:])
			q.expn[i] = byte(v >> 11)
			q.mant[i] = v & 0x7ff
		}
	default:
		return errorf("quantisation style %d", q.style)
	}
	if q.n == 0 {
		return errorf("quantisation marker without step sizes")
	}
	return nil
}
