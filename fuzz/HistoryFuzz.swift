// libFuzzer harness: HDF5 history files through `FuzzTargets.history`, the load path of
// `lpom eval` (open and validate, parse the model and training JSON, check shapes, read the
// final snapshot). Each input is written to one file in a RAM-backed directory and opened by
// path, so the code under test is exactly the commands' (no in-memory file driver), and removed
// again. After each input no HDF5 identifier may remain open: a leak would let the next input see
// stale state. Built and run by scripts/fuzz.sh.
import CHDF5
import Foundation

private let historyPath: String = {
    let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return (dir as NSString).appendingPathComponent("lpom-history-fuzz-\(getpid()).h5")
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let file = fopen(historyPath, "wb") else { fatalError("cannot write \(historyPath)") }
    let written = fwrite(data, 1, size, file)
    fclose(file)
    guard written == size else { fatalError("short write to \(historyPath)") }
    _ = try? FuzzTargets.history(path: historyPath)
    unlink(historyPath)
    // H5F_OBJ_ALL, spelled out (the macro does not import): every kind, in every file.
    let all = H5F_OBJ_FILE | H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR
    let open = H5Fget_obj_count(hid_t(all), all)
    if open != 0 { fatalError("\(open) HDF5 identifiers left open after reading a history") }
    return 0
}
