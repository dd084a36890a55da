import Foundation
import HistoryStore
import ImageData
import LiftedTrain
import Surfing

/// `lpom surf --targets FILE`: the user's own targets — images to invert, or latents x* whose
/// images G(x*) are inverted (success then measurable) — and `--save FILE`: what was found.
enum SurfTargets {
    /// Images `[N, n]` in the generator's pixel range, or latents `[N, k]`.
    enum Loaded { case images(Tensor<Float>), latents(Tensor<Float>) }

    /// Reads FILE: a PNG, a folder of PNGs (sorted by name), an IDX file (raw or gzip), a NumPy
    /// `.npy` array, or an HDF5 dataset (`FILE.h5:NAME`, or the file's only dataset). An array's
    /// rows are images when each holds n = C·H·W values, latents when it holds k. Integer pixels
    /// count 0…255 and are divided by 255 (the history's data are scaled so); float pixels must
    /// already lie in [0, 1]. At most `limit` rows are used.
    static func load(_ spec: String, latent k: Int, imageShape shape: [Int], limit: Int) throws -> Loaded {
        let n = shape.reduce(1, *)
        var isDirectory: ObjCBool = false
        var (path, dataset) = (spec, nil as String?)
        if !FileManager.default.fileExists(atPath: spec), let colon = spec.lastIndex(of: ":") {
            (path, dataset) = (String(spec[..<colon]), String(spec[spec.index(after: colon)...]))
        }
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CommandError("--targets \(path): no such file or folder")
        }
        if isDirectory.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.lowercased().hasSuffix(".png") }.sorted()
            guard !names.isEmpty else { throw CommandError("--targets \(path): the folder holds no .png files") }
            let images = try names.prefix(limit).map { try pngPixels("\(path)/\($0)", shape: shape) }
            return .images(try checked(images.flatMap { $0 }, rows: images.count, cols: n, path: path, pixels: true))
        }
        let bytes = try fileHead(path)
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
            return .images(try checked(try pngPixels(path, shape: shape), rows: 1, cols: n, path: path, pixels: true))
        }
        let array: (shape: [Int], values: [Double], isInteger: Bool)
        if bytes.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) {
            let a = try NPYArray(path: path)
            array = (a.shape, a.values, a.isInteger)
        } else if bytes.starts(with: [0x89, 0x48, 0x44, 0x46]) {
            let names = try HDF5Arrays.datasetNames(path: path)
            guard let name = dataset ?? (names.count == 1 ? names[0] : nil) else {
                throw CommandError("--targets \(path): name the dataset as \(path):NAME (datasets: \(names.joined(separator: ", ")))")
            }
            array = try HDF5Arrays.read(path: path, dataset: name)
        } else {
            do {
                let idx = try IDXFile(path: path)
                array = (idx.dims, idx.bytes.map(Double.init), true)
            } catch {
                throw CommandError("--targets \(path): not a PNG, .npy, HDF5 or IDX file")
            }
        }
        let rows = array.shape.count <= 1 ? 1 : array.shape[0]
        let cols = rows == 0 ? 0 : array.values.count / rows
        guard rows > 0 else { throw CommandError("--targets \(path): the array is empty") }
        let used = min(rows, limit)
        let values = Array(array.values.prefix(used * cols))
        if cols == n {
            return .images(try checked(array.isInteger ? values.map { $0 / 255 } : values, rows: used, cols: n, path: path, pixels: true))
        }
        if cols == k { return .latents(try checked(values, rows: used, cols: k, path: path, pixels: false)) }
        throw CommandError("--targets \(path): its rows hold \(cols) values (shape \(array.shape)); the generator outputs \(shape.map(String.init).joined(separator: "×")) = \(n) pixels and takes \(k) latents")
    }

    /// The first bytes of a file (format detection).
    static func fileHead(_ path: String) throws -> [UInt8] {
        guard let h = FileHandle(forReadingAtPath: path) else { throw CommandError("--targets \(path): cannot read the file") }
        defer { try? h.close() }
        return [UInt8](h.readData(ofLength: 8))
    }

    /// A PNG's pixels in [0, 1] as the generator's [C, H, W] layout (grey + alpha keeps grey).
    static func pngPixels(_ path: String, shape: [Int]) throws -> [Double] {
        let image: PNGImage
        do { image = try PNGImage(path: path) } catch let e as DataError { throw CommandError("--targets \(e.description)") }
        let (c, h, w) = (shape[0], shape[1], shape[2])
        guard image.height == h && image.width == w else {
            throw CommandError("--targets \(path): the image is \(image.width)×\(image.height), the generator outputs \(w)×\(h)")
        }
        let use = c == 1 && image.channels <= 2 ? 1 : (c == 3 && image.channels >= 3 ? 3 : 0)
        guard use > 0 else {
            throw CommandError("--targets \(path): the image has \(image.channels) channel(s), the generator outputs \(c)")
        }
        var out = [Double](repeating: 0, count: c * h * w)
        for ch in 0..<c {
            for p in 0..<(h * w) { out[ch * h * w + p] = Double(image.samples[p * image.channels + ch]) / 255 }
        }
        return out
    }

    /// The values as a `[rows, cols]` tensor, refused when one is not finite or a pixel lies outside [0, 1].
    static func checked(_ v: [Double], rows: Int, cols: Int, path: String, pixels: Bool) throws -> Tensor<Float> {
        if let i = v.firstIndex(where: { !$0.isFinite }) {
            throw CommandError("--targets \(path): row \(i / max(1, cols)) holds a NaN or infinite value")
        }
        if pixels, let i = v.firstIndex(where: { $0 < 0 || $0 > 1 }) {
            throw CommandError("--targets \(path): pixel value \(v[i]) (row \(i / max(1, cols))) lies outside [0, 1]; store integers 0–255 or floats scaled to [0, 1]")
        }
        return Tensor(shape: [rows, cols], data: v.map(Float.init))
    }

    /// The trials of loaded targets: images with unknown x*, or latents x* with y = G(x*) on
    /// the final network; starting points as for the built-in targets of the same seed.
    static func trials(_ loaded: Loaded, problem: InversionProblem<Float>, prior: LatentDistribution,
                       restarts: Int, seed: UInt64) -> InversionTrials<Float> {
        switch loaded {
        case .images(let y):
            return InversionTrials.signals(y, latentSize: problem.latentSize, distribution: prior, restarts: restarts, seed: seed)
        case .latents(let x):
            let base = InversionTrials.signals(problem.generate(x), latentSize: problem.latentSize, distribution: prior,
                                               restarts: restarts, seed: seed)
            return InversionTrials(signals: base.signals, truth: x, starts: base.starts)
        }
    }

    /// Writes x̂, G(x̂), the targets y, x* when known, and per trial loss, RMSE, ‖x̂ − x*‖ (NaN
    /// when unknown), success (1, 0; −1 unknown), iterations and final-network iterations.
    static func save(_ path: String, results: [TrialResult], trials: InversionTrials<Float>, problem: InversionProblem<Float>) throws {
        let n = results.count, k = problem.latentSize, size = problem.signalSize
        let xs = results.flatMap(\.x)
        let g = problem.generate(Tensor(shape: [n, k], data: xs.map(Float.init)))
        var arrays: [HDF5Arrays.Array] = [
            .init("x_hat", shape: [n, k], values: xs),
            .init("generated", shape: [n, size], values: g.data.map(Double.init)),
            .init("targets", shape: [n, size], values: trials.signals.data.map(Double.init)),
            .init("loss", shape: [n], values: results.map(\.loss)),
            .init("rmse", shape: [n], values: results.map(\.rmse)),
            .init("distance", shape: [n], values: results.map { $0.distance ?? .nan }),
            .init("success", shape: [n], values: results.map { $0.success.map { $0 ? 1 : 0 } ?? -1 }),
            .init("iterations", shape: [n], values: results.map { Double($0.iterations) }),
            .init("final_iterations", shape: [n], values: results.map { Double($0.finalIterations) }),
        ]
        if let t = trials.truth { arrays.append(.init("x_star", shape: [n, k], values: t.data.map(Double.init))) }
        try HDF5Arrays.write(path: path, arrays)
    }
}
