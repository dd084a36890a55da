// libFuzzer harness: IDX image and label data, raw and gzip-compressed, through
// `FuzzTargets.idx` (IDXFile(bytes:) and LabeledImages(imagesBytes:labelsBytes:), the parser
// that `IDXFile(path:)` runs on files). Built and run by scripts/fuzz.sh.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? FuzzTargets.idx(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
