package dicomobj

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// Links says which images were normalized: the old UIDs and the new ones.
type Links struct {
	Instances map[string]string // SOP Instance UIDs
	Series    map[string]string // Series Instance UIDs
}

// Rewrite is what a derived copy changes.
type Rewrite struct {
	Links
	SOPInstance string // the copy's SOP Instance UID (data set and file meta)
	Series      string // the copy's Series Instance UID
	// ImplementationClass and ImplementationName, when set, replace those
	// of the file meta (the name only where the source has one): they name
	// the writer of the file.
	ImplementationClass, ImplementationName string
}

// References are the references an object makes to linked images.
type References struct {
	Header
	// Instances are the old SOP Instance UIDs of linked images that the
	// object references, each once, in order of first reference.
	Instances []string
	// Count is the number of references rewritten: instance and series
	// references, each value counted.
	Count int
}

// Find walks the object and returns its references to the images of l.
func Find(src io.ReaderAt, size int64, l Links) (References, error) {
	o, err := walk(src, size, false)
	if err != nil {
		return References{}, err
	}
	p := o.plan(Rewrite{Links: l})
	return References{Header: o.header(), Instances: p.instances, Count: p.count}, nil
}

// Copy writes to dst the object in src with the rewrite r: the copy's own
// SOP Instance and Series Instance UIDs, and every reference to an image
// of r.Links, at any depth, replaced by the image's new UID. Each changed
// element is re-encoded with its value padded to even length; the lengths
// of the items, sequences and groups that hold it follow. Every other byte
// is copied as it is: the transfer syntax, undefined lengths, private
// elements, pixel data. A deflated data set is inflated and deflated again.
func Copy(dst io.Writer, src io.ReaderAt, size int64, r Rewrite) (References, error) {
	o, err := walk(src, size, false)
	if err != nil {
		return References{}, err
	}
	p := o.plan(r)
	refs := References{Header: o.header(), Instances: p.instances, Count: p.count}
	bw := bufio.NewWriterSize(dst, 64<<10)
	e := &emitter{plan: p, w: bw, src: o.file}
	if err := e.copy(0, o.metaStart); err != nil {
		return refs, err
	}
	if err := e.list(o.meta); err != nil {
		return refs, err
	}
	metaEnd := o.metaStart
	if n := len(o.meta); n > 0 {
		metaEnd = o.meta[n-1].end
	}
	if !o.deflated && metaEnd != o.dataStart {
		return refs, fmt.Errorf("internal: meta ends at %d, data set at %d", metaEnd, o.dataStart)
	}
	e.src = o.data
	if o.deflated {
		if err := bw.Flush(); err != nil {
			return refs, err
		}
		fw, _ := flate.NewWriter(dst, flate.DefaultCompression)
		e.w = bufio.NewWriterSize(fw, 64<<10)
		if err := e.list(o.elems); err != nil {
			return refs, err
		}
		if err := e.w.Flush(); err != nil {
			return refs, err
		}
		return refs, fw.Close()
	}
	if err := e.list(o.elems); err != nil {
		return refs, err
	}
	return refs, bw.Flush()
}

// plan is the set of changes: new values, and the elements and items that
// hold a change.
type plan struct {
	values    map[*element][]byte
	changed   map[any]bool // *element and *item
	sizes     map[any]int64
	instances []string
	seen      map[string]bool
	count     int
}

func (o *object) plan(r Rewrite) *plan {
	p := &plan{values: map[*element][]byte{}, changed: map[any]bool{}, sizes: map[any]int64{}, seen: map[string]bool{}}
	for _, e := range o.meta {
		switch {
		case e.tag == tagMetaSOP && r.SOPInstance != "":
			p.set(e, uiValue(r.SOPInstance))
		case e.tag == tagMetaImplClass && r.ImplementationClass != "":
			p.set(e, uiValue(r.ImplementationClass))
		case e.tag == tagMetaImplName && r.ImplementationName != "" && e.vr == "SH":
			v := []byte(r.ImplementationName)
			if len(v)%2 == 1 {
				v = append(v, ' ')
			}
			p.set(e, v)
		}
	}
	p.elems(o.elems, 0, r)
	return p
}

func (p *plan) set(e *element, v []byte) {
	if string(v) != string(e.value) {
		p.values[e], p.changed[e] = v, true
	}
}

// elems plans the changes of a data set and reports whether it has any.
func (p *plan) elems(elems []*element, depth int, r Rewrite) bool {
	any := false
	for _, e := range elems {
		switch {
		case e.vr == "UI" && e.value != nil:
			switch {
			case depth == 0 && e.tag == tagSOPInstance && r.SOPInstance != "":
				p.set(e, uiValue(r.SOPInstance))
			case depth == 0 && e.tag == tagSeries && r.Series != "":
				p.set(e, uiValue(r.Series))
			case e.tag == tagRefSOP || e.tag == tagRefSOPInFile:
				p.mapValues(e, r.Instances, true)
			case depth > 0 && e.tag == tagSeries && allLinked(elems, r.Instances):
				p.mapValues(e, r.Links.Series, false)
			}
		case len(e.items) > 0:
			for _, it := range e.items {
				if p.elems(it.elems, depth+1, r) {
					p.changed[it], p.changed[e] = true, true
				}
			}
		}
		any = any || p.changed[e]
	}
	return any
}

// allLinked reports whether every instance an item references, at any
// depth, is linked: only then does the series it names become the new
// series. An item that lists a series with an instance outside the run (a
// predecessor report, a slice not given) keeps naming the source series,
// in which its other instances are still found by their own UIDs.
func allLinked(elems []*element, instances map[string]string) bool {
	for _, e := range elems {
		if e.tag == tagRefSOP && e.value != nil {
			for _, v := range strings.Split(uidText(e.value), `\`) {
				if _, ok := instances[v]; !ok && v != "" {
					return false
				}
			}
		}
		for _, it := range e.items {
			if !allLinked(it.elems, instances) {
				return false
			}
		}
	}
	return true
}

// mapValues replaces the values of e found in m.
func (p *plan) mapValues(e *element, m map[string]string, instances bool) {
	vals := strings.Split(uidText(e.value), `\`)
	hit := false
	for i, v := range vals {
		if n, ok := m[v]; ok && v != "" {
			if instances && !p.seen[v] {
				p.seen[v] = true
				p.instances = append(p.instances, v)
			}
			vals[i], hit = n, true
			p.count++
		}
	}
	if hit {
		p.set(e, uiValue(strings.Join(vals, `\`)))
	}
}

// uiValue encodes a UI value: padded with a NUL to even length.
func uiValue(s string) []byte {
	v := []byte(s)
	if len(v)%2 == 1 {
		v = append(v, 0)
	}
	return v
}

// size is the encoded size of an element after the plan.
func (p *plan) size(e *element) int64 {
	if !p.changed[e] {
		return e.end - e.start
	}
	if s, ok := p.sizes[e]; ok {
		return s
	}
	var s int64
	if v, ok := p.values[e]; ok {
		s = e.valueOff - e.start + int64(len(v))
	} else {
		s = e.valueOff - e.start + p.content(e)
		if e.length == undefined {
			s += 8
		}
	}
	p.sizes[e] = s
	return s
}

// content is the size of a changed sequence's items.
func (p *plan) content(e *element) int64 {
	var n int64
	for _, it := range e.items {
		n += p.itemSize(it)
	}
	return n
}

func (p *plan) itemSize(it *item) int64 {
	if !p.changed[it] {
		return it.end - it.start
	}
	n := 8 + p.listSize(it.elems)
	if it.length == undefined {
		n += 8
	}
	return n
}

func (p *plan) listSize(elems []*element) int64 {
	var n int64
	for _, e := range elems {
		n += p.size(e)
	}
	return n
}

// emitter writes the planned copy.
type emitter struct {
	*plan
	w   *bufio.Writer
	src io.ReaderAt
}

func (e *emitter) copy(from, to int64) error {
	if to <= from {
		return nil
	}
	_, err := io.Copy(e.w, io.NewSectionReader(e.src, from, to-from))
	return err
}

// list writes a data set, with its group lengths updated.
func (e *emitter) list(elems []*element) error {
	delta := map[uint32]int64{}
	for _, el := range elems {
		if e.changed[el] {
			delta[el.tag>>16] += e.size(el) - (el.end - el.start)
		}
	}
	for _, el := range elems {
		d := delta[el.tag>>16]
		if el.tag&0xffff == 0 && d != 0 && el.vr == "UL" && el.length == 4 {
			if err := e.copy(el.start, el.valueOff); err != nil {
				return err
			}
			var old [4]byte
			if _, err := e.src.ReadAt(old[:], el.valueOff); err != nil {
				return err
			}
			n := int64(el.order.Uint32(old[:])) + d
			if n < 0 || n > 0xfffffffe {
				return fmt.Errorf("group %04X length overflows", el.tag>>16)
			}
			el.order.PutUint32(old[:], uint32(n))
			if _, err := e.w.Write(old[:]); err != nil {
				return err
			}
			continue
		}
		if err := e.element(el); err != nil {
			return err
		}
	}
	return nil
}

func (e *emitter) element(el *element) error {
	if !e.changed[el] {
		return e.copy(el.start, el.end)
	}
	var length int64
	v, isValue := e.values[el]
	switch {
	case isValue:
		length = int64(len(v))
	case el.length == undefined:
		length = undefined
	default:
		length = e.content(el)
	}
	if err := e.header(el.order, el.start, el.valueOff, el.lenSize, length); err != nil {
		return fmt.Errorf("element (%04X,%04X): %w", el.tag>>16, el.tag&0xffff, err)
	}
	if isValue {
		_, err := e.w.Write(v)
		return err
	}
	for _, it := range el.items {
		if err := e.item(it); err != nil {
			return err
		}
	}
	if el.length == undefined {
		return e.copy(el.end-8, el.end) // the sequence delimiter
	}
	return nil
}

func (e *emitter) item(it *item) error {
	if !e.changed[it] {
		return e.copy(it.start, it.end)
	}
	length := int64(undefined)
	if it.length != undefined {
		length = e.listSize(it.elems)
	}
	if err := e.header(it.order, it.start, it.valueOff, 4, length); err != nil {
		return fmt.Errorf("item: %w", err)
	}
	if err := e.list(it.elems); err != nil {
		return err
	}
	if it.length == undefined {
		return e.copy(it.contentEnd, it.end) // the item delimiter
	}
	return nil
}

// header copies a header with a new length, in order, in its last lenSize
// bytes.
func (e *emitter) header(order binary.ByteOrder, start, valueOff int64, lenSize int, length int64) error {
	if err := e.copy(start, valueOff-int64(lenSize)); err != nil {
		return err
	}
	var b [4]byte
	switch {
	case lenSize == 2 && length > 0xfffe:
		return fmt.Errorf("a value of %d bytes does not fit a 16-bit length", length)
	case lenSize == 2:
		order.PutUint16(b[:], uint16(length))
	case length > 0xffffffff:
		return fmt.Errorf("a value of %d bytes does not fit a 32-bit length", length)
	default:
		order.PutUint32(b[:], uint32(length))
	}
	_, err := e.w.Write(b[:lenSize])
	return err
}
