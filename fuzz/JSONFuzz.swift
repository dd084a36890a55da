// libFuzzer harness: the JSON texts a history carries, through `FuzzTargets.json` — the model
// description (parsed, built into a network with ArchFromOpt's recurrence layers, run on one
// sample when small) and the training description (as `eval`, `ntk`, `surf`, `inspect` and
// `train --resume` read it). The first input byte picks which. Built and run by scripts/fuzz.sh.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? FuzzTargets.json(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
