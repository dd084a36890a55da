// Placeholder so the package builds on the `history` branch; the CLI branch replaces it.
print("lpom: command-line interface not implemented on this branch")
