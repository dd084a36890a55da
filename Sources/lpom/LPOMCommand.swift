import ArgumentParser
import Foundation
import LiftedTrain

@main
struct LPOMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lpom",
        abstract: "Train neural networks with or without backpropagation, and look inside the training run afterwards.",
        discussion: """
        Every training run saves its parameters θ_t (every --snapshot-every N steps, each epoch, or log-spaced) into an HDF5 history \
        (format: docs/HISTORY-FORMAT.md) that `eval` and `inspect` read back.

        Examples:
          lpom train --method sgd --dataset mnist --layers 300,100 --epochs 10 --history runs/sgd.h5
          lpom eval runs/sgd.h5 --snapshot -1
          lpom inspect runs/sgd.h5 --plot runs/sgd.svg
          lpom runs runs/
          lpom export runs/sgd.h5 --output sgd.safetensors
        """,
        version: lpomVersion,
        subcommands: [TrainCommand.self, EvalCommand.self, InspectCommand.self, CompareCommand.self, NTKCommand.self, SurfCommand.self,
                      BenchCommand.self, ExportCommand.self, RunsCommand.self, PackCommand.self]
    )
}

/// Program version recorded in every history's `created_by`.
let lpomVersion = "0.1.0"
