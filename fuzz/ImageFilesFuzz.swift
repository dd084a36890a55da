// libFuzzer harness: the PNG and .npy readers of `lpom surf --targets` (PNGImage(bytes:),
// NPYArray(bytes:)), through `FuzzTargets.images`. Built and run by scripts/fuzz.sh.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? FuzzTargets.images(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
