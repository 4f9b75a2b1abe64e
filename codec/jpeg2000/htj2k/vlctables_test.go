package htj2k

import "testing"

// TestVLCTables checks the transcribed CxtVLC tables: in every context
// the codewords are a complete prefix code (no codeword starts another,
// and their Kraft sum is one), and each (rho, u_off, e_k, e_1) appears
// once; in the first line-pair, context 0 has no insignificant quad (MEL
// codes those).
func TestVLCTables(t *testing.T) {
	for ti, rows := range [2][]vlcCode{vlcFirst[:], vlcOther[:]} {
		for c := uint8(0); c < 8; c++ {
			var kraft float64
			seen := map[[4]uint8]bool{}
			var codes []vlcCode
			for _, r := range rows {
				if r.c != c {
					continue
				}
				if r.n < 1 || r.n > 7 || int(r.cwd) >= 1<<r.n {
					t.Errorf("table %d context %d: codeword 0x%x of %d bits", ti, c, r.cwd, r.n)
				}
				if r.rho > 15 || r.ek&^r.rho != 0 || r.e1&^r.rho != 0 || (r.uoff == 0 && r.ek|r.e1 != 0) {
					t.Errorf("table %d context %d: rho %x u_off %d e_k %x e_1 %x", ti, c, r.rho, r.uoff, r.ek, r.e1)
				}
				if c == 0 && r.rho == 0 {
					t.Errorf("table %d: an insignificant quad in context 0", ti)
				}
				k := [4]uint8{r.rho, r.uoff, r.ek, r.e1}
				if seen[k] {
					t.Errorf("table %d context %d: %v twice", ti, c, k)
				}
				seen[k] = true
				kraft += 1 / float64(int(1)<<r.n)
				for _, o := range codes {
					n := min(o.n, r.n)
					if o.cwd&(1<<n-1) == r.cwd&(1<<n-1) {
						t.Errorf("table %d context %d: codewords 0x%x/%d and 0x%x/%d share a prefix", ti, c, o.cwd, o.n, r.cwd, r.n)
					}
				}
				codes = append(codes, r)
			}
			if len(codes) > 0 && kraft != 1 {
				t.Errorf("table %d context %d: Kraft sum %v", ti, c, kraft)
			}
		}
	}
	// every 7-bit head decodes to some codeword in every context used
	for ti := range vlcTab {
		for i, e := range vlcTab[ti] {
			if e&7 == 0 {
				t.Errorf("table %d: head 0x%03x decodes to nothing", ti, i)
				break
			}
		}
	}
}
