extension LPOMTrainer {
    public func distributeLayers(over c: any Collective, asynchronous: Bool) throws {
        throw TrainingError("layer-parallel LPOM: not built yet")
    }
    public var partitionDescription: String { "" }
}
