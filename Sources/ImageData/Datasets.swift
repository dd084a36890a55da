import Foundation

/// A labelled image set: N images of rows×cols pixels (bytes), labels 0..<classes.
public struct LabeledImages: Equatable, Sendable {
    /// The number of images N.
    public let count: Int
    /// Pixel rows per image.
    public let rows: Int
    /// Pixel columns per image.
    public let cols: Int
    /// `count × rows × cols` bytes, image after image, each row-major.
    public let pixels: [UInt8]
    /// `count` class labels.
    public let labels: [UInt8]

    /// A set built from arrays already in memory; throws unless `pixels` holds exactly
    /// `count × rows × cols` bytes and `labels` exactly `count` labels.
    public init(count: Int, rows: Int, cols: Int, pixels: [UInt8], labels: [UInt8]) throws {
        guard count >= 0, rows > 0, cols > 0 else {
            throw DataError("LabeledImages: bad shape \(count)×\(rows)×\(cols)")
        }
        let (area, overflow1) = rows.multipliedReportingOverflow(by: cols)
        let (size, overflow2) = count.multipliedReportingOverflow(by: area)
        guard !overflow1, !overflow2, pixels.count == size, labels.count == count else {
            throw DataError("LabeledImages: \(pixels.count) pixels and \(labels.count) labels "
                + "do not fit \(count) images of \(rows)×\(cols)")
        }
        self.count = count
        self.rows = rows
        self.cols = cols
        self.pixels = pixels
        self.labels = labels
    }

    /// Reads an IDX image file (`N × rows × cols`, magic 0x00000803) and an IDX label file
    /// (`N`, magic 0x00000801), raw or gzip, and checks that they agree in N and that every
    /// label is below `classCount`.
    public init(imagesPath: String, labelsPath: String,
                classCount: Int = ImageDataset.classCount) throws {
        try self.init(images: { try IDXFile(path: imagesPath) }, imagesPath: imagesPath,
                      labels: { try IDXFile(path: labelsPath) }, labelsPath: labelsPath, classCount: classCount)
    }

    /// The same from the two files' bytes in memory (raw or gzip), with the same checks;
    /// `imagesName` and `labelsName` stand for the paths in error messages.
    public init(imagesBytes: [UInt8], labelsBytes: [UInt8], imagesName: String = "<images>",
                labelsName: String = "<labels>", classCount: Int = ImageDataset.classCount) throws {
        try self.init(images: { try IDXFile(bytes: imagesBytes, name: imagesName) }, imagesPath: imagesName,
                      labels: { try IDXFile(bytes: labelsBytes, name: labelsName) }, labelsPath: labelsName,
                      classCount: classCount)
    }

    /// Parses the images, checks them, then parses and checks the labels.
    private init(images readImages: () throws -> IDXFile, imagesPath: String,
                 labels readLabels: () throws -> IDXFile, labelsPath: String, classCount: Int) throws {
        let images = try readImages()
        guard images.dims.count == 3 else {
            throw DataError(path: imagesPath, "expected 3-D images (magic 0x00000803), found "
                + "\(images.dims.count) dimensions \(images.dims)")
        }
        let labels = try readLabels()
        guard labels.dims.count == 1 else {
            throw DataError(path: labelsPath, "expected 1-D labels (magic 0x00000801), found "
                + "\(labels.dims.count) dimensions \(labels.dims)")
        }
        guard labels.dims[0] == images.dims[0] else {
            throw DataError(path: labelsPath, "\(labels.dims[0]) labels but \(images.dims[0]) "
                + "images in \(imagesPath)")
        }
        if let i = labels.bytes.firstIndex(where: { Int($0) >= classCount }) {
            throw DataError(path: labelsPath, "label \(labels.bytes[i]) at index \(i) is not "
                + "below \(classCount)")
        }
        self.count = images.dims[0]
        self.rows = images.dims[1]
        self.cols = images.dims[2]
        self.pixels = images.bytes
        self.labels = labels.bytes
    }
}

/// The data sets `data/setup.sh` installs; the raw value is the folder name under `data/`.
public enum DatasetName: String, CaseIterable, Sendable {
    /// MNIST handwritten digits (LeCun, Cortes & Burges).
    case mnist
    /// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017).
    case fashionMNIST = "fashion-mnist"
}

/// A data set's training and test images.
public struct ImageDataset: Equatable, Sendable {
    /// Which data set this is.
    public let name: DatasetName
    /// The training split (60,000 images for the full sets).
    public let train: LabeledImages
    /// The test split (10,000 images for the full sets).
    public let test: LabeledImages

    /// The number of classes of both data sets: labels are 0..<10.
    public static let classCount = 10

    /// A data set from splits already in memory.
    public init(name: DatasetName, train: LabeledImages, test: LabeledImages) {
        self.name = name
        self.train = train
        self.test = test
    }

    /// Loads <directory>/<name>/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (prefer .gz,
    /// fall back to raw). Checks that images and labels agree in count, labels < 10; missing
    /// file → DataError naming the file, `--data-dir`, `LPOM_DATA_DIR` and `bash data/setup.sh`.
    public static func load(_ name: DatasetName, directory: String) throws -> ImageDataset {
        let folder = (directory as NSString).appendingPathComponent(name.rawValue)
        func split(_ prefix: String) throws -> LabeledImages {
            try LabeledImages(imagesPath: try locate(folder, "\(prefix)-images-idx3-ubyte"),
                              labelsPath: try locate(folder, "\(prefix)-labels-idx1-ubyte"))
        }
        return ImageDataset(name: name, train: try split("train"), test: try split("t10k"))
    }

    /// The four files `load` reads, in the order train images, train labels, test images, test labels.
    public static func files(_ name: DatasetName, directory: String) throws -> [String] {
        let folder = (directory as NSString).appendingPathComponent(name.rawValue)
        return try ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
            .map { try locate(folder, $0) }
    }

    /// `<folder>/<stem>.gz` if it exists, else `<folder>/<stem>`, else an error.
    private static func locate(_ folder: String, _ stem: String) throws -> String {
        let gz = (folder as NSString).appendingPathComponent(stem + ".gz")
        let raw = (folder as NSString).appendingPathComponent(stem)
        let files = FileManager.default
        if files.fileExists(atPath: gz) { return gz }
        if files.fileExists(atPath: raw) { return raw }
        throw DataError(path: gz, "missing (nor is there an uncompressed \(stem)); pass --data-dir DIR or set "
            + "LPOM_DATA_DIR to the directory holding mnist/ and fashion-mnist/ (`bash data/setup.sh` in the lpom "
            + "repository fetches them into its data/)")
    }
}
