import XCTest
@testable import LiftedTrain
import TestSupport

/// The chunk kernels of `ConvolutionKernels` on their own (no layer, no split), against the
/// naive direct convolutions of `ConvTests.swift` and brute-force sums, in Double on shapes small
/// enough to enumerate: two samples per chunk, stride 2 with padding and stride 1 "same".
final class ConvolutionKernelsTests: XCTestCase {
    /// C = 2 planes of 5 × 7, O = 3, k = 3; (stride, padding) = (2, 1) and (1, 1).
    private func shape(stride: Int, padding: Int) -> ConvolutionShape {
        let (h, w, k) = (5, 7, 3)
        return ConvolutionShape(channels: 2, height: h, width: w, kernel: k, stride: stride, padding: padding,
                                outHeight: ImageGeometry.outputSize(h, kernel: k, stride: stride, padding: padding),
                                outWidth: ImageGeometry.outputSize(w, kernel: k, stride: stride, padding: padding))
    }
    private let (m, o) = (2, 3)

    /// unfold + convolutionChunk = b + Σ W x over each window (PyTorch's `F.conv2d`).
    func testConvolutionChunkIsTheDirectConvolution() {
        for (s, p) in [(2, 1), (1, 1)] {
            let g = shape(stride: s, padding: p)
            let x = randomArray(m * g.sampleSize, seed: 1), weight = randomArray(o * g.patch, seed: 2)
            let bias = randomArray(o, seed: 3)
            var col = [Double](repeating: .nan, count: g.patch * m * g.positions)
            var product = col, y = [Double](repeating: .nan, count: m * o * g.positions)
            let ones = [Double](repeating: 1, count: m * g.positions)
            ConvolutionKernels.unfold(x, m: m, g, col: &col)
            bias.withUnsafeBufferPointer { pb in
                ones.withUnsafeBufferPointer { po in
                    ConvolutionKernels.convolutionChunk(col: col, m: m, positions: g.positions, patch: g.patch, outChannels: o,
                                                        weight: weight, bias: (pb.baseAddress!, po.baseAddress!),
                                                        product: &product, y: &y)
                }
            }
            let expected = naiveConv2D(x, n: m, c: g.channels, h: g.height, w: g.width, weight: weight, bias: bias, o: o,
                                       k: g.kernel, stride: s, padding: p)
            assertClose(y, expected.y, "stride \(s), padding \(p)")
        }
    }

    /// dW = Σ_{s,oh,ow} dY[s, o, oh, ow] x[s, c, oh·s − p + i, ow·s − p + j] and db = Σ dY, from
    /// dY with its channel axis first, added to what dW and db held.
    func testWeightGradientChunkIsTheBruteForceSum() {
        let g = shape(stride: 2, padding: 1)
        let x = randomArray(m * g.sampleSize, seed: 4), dy = randomArray(m * o * g.positions, seed: 5)
        var col = [Double](repeating: .nan, count: g.patch * m * g.positions)
        ConvolutionKernels.unfold(x, m: m, g, col: &col)
        var dyT = dy
        ImageKernels.swapLeadingAxes(dy, a: m, b: o, p: g.positions, into: &dyT)
        let before = randomArray(o * g.patch + o, seed: 6)
        var dw = Array(before[..<(o * g.patch)]), db = Array(before[(o * g.patch)...])
        let ones = [Double](repeating: 1, count: m * g.positions)
        db.withUnsafeMutableBufferPointer { pdb in
            ones.withUnsafeBufferPointer { po in
                ConvolutionKernels.weightGradientChunk(dy: dyT, col: col, columns: m * g.positions, outChannels: o,
                                                       patch: g.patch, dw: &dw, bias: (pdb.baseAddress!, po.baseAddress!))
            }
        }
        var expectedW = Array(before[..<(o * g.patch)]), expectedB = Array(before[(o * g.patch)...])
        let (c, h, w, k) = (g.channels, g.height, g.width, g.kernel)
        for b in 0..<m { for oc in 0..<o { for oh in 0..<g.outHeight { for ow in 0..<g.outWidth {
            let d = dy[((b * o + oc) * g.outHeight + oh) * g.outWidth + ow]
            expectedB[oc] += d
            for ch in 0..<c { for i in 0..<k { for j in 0..<k {
                let ih = oh * g.stride - g.padding + i, iw = ow * g.stride - g.padding + j
                guard ih >= 0 && ih < h && iw >= 0 && iw < w else { continue }
                expectedW[((oc * c + ch) * k + i) * k + j] += d * x[((b * c + ch) * h + ih) * w + iw]
            } } }
        } } } }
        assertClose(dw, expectedW, "dW")
        assertClose(db, expectedB, "db")
    }

    /// The two input gradients: the scatter-add fold of Wᵀ dY (any stride) and, for stride 1, the
    /// convolution of dY with the flipped kernel — both the transposed convolution of dY
    /// (`F.conv_transpose2d` with the same W), added to what dx held for the fold.
    func testInputGradientsAreTheTransposedConvolution() {
        for (s, p) in [(2, 1), (1, 1)] {
            let g = shape(stride: s, padding: p)
            let dy = randomArray(m * o * g.positions, seed: 7), weight = randomArray(o * g.patch, seed: 8)
            let outputPadding = g.height - ((g.outHeight - 1) * s - 2 * p + g.kernel)
            let expected = naiveConvTranspose2D(dy, n: m, c: o, h: g.outHeight, w: g.outWidth, weight: weight,
                                                bias: [Double](repeating: 0, count: g.channels), o: g.channels, k: g.kernel,
                                                stride: s, padding: p, outputPadding: outputPadding)
            XCTAssertEqual([expected.ho, expected.wo], [g.height, g.width])
            var dyT = dy
            ImageKernels.swapLeadingAxes(dy, a: m, b: o, p: g.positions, into: &dyT)
            let start = randomArray(m * g.sampleSize, seed: 9)
            var dx = start, dcol = [Double](repeating: .nan, count: g.patch * m * g.positions)
            ConvolutionKernels.transposedConvolutionChunk(dy: dyT, m: m, g, outChannels: o, weight: weight, dcol: &dcol, x: &dx)
            assertClose(dx, zip(start, expected.y).map { $0 + $1 }, "fold, stride \(s)")
            guard s == 1 else { continue }
            var flipped = weight
            ConvolutionKernels.flippedKernel(weight, outChannels: o, channels: g.channels, kernel: g.kernel, into: &flipped)
            let f = ConvolutionKernels.flippedShape(of: g, outChannels: o)
            var unfolded = [Double](repeating: .nan, count: f.patch * m * f.positions)
            var product = [Double](repeating: .nan, count: g.channels * m * f.positions)
            var gathered = [Double](repeating: .nan, count: m * g.sampleSize)
            ConvolutionKernels.unfold(dy, m: m, f, col: &unfolded)
            ConvolutionKernels.convolutionChunk(col: unfolded, m: m, positions: f.positions, patch: f.patch,
                                                outChannels: g.channels, weight: flipped, bias: nil, product: &product,
                                                y: &gathered)
            assertClose(gathered, expected.y, "flipped kernel")
        }
    }

    /// db[c] = Σ_{s, pixels} dY[s, c, ·] (ConvTranspose2D's bias gradient).
    func testBiasGradientSumsEveryPixelOfEverySample() {
        let (n, c, plane) = (3, 2, 7)
        let dy = randomArray(n * c * plane, seed: 10)
        var rows = [Double](repeating: .nan, count: n * c), db = [Double](repeating: .nan, count: c)
        ConvolutionKernels.biasGradient(dy: dy, samples: n, channels: c, plane: plane,
                                        ones: [Double](repeating: 1, count: plane), rowSums: &rows, db: &db)
        let expected = (0..<c).map { ch in (0..<n).reduce(0.0) { $0 + dy[($1 * c + ch) * plane..<($1 * c + ch + 1) * plane].reduce(0, +) } }
        assertClose(db, expected)
    }

    /// im2col and its adjoint col2im against their definitions element by element (Float, bit for
    /// bit: both only copy, or add in the same order), over strides 1–3, paddings 0–2 and kernels
    /// 1–4 on non-square planes, the generators' 4×4 stride 2 padding 1 included: the column
    /// ranges inside the row (`ImageKernels.insideColumns`) must be exact at both margins.
    func testIm2colAndCol2imFollowTheirDefinitionsExactly() {
        let (n, c, h, w) = (2, 2, 6, 7)
        let x = randomArray(n * c * h * w, seed: 31).map { Float($0) }
        for k in 1...4 { for s in 1...3 { for p in 0...2 where p < k {
            let ho = ImageGeometry.outputSize(h, kernel: k, stride: s, padding: p)
            let wo = ImageGeometry.outputSize(w, kernel: k, stride: s, padding: p)
            let positions = n * ho * wo
            var col = [Float](repeating: .nan, count: c * k * k * positions)
            ImageKernels.im2col(x, n: n, c: c, h: h, w: w, kh: k, kw: k, stride: s, padding: p, ho: ho, wo: wo, col: &col)
            let start = randomArray(n * c * h * w, seed: 32).map { Float($0) }
            var folded = start, expected = start
            ImageKernels.col2im(col, n: n, c: c, h: h, w: w, kh: k, kw: k, stride: s, padding: p, ho: ho, wo: wo, x: &folded)
            var wrong = 0
            for ch in 0..<c { for i in 0..<k { for j in 0..<k { for b in 0..<n { for oh in 0..<ho { for ow in 0..<wo {
                let ih = oh * s - p + i, iw = ow * s - p + j
                let inside = ih >= 0 && ih < h && iw >= 0 && iw < w
                let v = col[((ch * k + i) * k + j) * positions + (b * ho + oh) * wo + ow]
                if v != (inside ? x[((b * c + ch) * h + ih) * w + iw] : 0) { wrong += 1 }
                if inside { expected[((b * c + ch) * h + ih) * w + iw] += v }
            } } } } } }
            XCTAssertEqual(wrong, 0, "im2col k \(k), stride \(s), padding \(p)")
            XCTAssertEqual(folded, expected, "col2im k \(k), stride \(s), padding \(p)")
        } } }
    }

    /// Strided im2col and its adjoint col2im against the index formula, entry by entry, on shapes
    /// whose edge taps fall partly or wholly in the padding (stride 2–3, k up to w + 2p, padding
    /// 0–3): every column entry is x at (oh·s − p + i, ow·s − p + j) or 0, and col2im adds each
    /// entry back to that pixel (the hoisted column bounds of `ImageKernels.stridedSpan`).
    func testStridedIm2colAndCol2imFollowTheIndexFormula() {
        for (h, w, k, s, p) in [(5, 7, 3, 2, 1), (4, 5, 4, 2, 1), (6, 5, 5, 3, 2), (6, 5, 4, 2, 0), (4, 3, 7, 2, 3), (5, 6, 2, 3, 0)] {
            let (n, c) = (2, 2)
            let ho = ImageGeometry.outputSize(h, kernel: k, stride: s, padding: p)
            let wo = ImageGeometry.outputSize(w, kernel: k, stride: s, padding: p)
            let x = randomArray(n * c * h * w, seed: 11), positions = n * ho * wo
            var col = [Double](repeating: .nan, count: c * k * k * positions)
            ImageKernels.im2col(x, n: n, c: c, h: h, w: w, kh: k, kw: k, stride: s, padding: p, ho: ho, wo: wo, col: &col)
            let dcol = randomArray(col.count, seed: 12), start = randomArray(x.count, seed: 13)
            var folded = start, expectedFold = start
            ImageKernels.col2im(dcol, n: n, c: c, h: h, w: w, kh: k, kw: k, stride: s, padding: p, ho: ho, wo: wo, x: &folded)
            var expectedCol = [Double](repeating: 0, count: col.count)
            for ch in 0..<c { for i in 0..<k { for j in 0..<k { for b in 0..<n { for oh in 0..<ho { for ow in 0..<wo {
                let e = ((ch * k + i) * k + j) * positions + (b * ho + oh) * wo + ow
                let ih = oh * s - p + i, iw = ow * s - p + j
                guard ih >= 0 && ih < h && iw >= 0 && iw < w else { continue }
                let pixel = ((b * c + ch) * h + ih) * w + iw
                expectedCol[e] = x[pixel]
                expectedFold[pixel] += dcol[e]
            } } } } } }
            XCTAssertEqual(zip(col, expectedCol).filter { $0 != $1 }.count, 0, "im2col entries off the formula, h \(h) w \(w) k \(k) s \(s) p \(p)")
            assertClose(folded, expectedFold, "col2im h \(h) w \(w) k \(k) s \(s) p \(p)")
        }
    }
}
