package jpeg

// The inverse DCT is libjpeg's jpeg_idct_islow (jidctint.c, IJG 6b): the
// Loeffler-Ligtenberg-Moschytz algorithm in 13-bit fixed point, columns
// first with PASS1_BITS of extra precision (2 for 8-bit samples, 1 for
// 12-bit), then rows, each output wrapped through libjpeg's range-limit
// table. Every shift and rounding is the same, so the samples are too.

const (
	constBits      = 13
	fix0_298631336 = 2446
	fix0_390180644 = 3196
	fix0_541196100 = 4433
	fix0_765366865 = 6270
	fix0_899976223 = 7373
	fix1_175875602 = 9633
	fix1_501321110 = 12299
	fix1_847759065 = 15137
	fix1_961570560 = 16069
	fix2_053119869 = 16819
	fix2_562915447 = 20995
	fix3_072711026 = 25172
)

// rangeSize is the range-limit table's length: libjpeg's post-IDCT table
// for 12-bit samples (4*4096 entries, indexed by value & 16383). The 8-bit
// table (1024 entries) is repeated to the same length so that one index
// mask serves both and the compiler can drop the bounds check.
const rangeSize = 1 << 14

// buildRangeLimit fills the table that jdmaster.c's
// prepare_range_limit_table gives the IDCT (sample_range_limit +
// CENTERJSAMPLE): x in [-center, center) maps to x+center, larger values
// to the maximum and smaller ones to 0, and wild values wrap around
// (modulo 4*(max+1)) as libjpeg's masked index does.
func buildRangeLimit[T sample](t *[rangeSize]T, precision int) {
	maxv := 1<<precision - 1
	center := 1 << (precision - 1)
	period := 4 * (maxv + 1)
	for i := range t {
		x := i % period
		switch {
		case x < center:
			t[i] = T(x + center)
		case x < 2*(maxv+1):
			t[i] = T(maxv)
		case x < period-center:
			t[i] = 0
		default:
			t[i] = T(x - period + center)
		}
	}
}

// idct dequantises and transforms one block into out (8 rows of stride
// samples). pass1 is PASS1_BITS.
func idct[T sample](blk *[64]int32, q *[64]int32, out []T, stride int, pass1 uint, limit *[rangeSize]T) {
	var ws [64]int32
	pass1 &= 7
	shift1 := (constBits - pass1) & 63
	round1 := 1 << (shift1 - 1)
	shift2 := (constBits + pass1 + 3) & 63
	round2 := 1 << (shift2 - 1)
	shiftDC := (pass1 + 3) & 63
	roundDC := 1 << (shiftDC - 1)

	// Pass 1: columns, into ws, scaled up by 2**pass1.
	for c := 0; c < 8; c++ {
		if blk[8+c]|blk[16+c]|blk[24+c]|blk[32+c]|blk[40+c]|blk[48+c]|blk[56+c] == 0 {
			dc := (blk[c] * q[c]) << pass1
			ws[c], ws[8+c], ws[16+c], ws[24+c] = dc, dc, dc, dc
			ws[32+c], ws[40+c], ws[48+c], ws[56+c] = dc, dc, dc, dc
			continue
		}
		// even part
		z2 := int(blk[16+c]) * int(q[16+c])
		z3 := int(blk[48+c]) * int(q[48+c])
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 - z3*fix1_847759065
		tmp3 := z1 + z2*fix0_765366865
		z2 = int(blk[c]) * int(q[c])
		z3 = int(blk[32+c]) * int(q[32+c])
		tmp0 := (z2 + z3) << constBits
		tmp1 := (z2 - z3) << constBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2

		// odd part
		tmp0 = int(blk[56+c]) * int(q[56+c])
		tmp1 = int(blk[40+c]) * int(q[40+c])
		tmp2 = int(blk[24+c]) * int(q[24+c])
		tmp3 = int(blk[8+c]) * int(q[8+c])
		z1 = tmp0 + tmp3
		z2 = tmp1 + tmp2
		z3 = tmp0 + tmp2
		z4 := tmp1 + tmp3
		z5 := (z3 + z4) * fix1_175875602
		tmp0 *= fix0_298631336
		tmp1 *= fix2_053119869
		tmp2 *= fix3_072711026
		tmp3 *= fix1_501321110
		z1 *= -fix0_899976223
		z2 *= -fix2_562915447
		z3 = z3*-fix1_961570560 + z5
		z4 = z4*-fix0_390180644 + z5
		tmp0 += z1 + z3
		tmp1 += z2 + z4
		tmp2 += z2 + z3
		tmp3 += z1 + z4

		ws[c] = int32((tmp10 + tmp3 + round1) >> shift1)
		ws[56+c] = int32((tmp10 - tmp3 + round1) >> shift1)
		ws[8+c] = int32((tmp11 + tmp2 + round1) >> shift1)
		ws[48+c] = int32((tmp11 - tmp2 + round1) >> shift1)
		ws[16+c] = int32((tmp12 + tmp1 + round1) >> shift1)
		ws[40+c] = int32((tmp12 - tmp1 + round1) >> shift1)
		ws[24+c] = int32((tmp13 + tmp0 + round1) >> shift1)
		ws[32+c] = int32((tmp13 - tmp0 + round1) >> shift1)
	}

	// Pass 2: rows, descaled by 8 and 2**pass1, range-limited into out.
	for r := 0; r < 8; r++ {
		w := (*[8]int32)(ws[r*8:])
		o := (*[8]T)(out[r*stride:])
		if w[1]|w[2]|w[3]|w[4]|w[5]|w[6]|w[7] == 0 {
			v := limit[((int(w[0])+roundDC)>>shiftDC)&(rangeSize-1)]
			o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7] = v, v, v, v, v, v, v, v
			continue
		}
		z2 := int(w[2])
		z3 := int(w[6])
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 - z3*fix1_847759065
		tmp3 := z1 + z2*fix0_765366865
		tmp0 := (int(w[0]) + int(w[4])) << constBits
		tmp1 := (int(w[0]) - int(w[4])) << constBits
		tmp10, tmp13 := tmp0+tmp3, tmp0-tmp3
		tmp11, tmp12 := tmp1+tmp2, tmp1-tmp2

		tmp0 = int(w[7])
		tmp1 = int(w[5])
		tmp2 = int(w[3])
		tmp3 = int(w[1])
		z1 = tmp0 + tmp3
		z2 = tmp1 + tmp2
		z3 = tmp0 + tmp2
		z4 := tmp1 + tmp3
		z5 := (z3 + z4) * fix1_175875602
		tmp0 *= fix0_298631336
		tmp1 *= fix2_053119869
		tmp2 *= fix3_072711026
		tmp3 *= fix1_501321110
		z1 *= -fix0_899976223
		z2 *= -fix2_562915447
		z3 = z3*-fix1_961570560 + z5
		z4 = z4*-fix0_390180644 + z5
		tmp0 += z1 + z3
		tmp1 += z2 + z4
		tmp2 += z2 + z3
		tmp3 += z1 + z4

		o[0] = limit[((tmp10+tmp3+round2)>>shift2)&(rangeSize-1)]
		o[7] = limit[((tmp10-tmp3+round2)>>shift2)&(rangeSize-1)]
		o[1] = limit[((tmp11+tmp2+round2)>>shift2)&(rangeSize-1)]
		o[6] = limit[((tmp11-tmp2+round2)>>shift2)&(rangeSize-1)]
		o[2] = limit[((tmp12+tmp1+round2)>>shift2)&(rangeSize-1)]
		o[5] = limit[((tmp12-tmp1+round2)>>shift2)&(rangeSize-1)]
		o[3] = limit[((tmp13+tmp0+round2)>>shift2)&(rangeSize-1)]
		o[4] = limit[((tmp13-tmp0+round2)>>shift2)&(rangeSize-1)]
	}
}
