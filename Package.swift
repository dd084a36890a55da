// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "lpom",
    // Linux only (Debian/Ubuntu packages, scripts/install.sh). SwiftPM's `platforms` can only name
    // Apple systems, none of which lpom is built or tested on, so there is no such line.
    products: [
        .executable(name: "lpom", targets: ["lpom"]),
        .library(name: "LiftedTrain", targets: ["LiftedTrain"]),
        .library(name: "HistoryStore", targets: ["HistoryStore"]),
        .library(name: "ImageData", targets: ["ImageData"]),
        .library(name: "LiftedHistory", targets: ["LiftedHistory"]),
        .library(name: "ArchFromOpt", targets: ["ArchFromOpt"]),
        .library(name: "Surfing", targets: ["Surfing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Thin system-library targets: the only places that see the C headers.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", path: "Sources/CLAPACKE", pkgConfig: "lapacke",
                       providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // OpenMPI (`ompi-c`, not the `mpi-c` alternative, which may point to MPICH).
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        // I/O without numerics: the HDF5 training-history store and the IDX image readers.
        // A JSON value shared by the two: the model's extension fields and the record's free parts.
        .target(name: "JSONValues"),
        .target(name: "HistoryStore", dependencies: ["CHDF5", "JSONValues"]),
        .target(name: "ImageData", dependencies: ["CZlib"]),
        // Numerics without I/O: tensors, layers, networks, trainers (rooms in Sources/LiftedTrain/*/).
        .target(name: "LiftedTrain", dependencies: ["CBLAS", "CLAPACKE", "JSONValues"],
                exclude: ["Core/README.md", "Kernels/README.md", "Runtime/README.md", "Layers/README.md",
                          "Model/README.md", "Training/README.md", "Data/README.md", "LPOM/README.md",
                          "GaussNewton/README.md", "Lifted/README.md"]),
        // The glue: a history snapshot (named arrays) into a Network.
        .target(name: "LiftedHistory", dependencies: ["LiftedTrain", "HistoryStore"]),
        .target(name: "ArchFromOpt", dependencies: ["LiftedTrain"]),
        .target(name: "Surfing", dependencies: ["LiftedTrain"]),
        // The MPI transport behind LiftedTrain's `Collective` seam (numerics never import MPI).
        .target(name: "MPITransport", dependencies: ["CMPI", "LiftedTrain"]),
        .executableTarget(name: "lpom", dependencies: [
            "LiftedTrain", "ArchFromOpt", "Surfing", "HistoryStore", "ImageData", "LiftedHistory", "CZlib", "MPITransport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // What every test target shares: one assertClose, the random fixtures, the paths (a regular
        // target: a test target cannot depend on another test target).
        .target(name: "TestSupport", dependencies: ["LiftedTrain"], path: "Tests/TestSupport"),
        .testTarget(name: "LiftedTrainTests", dependencies: ["LiftedTrain", "ImageData", "TestSupport"]),
        .testTarget(name: "HistoryStoreTests", dependencies: ["HistoryStore", "LiftedTrain", "TestSupport"]),
        .testTarget(name: "ImageDataTests", dependencies: ["ImageData", "TestSupport"]),
        .testTarget(name: "LiftedHistoryTests", dependencies: ["LiftedHistory", "LiftedTrain", "HistoryStore", "TestSupport"]),
        .testTarget(name: "ArchFromOptTests", dependencies: ["ArchFromOpt", "LiftedTrain", "TestSupport"]),
        .testTarget(name: "lpomTests", dependencies: ["lpom", "LiftedTrain", "ArchFromOpt", "Surfing",
                                                      "HistoryStore", "LiftedHistory", "ImageData", "TestSupport", "CZlib"]),
        .testTarget(name: "SurfingTests", dependencies: ["Surfing", "LiftedTrain", "ImageData", "TestSupport"]),
    ]
)
