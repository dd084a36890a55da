/// A first-order optimizer: reads `store.grads` and updates `store.values` in place (weight decay
/// is added into `store.grads` first, so after `update` the gradients hold g + λθ).
/// Its state (velocities, moments) is plain data held in the optimizer value (optax style).
public protocol GradientOptimizer<Scalar> {
    /// The scalar type.
    associatedtype Scalar: NNScalar
    /// The step size η (schedules set it before each step).
    var learningRate: Scalar { get set }
    /// Applies one update to every parameter of `store` from its gradient.
    mutating func update(_ store: ParameterStore<Scalar>)
    /// Name for histories (`sgd`, `adam`).
    var name: String { get }
    /// Hyperparameters for the history's `training` JSON.
    var hyperparameters: [String: Double] { get }
    /// The state for the parameters of `store` as named flat arrays (`TrainerState.swift`).
    func exportState(for store: ParameterStore<Scalar>) -> [String: [Double]]
    /// The same state for a snapshot: arrays kept in Float handed over as they are (shared,
    /// not copied), the rest as Double. The history writer converts the Float ones off the
    /// training thread (`HistoryWriter.appendSnapshot(floatState:)`).
    func exportSnapshotState(for store: ParameterStore<Scalar>) -> SnapshotState
    /// Restores what `exportState` returned for the same parameters.
    mutating func importState(_ state: [String: [Double]], for store: ParameterStore<Scalar>) throws
}

/// Stochastic gradient descent with optional momentum (Polyak 1964), Nesterov momentum
/// (Nesterov 1983, in the form of Sutskever et al. 2013) and decoupled-from-nothing L2 weight decay,
/// as PyTorch's `torch.optim.SGD`:
///
///     g ← ∇L(θ) + λθ;   v ← μv + g;   θ ← θ − η (nesterov ? g + μv : v)
public struct SGD<Scalar: NNScalar>: GradientOptimizer {
    /// Learning rate η.
    public var learningRate: Scalar
    /// Momentum μ (0 = plain SGD).
    public var momentum: Scalar
    /// Nesterov's variant of momentum.
    public var nesterov: Bool
    /// L2 weight decay λ.
    public var weightDecay: Scalar
    /// Velocities, one per parameter (created on first use).
    public var velocity: [Tensor<Scalar>] = []

    /// SGD with the given hyperparameters.
    public init(learningRate: Scalar, momentum: Scalar = 0, nesterov: Bool = false, weightDecay: Scalar = 0) {
        self.learningRate = learningRate; self.momentum = momentum
        self.nesterov = nesterov; self.weightDecay = weightDecay
    }

    public var name: String { "sgd" }
    public var hyperparameters: [String: Double] {
        ["lr": decimal(learningRate), "momentum": decimal(momentum), "nesterov": nesterov ? 1 : 0,
         "weight_decay": decimal(weightDecay)]
    }

    public mutating func update(_ store: ParameterStore<Scalar>) {
        if velocity.count != store.values.count { velocity = store.values.map { Tensor(zeros: $0.shape) } }
        for i in store.values.indices {
            if weightDecay != 0 { store.grads[i].add(store.values[i], scaledBy: weightDecay) }
            if momentum == 0 {
                store.values[i].add(store.grads[i], scaledBy: -learningRate)
                continue
            }
            velocity[i].scale(by: momentum)
            velocity[i].add(store.grads[i])
            if nesterov {
                store.values[i].add(store.grads[i], scaledBy: -learningRate)
                store.values[i].add(velocity[i], scaledBy: -learningRate * momentum)
            } else {
                store.values[i].add(velocity[i], scaledBy: -learningRate)
            }
        }
    }
}

/// Adam (Kingma & Ba 2015), as `torch.optim.Adam` with L2 weight decay:
///
///     g ← ∇L(θ) + λθ;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
///     θ ← θ − η (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)
public struct Adam<Scalar: NNScalar>: GradientOptimizer {
    /// Learning rate η.
    public var learningRate: Scalar
    /// β₁.
    public var beta1: Scalar
    /// β₂.
    public var beta2: Scalar
    /// ε.
    public var epsilon: Scalar
    /// L2 weight decay λ.
    public var weightDecay: Scalar
    /// Steps taken (t).
    public var step = 0
    /// First moments.
    public var m: [Tensor<Scalar>] = []
    /// Second moments.
    public var v: [Tensor<Scalar>] = []

    /// Adam with the given hyperparameters.
    public init(learningRate: Scalar = 1e-3, beta1: Scalar = 0.9, beta2: Scalar = 0.999,
                epsilon: Scalar = 1e-8, weightDecay: Scalar = 0) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2
        self.epsilon = epsilon; self.weightDecay = weightDecay
    }

    public var name: String { "adam" }
    public var hyperparameters: [String: Double] {
        ["lr": decimal(learningRate), "beta1": decimal(beta1), "beta2": decimal(beta2),
         "eps": decimal(epsilon), "weight_decay": decimal(weightDecay)]
    }

    /// Forgets the moments and the step count (surfing resets Adam at each snapshot).
    public mutating func reset() { step = 0; m = []; v = [] }

    public mutating func update(_ store: ParameterStore<Scalar>) {
        if m.count != store.values.count {
            m = store.values.map { Tensor(zeros: $0.shape) }
            v = m
        }
        step += 1
        let c1 = 1 - pow(beta1, step)
        let c2 = 1 - pow(beta2, step)
        for i in store.values.indices {
            if weightDecay != 0 { store.grads[i].add(store.values[i], scaledBy: weightDecay) }
            let (lr, b1, b2, eps) = (learningRate, beta1, beta2, epsilon)
            store.grads[i].data.withUnsafeBufferPointer { g in
                store.values[i].data.withUnsafeMutableBufferPointer { p in
                    m[i].data.withUnsafeMutableBufferPointer { pm in
                        v[i].data.withUnsafeMutableBufferPointer { pv in
                            Scalar.adamStep(p: p, g: g, m: pm, v: pv, lr: lr, beta1: b1, beta2: b2,
                                            eps: eps, correction1: c1, correction2: c2)
                        }
                    }
                }
            }
        }
    }
}

/// A Float hyperparameter as the Double a person typed (0.9, not 0.8999999761581421).
func decimal<S: NNScalar>(_ x: S) -> Double { Double(x.description) ?? Double(x) }

@inline(__always) func pow<S: NNScalar>(_ x: S, _ n: Int) -> S {
    S(Foundation.pow(Double(x), Double(n)))
}

import Foundation
