import ArgumentParser

@main
struct LPOMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lpom", abstract: "lpom")
}
