import XCTest
import LiftedTrain
@testable import Surfing

/// The parameters and buffers of a network as a snapshot.
func snapshot<S>(_ net: Network<S>) -> (parameters: [String: [Float]], buffers: [String: [Float]]) {
    (net.parameters.floatArrays(), net.buffers.floatArrays())
}
